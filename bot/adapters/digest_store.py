"""Digest subscriptions over the state database, the once-per-day claim, and the knowledge-gap query.

`deliver` is the exactly-once step: one transaction runs the conditional claim

    UPDATE digest_subscriptions SET last_sent_date = :day, ...
    WHERE id = :id AND enabled AND (last_sent_date IS NULL OR last_sent_date < :day)

and, only when it changed a row, queues the messages in the outbox (deduplicated per subscription,
day and part). Two instances racing for the same day: the database lets one UPDATE through, the
other sees rowcount 0 and queues nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Protocol

from sqlalchemy import RowMapping, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import prompts
from bot.adapters.outbox import enqueue
from bot.adapters.sql import aware, upsert
from bot.adapters.tables import answers, digest_subscriptions, feedback
from bot.core.clock import utc
from bot.core.digest import Audience, GapReason, KnowledgeGapEvent, OpenCase, Subscription, parse_time
from bot.core.escalation import Case
from bot.core.messages import ConversationId, ConversationRef, TextReply
from bot.core.omo_notices import labels

__all__ = ["OUTBOX_KIND", "CaseDigestSource", "DigestStore"]

OUTBOX_KIND = "digest"

_subs = digest_subscriptions


def _subscription(row: RowMapping) -> Subscription:
    return Subscription(
        id=int(row["id"]),
        channel=row["channel"],
        conversation_id=row["conversation_id"],
        send_time=parse_time(row["send_time"]) if row["send_time"] else None,
        audience=Audience(omo=bool(row["omo"]), editors=bool(row["editors"])),
        subscribed_at=aware(row["subscribed_at"]),
        last_sent_date=row["last_sent_date"],
        last_sent_at=aware(row["last_sent_at"]),
    )


class DigestStore:
    """`DigestRepository` on the shared engine; every write is one transaction."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def subscribe(
        self, channel: str, conversation_id: ConversationId, send_time: time | None, audience: Audience, at: datetime
    ) -> Subscription:
        """Turn the digest on (or change its time); the last day sent is kept, so no day is sent twice."""
        values = {
            "enabled": True,
            "send_time": send_time.strftime("%H:%M") if send_time is not None else None,
            "omo": audience.omo,
            "editors": audience.editors,
            "subscribed_at": at,
            "updated_at": at,
        }
        new = {"channel": channel, "conversation_id": conversation_id, **values}
        async with self._engine.begin() as conn:
            stored = await upsert(conn, _subs, new, key=("channel", "conversation_id"), returning=list(_subs.c))
            return _subscription(stored.mappings().one())

    async def unsubscribe(self, channel: str, conversation_id: ConversationId) -> bool:
        where = (_subs.c.channel == channel) & (_subs.c.conversation_id == conversation_id) & _subs.c.enabled
        async with self._engine.begin() as conn:
            result = await conn.execute(update(_subs).where(where).values(enabled=False, updated_at=utc()))
        return bool(result.rowcount)

    async def get(self, channel: str, conversation_id: ConversationId) -> Subscription | None:
        query = select(_subs).where(
            (_subs.c.channel == channel) & (_subs.c.conversation_id == conversation_id) & _subs.c.enabled
        )
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).mappings().first()
        return _subscription(row) if row is not None else None

    async def active(self) -> list[Subscription]:
        query = select(_subs).where(_subs.c.enabled).order_by(_subs.c.id)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [_subscription(r) for r in rows]

    async def deliver(
        self, sub: Subscription, day: date, at: datetime, texts: Sequence[str], *, audience: Audience, force: bool
    ) -> bool:
        """Claim `day` for `sub` and queue `texts` (one outbox row each, in order) in one transaction."""
        claim = (_subs.c.id == sub.id) & _subs.c.enabled
        if not force:
            claim = claim & (_subs.c.last_sent_date.is_(None) | (_subs.c.last_sent_date < day))
        values = {
            "last_sent_date": day,
            "last_sent_at": at,
            "omo": audience.omo,
            "editors": audience.editors,
            "updated_at": at,
        }
        to = ConversationRef(sub.channel, sub.conversation_id)
        # a forced send may repeat a day, so its parts are keyed by the moment instead
        key = f"{OUTBOX_KIND}:{sub.id}:{at.isoformat() if force else day.isoformat()}"
        async with self._engine.begin() as conn:
            result = await conn.execute(update(_subs).where(claim).values(**values))
            if result.rowcount != 1:
                return False
            for part, text in enumerate(texts, start=1):
                await enqueue(conn, to, TextReply(text), kind=OUTBOX_KIND, at=at, dedupe_key=f"{key}:{part}")
        return True

    async def knowledge_gaps(self, since: datetime, until: datetime) -> list[KnowledgeGapEvent]:
        """Questions refused (`confident = false`) or given a 👎 in (since, until], oldest first."""
        refused = select(answers.c.question, answers.c.at).where(
            answers.c.confident.is_(False) & (answers.c.at > since) & (answers.c.at <= until)
        )
        disliked = (
            select(answers.c.question, feedback.c.at)
            .select_from(feedback.join(answers, feedback.c.answer_id == answers.c.answer_id))
            .where(feedback.c.positive.is_(False) & (feedback.c.at > since) & (feedback.c.at <= until))
        )
        async with self._engine.connect() as conn:
            gaps = [KnowledgeGapEvent(row[0], GapReason.REFUSED, aware(row[1])) for row in await conn.execute(refused)]
            gaps += [
                KnowledgeGapEvent(row[0], GapReason.DISLIKED, aware(row[1])) for row in await conn.execute(disliked)
            ]
        gaps.sort(key=lambda g: g.at)
        return gaps


class CaseLister(Protocol):
    """The case repository's query of cases (`SqlCaseStore` fits)."""

    async def list_cases(self, *, open_only: bool = True) -> list[Case]: ...


class CaseDigestSource:
    """`OpenCases` over the case repository: urgent (spoed) first; named by the Dutch labels of the intake.

    Only the reference, urgency, kind, municipality and age reach the digest, never the description
    or the contact details.
    """

    def __init__(self, cases: CaseLister) -> None:
        self._cases = cases

    async def open_cases(self) -> list[OpenCase]:
        urgencies, kinds = labels()["urgencies"], labels()["kinds"]
        return [
            OpenCase(
                case_id=case.ref,
                urgency=urgencies.get(case.request.urgency, case.request.urgency),
                rank=0 if case.urgent else 1,
                opened_at=case.created_at,
                subject=prompts.render(
                    "digest_case.nl.j2",
                    kind=kinds.get(case.request.kind, case.request.kind),
                    municipality=case.request.municipality,
                    claimed=case.claimed_by is not None,
                ),
            )
            for case in await self._cases.list_cases(open_only=True)
        ]
