"""OMO cases, their audit trail and intake dialogues in the state database (SQLite or PostgreSQL).

Each change is one transaction that also writes the audit row and the outbox messages it causes, so a
case, its history and its notifications exist together or not at all. Concurrent changes to one
case are serialised by a row lock taken first (`UPDATE ... SET state = state`: a row lock on
PostgreSQL, the write lock on SQLite); reference numbers come from a per-year counter row that one upsert
creates or bumps.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import RowMapping, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.adapters.outbox import enqueue, purge_case_rows
from bot.adapters.sql import aware, upsert
from bot.adapters.tables import case_counters, case_events, cases, intake_dialogues
from bot.core.escalation import (
    Attachment,
    Case,
    CaseEvent,
    CaseRef,
    CaseRequest,
    CaseState,
    Requester,
    event_name,
    format_ref,
    transition,
)
from bot.core.escalation_ports import AuditEntry, CaseNotFound, Outgoing, StoredDialogue
from bot.core.intake import Dialogue, Step

__all__ = ["SqlCaseStore"]


def _case(row: RowMapping) -> Case:
    att = row["attachment"] or {}
    return Case(
        ref=CaseRef(row["ref"]),
        state=CaseState(row["state"]),
        request=CaseRequest(row["municipality"], row["kind"], row["urgency"], row["description"], row["contact"]),
        requester=Requester(
            row["requester_channel"],
            row["requester_id"],
            row["requester_name"],
            row["private_conversation_id"],
            row["origin_conversation_id"],
        ),
        attachment=Attachment(
            att.get("question"), att.get("answer"), tuple((s[0], s[1]) for s in att.get("sources") or ())
        ),
        created_at=aware(row["created_at"]),
        updated_at=aware(row["updated_at"]),
        answer_id=row["answer_id"],
        claimed_by=row["claimed_by"],
        claimed_by_name=row["claimed_by_name"],
        claimed_at=aware(row["claimed_at"]),
        closing_note=row["closing_note"],
        closed_at=aware(row["closed_at"]),
        reminded_at=aware(row["reminded_at"]),
    )


def _mutable(case: Case) -> dict[str, object]:
    return {
        "state": case.state.value,
        "claimed_by": case.claimed_by,
        "claimed_by_name": case.claimed_by_name,
        "claimed_at": case.claimed_at,
        "closing_note": case.closing_note,
        "closed_at": case.closed_at,
        "reminded_at": case.reminded_at,
        "updated_at": case.updated_at,
    }


async def _send(conn: AsyncConnection, case: Case, messages: Sequence[Outgoing], at: datetime) -> None:
    for m in messages:
        await enqueue(conn, m.to, m.reply, kind=m.kind, at=at, case_ref=case.ref, dedupe_key=m.dedupe_key)


class SqlCaseStore:
    """`CaseStore` over the state database."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def _next_seq(self, conn: AsyncConnection, year: int) -> int:
        """The next number of `year`: the counter row is created at 1 or bumped, in one statement."""
        bumped = await upsert(
            conn,
            case_counters,
            {"year": year, "last": 1},
            key=("year",),
            update={"last": case_counters.c.last + 1},
            returning=(case_counters.c.last,),
        )
        return int(bumped.scalar_one())

    async def create(
        self,
        request: CaseRequest,
        requester: Requester,
        attachment: Attachment,
        answer_id: str | None,
        at: datetime,
        messages: Callable[[Case], Sequence[Outgoing]],
    ) -> Case:
        async with self._engine.begin() as conn:
            seq = await self._next_seq(conn, at.year)
            case = Case(
                ref=format_ref(at.year, seq),
                state=CaseState.NEW,
                request=request,
                requester=requester,
                attachment=attachment,
                created_at=at,
                updated_at=at,
                answer_id=answer_id,
            )
            await conn.execute(
                insert(cases).values(
                    ref=case.ref,
                    year=at.year,
                    seq=seq,
                    urgency=request.urgency,
                    kind=request.kind,
                    municipality=request.municipality,
                    description=request.description,
                    contact=request.contact,
                    requester_channel=requester.channel,
                    requester_id=requester.user_id,
                    requester_name=requester.name,
                    private_conversation_id=requester.private_conversation_id,
                    origin_conversation_id=requester.origin_conversation_id,
                    answer_id=answer_id,
                    attachment={
                        "question": attachment.question,
                        "answer": attachment.answer,
                        "sources": [list(s) for s in attachment.sources],
                    },
                    created_at=at,
                    **_mutable(case),
                )
            )
            await conn.execute(
                insert(case_events).values(
                    case_ref=case.ref, at=at, actor=requester.user_id, event="create", to_state=case.state.value
                )
            )
            await _send(conn, case, messages(case), at)
        return case

    async def get(self, ref: CaseRef) -> Case | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(cases).where(cases.c.ref == ref))).mappings().first()
        return None if row is None else _case(row)

    async def apply(self, ref: CaseRef, event: CaseEvent, messages: Callable[[Case, Case], Sequence[Outgoing]]) -> Case:
        async with self._engine.begin() as conn:
            locked = await conn.execute(update(cases).where(cases.c.ref == ref).values(state=cases.c.state))
            if locked.rowcount != 1:
                raise CaseNotFound(ref)
            before = _case((await conn.execute(select(cases).where(cases.c.ref == ref))).mappings().one())
            after = transition(before, event)  # TransitionError rolls everything back
            await conn.execute(update(cases).where(cases.c.ref == ref).values(**_mutable(after)))
            detail = getattr(event, "note", None) or getattr(event, "text", None)
            await conn.execute(
                insert(case_events).values(
                    case_ref=ref,
                    at=event.at,
                    actor=event.actor,
                    event=event_name(event),
                    from_state=before.state.value,
                    to_state=after.state.value,
                    detail=detail,
                )
            )
            await _send(conn, after, messages(before, after), event.at)
        return after

    async def list_cases(self, *, open_only: bool = True) -> list[Case]:
        query = select(cases).order_by(cases.c.created_at)
        if open_only:
            query = query.where(cases.c.state != CaseState.CLOSED.value)
        async with self._engine.connect() as conn:
            return [_case(r) for r in (await conn.execute(query)).mappings().all()]

    async def reminders_due(self, created_before: datetime) -> list[CaseRef]:
        query = select(cases.c.ref).where(
            (cases.c.state == CaseState.NEW.value)
            & (cases.c.urgency == "spoed")
            & cases.c.reminded_at.is_(None)
            & (cases.c.created_at <= created_before)
        )
        async with self._engine.connect() as conn:
            return [CaseRef(r[0]) for r in (await conn.execute(query)).all()]

    async def audit(self, ref: CaseRef) -> list[AuditEntry]:
        query = select(case_events).where(case_events.c.case_ref == ref).order_by(case_events.c.id)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [AuditEntry(aware(r["at"]), r["actor"], r["event"], r["from_state"], r["to_state"]) for r in rows]

    async def purge(self, closed_before: datetime) -> int:
        """Delete cases closed before `closed_before`, with their audit and outbox rows, and stale dialogues."""
        async with self._engine.begin() as conn:
            refs = [
                r[0]
                for r in await conn.execute(
                    select(cases.c.ref).where(
                        (cases.c.state == CaseState.CLOSED.value) & (cases.c.closed_at < closed_before)
                    )
                )
            ]
            if refs:
                await conn.execute(delete(case_events).where(case_events.c.case_ref.in_(refs)))
                await purge_case_rows(conn, refs)
                await conn.execute(delete(cases).where(cases.c.ref.in_(refs)))
            await conn.execute(delete(intake_dialogues).where(intake_dialogues.c.updated_at < closed_before))
        return len(refs)

    # -- intake dialogues -------------------------------------------------------------------------

    async def dialogue(self, channel: str, user_id: str) -> StoredDialogue | None:
        query = select(intake_dialogues).where(
            (intake_dialogues.c.channel == channel) & (intake_dialogues.c.user_id == user_id)
        )
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).mappings().first()
        if row is None:
            return None
        return StoredDialogue(
            channel=channel,
            user_id=user_id,
            conversation_id=row["conversation_id"],
            origin_conversation_id=row["origin_conversation_id"],
            answer_id=row["answer_id"],
            dialogue=Dialogue(Step(row["step"]), dict(row["data"])),
        )

    async def save_dialogue(self, stored: StoredDialogue, at: datetime) -> None:
        values = {
            "conversation_id": stored.conversation_id,
            "origin_conversation_id": stored.origin_conversation_id,
            "answer_id": stored.answer_id,
            "step": stored.dialogue.step.value,
            "data": dict(stored.dialogue.answers),
            "updated_at": at,
        }
        row = {"channel": stored.channel, "user_id": stored.user_id, "started_at": at, **values}
        async with self._engine.begin() as conn:
            await upsert(conn, intake_dialogues, row, key=("channel", "user_id"), update=list(values))

    async def drop_dialogue(self, channel: str, user_id: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                delete(intake_dialogues).where(
                    (intake_dialogues.c.channel == channel) & (intake_dialogues.c.user_id == user_id)
                )
            )
