"""`DigestStore`: subscriptions, and the once-per-day claim when several bot instances share one database."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.db import create_engine, migrate
from bot.adapters.digest_store import OUTBOX_KIND, CaseDigestSource, DigestStore
from bot.adapters.outbox import OutboxWorker
from bot.adapters.state import IngestLog
from bot.adapters.tables import outbox
from bot.core.digest import Audience
from bot.core.digest_service import DigestPolicy, DigestService
from bot.core.escalation import Attachment, Case, CaseRef, CaseRequest, CaseState, Requester
from tests.conftest import Postgres
from tests.fakes import FakeChannel

pytestmark = pytest.mark.integration

AT = datetime(2026, 1, 1, tzinfo=UTC)


async def test_subscribe_update_unsubscribe(engine: AsyncEngine) -> None:
    store = DigestStore(engine)
    first = await store.subscribe("matrix", "!a:x", None, Audience(), AT)
    again = await store.subscribe("matrix", "!a:x", time(7, 45), Audience(editors=True), AT)
    assert again.id == first.id and again.send_time == time(7, 45) and again.audience == Audience(editors=True)
    await store.subscribe("teams", "19:b", None, Audience(), AT)
    assert [s.conversation_id for s in await store.active()] == ["!a:x", "19:b"]
    assert await store.unsubscribe("matrix", "!a:x") is True
    assert await store.unsubscribe("matrix", "!a:x") is False
    assert await store.get("matrix", "!a:x") is None
    assert [s.channel for s in await store.active()] == ["teams"]


async def test_claim_is_once_per_day(engine: AsyncEngine) -> None:
    store = DigestStore(engine)
    sub = await store.subscribe("matrix", "!a:x", None, Audience(), AT)
    day = date(2026, 1, 5)
    assert await store.deliver(sub, day, AT, ["een"], audience=Audience(), force=False) is True
    assert await store.deliver(sub, day, AT, ["twee"], audience=Audience(), force=False) is False
    assert await store.deliver(sub, date(2026, 1, 6), AT, ["drie"], audience=Audience(), force=False) is True
    stored = await store.get("matrix", "!a:x")
    assert stored is not None and stored.last_sent_date == date(2026, 1, 6) and stored.last_sent_at == AT
    async with engine.connect() as conn:
        count = (await conn.execute(select(func.count()).select_from(outbox))).scalar_one()
    assert count == 2


async def _race(url: str, rooms: int) -> None:
    """Two instances (own engines, own services) tick at the same moment, many times over."""
    engines = [create_engine(url), create_engine(url)]
    try:
        await migrate(engines[0])
        store = DigestStore(engines[0])
        for i in range(rooms):
            await store.subscribe("fake", f"!room{i}:x", None, Audience(), AT)
        services = [DigestService(DigestStore(e), IngestLog(e), None, DigestPolicy()) for e in engines]
        with time_machine.travel(datetime(2026, 1, 5, 8, 0, tzinfo=UTC), tick=False):
            claims = await asyncio.gather(*(s.tick() for _ in range(3) for s in services))
        assert sum(claims) == rooms
        async with engines[0].connect() as conn:
            rows = (
                await conn.execute(
                    select(outbox.c.conversation_id, func.count())
                    .where(outbox.c.kind == OUTBOX_KIND)
                    .group_by(outbox.c.conversation_id)
                )
            ).all()
        assert sorted(rows) == sorted((f"!room{i}:x", 1) for i in range(rooms))
        # and the two instances' outbox workers deliver each message once
        channels = [FakeChannel(), FakeChannel()]
        workers = [OutboxWorker(e, {"fake": c}) for e, c in zip(engines, channels, strict=True)]
        for _ in range(3):
            await asyncio.gather(*(w.deliver_due() for w in workers))
        delivered = sorted(ref.conversation_id for c in channels for ref, _ in c.sent)
        assert delivered == sorted(f"!room{i}:x" for i in range(rooms))
    finally:
        for e in engines:
            await e.dispose()


async def test_two_instances_on_postgresql_send_once(postgres: Postgres) -> None:
    await _race(postgres.new_database(), rooms=12)


async def test_two_instances_on_sqlite_send_once(tmp_path: Path) -> None:
    await _race(f"sqlite+aiosqlite:///{tmp_path / 'state.db'}", rooms=5)


class ListedCases:
    def __init__(self, cases: list[Case]) -> None:
        self.cases = cases

    async def list_cases(self, *, open_only: bool = True) -> list[Case]:
        assert open_only
        return self.cases


def _case(ref: str, urgency: str, created: datetime, claimed_by: str | None = None) -> Case:
    return Case(
        ref=CaseRef(ref),
        state=CaseState.CLAIMED if claimed_by else CaseState.NEW,
        request=CaseRequest("Utrecht", "demonstratie", urgency, "Geheime beschrijving", "06-12345678"),
        requester=Requester("matrix", "@jan:x", "Jan", "!dm:x", None),
        attachment=Attachment(),
        created_at=created,
        updated_at=created,
        claimed_by=claimed_by,
    )


async def test_open_cases_for_the_digest_show_no_description_or_contact() -> None:
    source = CaseDigestSource(
        ListedCases([_case("OMO-2026-0001", "normaal", AT, "@omo:x"), _case("OMO-2026-0002", "spoed", AT)])
    )
    found = {c.case_id: c for c in await source.open_cases()}
    assert found["OMO-2026-0002"].rank == 0 and found["OMO-2026-0001"].rank == 1
    assert found["OMO-2026-0002"].urgency == "Spoed (binnen 24 uur)"
    assert found["OMO-2026-0002"].subject == "Demonstratie of ordeverstoring, Utrecht (nog niet opgepakt)"
    assert found["OMO-2026-0001"].subject == "Demonstratie of ordeverstoring, Utrecht"
    assert all("Geheime" not in c.subject and "0612" not in c.subject for c in found.values())
