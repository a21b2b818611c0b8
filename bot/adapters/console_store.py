"""What the web console reads and writes besides accounts: its audit trail, knowledge gaps and handled marks,
per document its 👍/👎 counts and last ingest, and the overview's figures.

Every console action is one row in `console_audit` (who, what, on what, when). A gap marked handled is
stored per answer it covered, so a new question like it later shows up as a new gap.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import ColumnElement

from bot.adapters.sql import aware, upsert
from bot.adapters.tables import answers, cases, console_audit, feedback, gap_notes, ingest_events
from bot.core.digest import GapReason
from bot.core.escalation import CaseState
from bot.core.gaps import GapQuestion
from bot.core.models import IngestAction

__all__ = ["AuditEntry", "AuditLog", "DayCount", "DocumentStats", "GapStore", "IngestRun", "OverviewStats"]


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: datetime
    actor: str
    action: str
    target: str | None
    detail: str | None


class AuditLog:
    """Append-only record of console actions; `detail` never holds a password or a message body."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def record(
        self, actor: str, action: str, at: datetime, target: str | None = None, detail: str | None = None
    ) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                insert(console_audit).values(at=at, actor=actor, action=action, target=target, detail=detail)
            )

    async def entries(self, *, target: str | None = None, limit: int = 200) -> list[AuditEntry]:
        """The newest entries first, optionally only those about `target`."""
        query = select(console_audit).order_by(console_audit.c.id.desc()).limit(limit)
        if target is not None:
            query = query.where(console_audit.c.target == target)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [AuditEntry(aware(r["at"]), r["actor"], r["action"], r["target"], r["detail"]) for r in rows]


class GapStore:
    """Refused and 👎'd answers not yet marked handled, and the marks."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def open_gaps(self, since: datetime) -> list[GapQuestion]:
        """Answers after `since` that were refused or got a 👎 and are not marked handled, newest first."""
        handled = select(gap_notes.c.answer_id)
        refused = select(answers.c.answer_id, answers.c.question, answers.c.at).where(
            answers.c.confident.is_(False) & (answers.c.at > since) & answers.c.answer_id.not_in(handled)
        )
        disliked = (
            select(answers.c.answer_id, answers.c.question, feedback.c.at)
            .select_from(feedback.join(answers, feedback.c.answer_id == answers.c.answer_id))
            .where(feedback.c.positive.is_(False) & (feedback.c.at > since) & answers.c.answer_id.not_in(handled))
        )
        found: dict[str, GapQuestion] = {}
        async with self._engine.connect() as conn:
            for reason, query in ((GapReason.REFUSED, refused), (GapReason.DISLIKED, disliked)):
                for answer_id, question, at in await conn.execute(query):
                    found.setdefault(answer_id, GapQuestion(answer_id, question, reason, aware(at)))
        return sorted(found.values(), key=lambda g: g.at, reverse=True)

    async def mark_handled(self, answer_ids: Sequence[str], by: str, note: str, at: datetime) -> int:
        """Mark these answers' gap handled; returns how many were newly marked (a mark already there stays)."""
        marked = 0
        async with self._engine.begin() as conn:
            for answer_id in dict.fromkeys(answer_ids):
                row = {"answer_id": answer_id, "handled_by": by, "handled_at": at, "note": note}
                new = await upsert(
                    conn, gap_notes, row, key=("answer_id",), update=(), returning=(gap_notes.c.answer_id,)
                )
                marked += new.first() is not None
        return marked


