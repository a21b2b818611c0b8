"""Console accounts, sessions, sign-in limits, audit, gap marks and overview figures on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.accounts import Role, SessionStore, SignInLimiter, UserStore
from bot.adapters.console_store import AuditLog, DayCount, DocumentStats, GapStore, IngestRun, OverviewStats
from bot.adapters.state import AnswerStore, IngestLog
from bot.adapters.tables import console_users
from bot.core.digest import GapReason
from bot.core.models import IngestAction, IngestEvent
from bot.core.ports import AnswerEntry, AnswerId
from bot.errors import ConfigError

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


async def test_passwords_are_hashed_and_verified(engine: AsyncEngine) -> None:
    users = UserStore(engine)
    await users.add("eva", Role.EDITOR, "lang-genoeg-wachtwoord", T0)
    async with engine.connect() as conn:
        stored = (await conn.execute(select(console_users.c.password_hash))).scalar_one()
    assert stored.startswith("$argon2id$") and "lang-genoeg" not in stored
    assert (await users.verify("eva", "lang-genoeg-wachtwoord")).role is Role.EDITOR  # type: ignore[union-attr]
    assert await users.verify("eva", "fout") is None
    assert await users.verify("niemand", "lang-genoeg-wachtwoord") is None
    with pytest.raises(ConfigError, match="exists"):
        await users.add("eva", Role.OMO, "nog-een-wachtwoord", T0)
    with pytest.raises(ConfigError, match="invalid account name"):
        await users.add("Eva Smit", Role.OMO, "nog-een-wachtwoord", T0)


async def test_sessions_survive_instances_and_end_with_a_new_password(engine: AsyncEngine) -> None:
    users = UserStore(engine)
    await users.add("omar", Role.OMO, "lang-genoeg-wachtwoord", T0)
    user = await users.verify("omar", "lang-genoeg-wachtwoord")
    assert user is not None
    token, session = await SessionStore(engine, timedelta(hours=8)).create(user, T0)
    other_instance = SessionStore(engine, timedelta(hours=8))
    found = await other_instance.get(token, T0 + timedelta(hours=1))
    assert found is not None and found.user.name == "omar" and found.csrf_token == session.csrf_token
    assert await other_instance.get(token, T0 + timedelta(hours=8, seconds=1)) is None  # expired
    assert await other_instance.get("made-up", T0) is None
    await users.set_password("omar", "een-ander-wachtwoord", T0)
    assert await other_instance.get(token, T0 + timedelta(hours=1)) is None


async def test_sign_in_failures_block_one_name_and_address(engine: AsyncEngine) -> None:
    limiter = SignInLimiter(engine, max_failures=2, window=timedelta(minutes=15))
    for _ in range(2):
        await limiter.failed("eva", "10.0.0.1", T0)
    assert await limiter.blocked("eva", "10.0.0.1", T0 + timedelta(minutes=1))
    assert not await limiter.blocked("eva", "10.0.0.2", T0 + timedelta(minutes=1))
    assert not await limiter.blocked("eva", "10.0.0.1", T0 + timedelta(minutes=16))
    await limiter.succeeded("eva", "10.0.0.1")
    assert not await limiter.blocked("eva", "10.0.0.1", T0 + timedelta(minutes=1))


async def test_gaps_feedback_counts_and_audit(engine: AsyncEngine) -> None:
    answers = AnswerStore(engine)

    async def answer(answer_id: str, confident: bool, minutes: int) -> None:
        at = T0 + timedelta(minutes=minutes)
        doc_ids = ("doc-a",) if confident else ()
        await answers.record(
            AnswerEntry(AnswerId(answer_id), "matrix", "!r", None, f"vraag {answer_id}", doc_ids, confident, at)
        )

    await answer("refused", False, 0)
    await answer("liked", True, 1)
    await answer("disliked", True, 2)
    await answers.add_feedback("liked", "@u:x", True, T0 + timedelta(minutes=3))
    await answers.add_feedback("disliked", "@u:x", False, T0 + timedelta(minutes=4))
    gaps = GapStore(engine)
    found = await gaps.open_gaps(T0 - timedelta(days=1))
    assert [(g.answer_id, g.reason) for g in found] == [
        ("disliked", GapReason.DISLIKED),
        ("refused", GapReason.REFUSED),
    ]
    assert await gaps.mark_handled(["refused", "refused"], "eva", "FAQ aangevuld", T0) == 1
    assert await gaps.mark_handled(["refused"], "eva", "nogmaals", T0) == 0
    assert [g.answer_id for g in await gaps.open_gaps(T0 - timedelta(days=1))] == ["disliked"]
    assert await DocumentStats(engine).votes() == {"doc-a": (1, 1)}

    audit = AuditLog(engine)
    await audit.record("eva", "gap_handled", T0, target="refused")
    await audit.record("omar", "case_claim", T0, target="OMO-2026-0001")
    assert [e.action for e in await audit.entries()] == ["case_claim", "gap_handled"]
    assert [e.actor for e in await audit.entries(target="refused")] == ["eva"]


async def test_last_ingest_per_document(engine: AsyncEngine) -> None:
    def event(action: IngestAction, doc_id: str, minutes: int) -> IngestEvent:
        return IngestEvent(run_id="r", at=T0 + timedelta(minutes=minutes), action=action, doc_id=doc_id)

    await IngestLog(engine).append(
        [
            event(IngestAction.ADDED, "doc-a", 0),
            event(IngestAction.UPDATED, "doc-a", 5),
            event(IngestAction.REMOVED, "doc-a", 9),
            event(IngestAction.FAILED, "doc-b", 9),
        ]
    )
    assert await DocumentStats(engine).last_ingests() == {"doc-a": T0 + timedelta(minutes=5)}


async def test_overview_counts_answers_per_local_day_and_sums_ingest_runs(engine: AsyncEngine) -> None:
    answers = AnswerStore(engine)
    # Amsterdam is UTC+1 in early March: 23:00 UTC is already the next local day
    for n, (moment, confident) in enumerate(
        [
            (datetime(2026, 2, 28, 22, 59, tzinfo=UTC), True),  # 23:59 on 28 February: before the window
            (datetime(2026, 2, 28, 23, 0, tzinfo=UTC), True),  # midnight: the first day's first moment
            (datetime(2026, 3, 1, 22, 30, tzinfo=UTC), False),
            (datetime(2026, 3, 1, 23, 30, tzinfo=UTC), False),  # 00:30 on 2 March
            (datetime(2026, 3, 3, 23, 0, tzinfo=UTC), True),  # midnight after the last day: outside
        ]
    ):
        await answers.record(AnswerEntry(AnswerId(f"a{n}"), "matrix", "!r:test", None, "Vraag?", (), confident, moment))
    days = [date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3)]
    assert await OverviewStats(engine).questions_per_day(days, ZoneInfo("Europe/Amsterdam")) == [
        DayCount(date(2026, 3, 1), 2, 1),
        DayCount(date(2026, 3, 2), 1, 1),
        DayCount(date(2026, 3, 3), 0, 0),
    ]
    await IngestLog(engine).append(
        [
            IngestEvent("r1", T0, IngestAction.ADDED, "a.md"),
            IngestEvent("r1", T0 + timedelta(seconds=5), IngestAction.FAILED, "b.pdf"),
            IngestEvent("r2", T0 + timedelta(days=1), IngestAction.REMOVED, "a.md"),
            IngestEvent("r3", T0 + timedelta(days=2), IngestAction.UPDATED, "c.md"),
        ]
    )
    runs = await OverviewStats(engine).ingest_runs(2)
    assert runs == [
        IngestRun("r3", T0 + timedelta(days=2), T0 + timedelta(days=2), 0, 1, 0, 0),
        IngestRun("r2", T0 + timedelta(days=1), T0 + timedelta(days=1), 0, 0, 1, 0),
    ]
    assert (await OverviewStats(engine).ingest_runs(5))[-1] == IngestRun(
        "r1", T0, T0 + timedelta(seconds=5), 1, 0, 0, 1
    )
    assert await OverviewStats(engine).open_cases_by_urgency() == {}


async def test_the_median_answer_time_counts_timed_answers_since_a_moment(engine: AsyncEngine) -> None:
    answers, stats = AnswerStore(engine), OverviewStats(engine)
    assert await stats.median_answer_ms(T0) is None
    # (minutes after T0, ms): one before the window, one without a time (recorded before 0008)
    for n, (minutes, ms) in enumerate([(-1, 9000), (0, None), (1, 800), (2, 3000), (3, 500)]):
        at = T0 + timedelta(minutes=minutes)
        entry = AnswerEntry(AnswerId(f"a{n}"), "matrix", "!r:test", None, "Vraag?", (), True, at, answer_ms=ms)
        await answers.record(entry)
    assert await stats.median_answer_ms(T0) == 800  # 500, 800, 3000
    assert (await answers.find(answer_id="a2")) == AnswerEntry(
        AnswerId("a2"), "matrix", "!r:test", None, "Vraag?", (), True, T0 + timedelta(minutes=1), answer_ms=800
    )
    await answers.record(AnswerEntry(AnswerId("a9"), "matrix", "!r:test", None, "?", (), True, T0, answer_ms=1200))
    assert await stats.median_answer_ms(T0) == 1000  # 500, 800 | 1200, 3000