class DocumentStats:
    """Per document: 👍 and 👎 on answers that cited it (answers still kept), and when an ingest last wrote it."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def last_ingests(self) -> dict[str, datetime]:
        written = (IngestAction.ADDED.value, IngestAction.UPDATED.value)
        query = (
            select(ingest_events.c.doc_id, func.max(ingest_events.c.at))
            .where(ingest_events.c.action.in_(written))
            .group_by(ingest_events.c.doc_id)
        )
        async with self._engine.connect() as conn:
            return {doc_id: aware(at) for doc_id, at in await conn.execute(query)}

    async def votes(self) -> dict[str, tuple[int, int]]:
        query = select(answers.c.doc_ids, feedback.c.positive).select_from(
            feedback.join(answers, feedback.c.answer_id == answers.c.answer_id)
        )
        up: Counter[str] = Counter()
        down: Counter[str] = Counter()
        async with self._engine.connect() as conn:
            for doc_ids, positive in await conn.execute(query):
                for doc_id in doc_ids or ():
                    (up if positive else down)[doc_id] += 1
        return {d: (up[d], down[d]) for d in set(up) | set(down)}


@dataclass(frozen=True, slots=True)
class DayCount:
    """One local day's answers, refused ones included."""

    day: date
    questions: int
    refused: int


@dataclass(frozen=True, slots=True)
class IngestRun:
    """One ingest run: when its first and last event were written, and how many documents per action."""

    run_id: str
    started: datetime
    finished: datetime
    added: int
    updated: int
    removed: int
    failed: int


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


class OverviewStats:
    """The overview's figures, each one aggregate query: rows returned are bounded by days, urgencies or runs."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def questions_per_day(self, days: Sequence[date], tz: ZoneInfo) -> list[DayCount]:
        """Answers (refused ones too) per local day in `tz`, for consecutive `days`, oldest first."""
        starts = [datetime.combine(d, time(), tz).astimezone(UTC) for d in days]
        end = datetime.combine(days[-1] + timedelta(days=1), time(), tz).astimezone(UTC)
        bucket = case(*[(answers.c.at >= start, i) for i, start in reversed(list(enumerate(starts)))])
        window = (
            select(bucket.label("day"), answers.c.confident)
            .where((answers.c.at >= starts[0]) & (answers.c.at < end))
            .subquery()
        )
        query = select(window.c.day, func.count(), _count_if(window.c.confident.is_(False))).group_by(window.c.day)
        async with self._engine.connect() as conn:
            found = {int(day): (int(n), int(refused)) for day, n, refused in await conn.execute(query)}
        return [DayCount(d, *found.get(i, (0, 0))) for i, d in enumerate(days)]

    async def median_answer_ms(self, since: datetime) -> int | None:
        """The median time answers since `since` took (ms); None when none of them has one recorded."""
        timed = answers.c.answer_ms.is_not(None) & (answers.c.at >= since)
        ordered = select(answers.c.answer_ms).where(timed).order_by(answers.c.answer_ms)
        async with self._engine.connect() as conn:
            count = int((await conn.execute(select(func.count()).where(timed))).scalar_one())
            if not count:
                return None
            middle = [int(ms) for ms in (await conn.execute(ordered.offset((count - 1) // 2).limit(2))).scalars()]
        return middle[0] if count % 2 else round((middle[0] + middle[1]) / 2)

    async def open_cases_by_urgency(self) -> dict[str, int]:
        query = (
            select(cases.c.urgency, func.count())
            .where(cases.c.state != CaseState.CLOSED.value)
            .group_by(cases.c.urgency)
        )
        async with self._engine.connect() as conn:
            return {urgency: int(n) for urgency, n in await conn.execute(query)}

    async def ingest_runs(self, limit: int) -> list[IngestRun]:
        """The `limit` latest ingest runs, newest first: documents added, updated, removed, failed."""
        action = ingest_events.c.action
        finished = func.max(ingest_events.c.at)
        query = (
            select(
                ingest_events.c.run_id,
                func.min(ingest_events.c.at),
                finished,
                *(_count_if(action == a.value) for a in IngestAction),
            )
            .group_by(ingest_events.c.run_id)
            .order_by(finished.desc())
            .limit(limit)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [
            IngestRun(run_id, aware(started), aware(end), int(added), int(updated), int(removed), int(failed))
            for run_id, started, end, added, updated, removed, failed in rows
        ]
