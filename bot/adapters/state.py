"""Repositories over the state database: the ingest log, answers and feedback, conversations, key-value state.

`AnswerStore` and `ConversationStore` are the conversation core's `AnswerLog` and `ConversationLog`.
Each repository takes the shared `AsyncEngine`; every write is one transaction. Nothing here keeps
state in memory, so several bot instances can share one PostgreSQL database.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import RowMapping, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.db import is_unreachable
from bot.adapters.sql import aware, upsert
from bot.adapters.tables import answers, conversations, feedback, ingest_events, kv, kv_members
from bot.core.clock import utc
from bot.core.json_types import JsonObject
from bot.core.messages import ConversationId
from bot.core.models import Access, IngestAction, IngestEvent
from bot.core.ports import THREAD_QUESTIONS, AnswerEntry, AnswerId

__all__ = [
    "AnswerStore",
    "ConversationRecord",
    "ConversationStore",
    "IngestLog",
    "KeyValueStore",
]


class IngestLog:
    """Append-only log of what each ingest run added, changed, removed or failed on."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def append(self, events: Sequence[IngestEvent]) -> None:
        if not events:
            return
        rows = [
            {
                "run_id": e.run_id,
                "at": e.at,
                "action": e.action.value,
                "doc_id": e.doc_id,
                "title": e.title,
                "url": e.url,
                "version": e.version,
                "access": e.access.value if e.access else None,
                "detail": e.detail,
            }
            for e in events
        ]
        async with self._engine.begin() as conn:
            await conn.execute(insert(ingest_events), rows)

    async def since(self, moment: datetime) -> list[IngestEvent]:
        """Events after `moment`, oldest first."""
        query = select(ingest_events).where(ingest_events.c.at > moment).order_by(ingest_events.c.id)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [
            IngestEvent(
                run_id=r["run_id"],
                at=aware(r["at"]),
                action=IngestAction(r["action"]),
                doc_id=r["doc_id"],
                title=r["title"],
                url=r["url"],
                version=r["version"],
                access=Access(r["access"]) if r["access"] else None,
                detail=r["detail"],
            )
            for r in rows
        ]


class AnswerStore:
    """`AnswerLog` over the answers table: answers sent and the 👍/👎 feedback on them.

    One vote per user per answer; the latest wins.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def record(self, entry: AnswerEntry) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                insert(answers).values(
                    answer_id=entry.answer_id,
                    channel=entry.channel,
                    conversation_id=entry.conversation_id,
                    thread_id=entry.thread_id,
                    message_id=entry.message_id,
                    question=entry.question,
                    doc_ids=list(entry.doc_ids),
                    confident=entry.confident,
                    at=entry.at,
                    text=entry.text,
                    answer_ms=entry.answer_ms,
                )
            )

    async def set_message_id(self, answer_id: str, message_id: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(update(answers).where(answers.c.answer_id == answer_id).values(message_id=message_id))

    async def find(self, *, answer_id: str | None = None, message_id: str | None = None) -> AnswerEntry | None:
        """The answer with this id, or the one sent as this platform message.

        Raises `ValueError` when given neither.
        """
        if answer_id is not None:
            query = select(answers).where(answers.c.answer_id == answer_id)
        elif message_id is not None:
            query = select(answers).where(answers.c.message_id == message_id)
        else:
            raise ValueError("give answer_id or message_id")
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).mappings().first()
        if row is None:
            return None
        return AnswerEntry(
            answer_id=AnswerId(row["answer_id"]),
            channel=row["channel"],
            conversation_id=row["conversation_id"],
            thread_id=row["thread_id"],
            question=row["question"],
            doc_ids=tuple(row["doc_ids"]),
            confident=bool(row["confident"]),
            at=aware(row["at"]),
            text=row["text"],
            message_id=row["message_id"],
            answer_ms=row["answer_ms"],
        )

    async def resolve(self, *, answer_id: str | None = None, message_id: str | None = None) -> AnswerId | None:
        """The id of the answer with this answer id or platform message id; None if there is none (or no id)."""
        if answer_id is None and message_id is None:
            return None
        found = await self.find(answer_id=answer_id, message_id=message_id)
        return None if found is None else found.answer_id

    async def thread_questions(
        self, channel: str, conversation_id: ConversationId, thread_id: str | None, since: datetime | None = None
    ) -> list[str]:
        """The questions answered in this thread (None: in the conversation outside any thread), at or after
        `since` if given; oldest first, the latest `THREAD_QUESTIONS` of them."""
        thread = answers.c.thread_id.is_(None) if thread_id is None else answers.c.thread_id == thread_id
        query = (
            select(answers.c.question)
            .where((answers.c.channel == channel) & (answers.c.conversation_id == conversation_id) & thread)
            .order_by(answers.c.at.desc())
            .limit(THREAD_QUESTIONS)
        )
        if since is not None:
            query = query.where(answers.c.at >= since)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [str(row[0]) for row in reversed(rows)]

    async def add_feedback(self, answer_id: str, user_id: str, positive: bool, at: datetime) -> None:
        """Store a vote; a second vote by the same user on the same answer replaces the first."""
        values = {"answer_id": answer_id, "user_id": user_id, "positive": positive, "at": at}
        async with self._engine.begin() as conn:
            await upsert(conn, feedback, values, key=("answer_id", "user_id"))

    async def forget_before(self, moment: datetime) -> int:
        """Delete answers (questions included) and their feedback from before `moment`; returns how many answers."""
        old = select(answers.c.answer_id).where(answers.c.at < moment)
        async with self._engine.begin() as conn:
            await conn.execute(delete(feedback).where(feedback.c.answer_id.in_(old)))
            result = await conn.execute(delete(answers).where(answers.c.at < moment))
        return int(result.rowcount or 0)

    async def feedback_for(self, answer_id: str) -> list[tuple[str, bool]]:
        """(user, positive) votes on an answer."""
        query = select(feedback.c.user_id, feedback.c.positive).where(feedback.c.answer_id == answer_id)
        async with self._engine.connect() as conn:
            return [(r[0], bool(r[1])) for r in (await conn.execute(query)).all()]


@dataclass(frozen=True, slots=True)
class ConversationRecord:
    """Where the bot can write proactively: a channel's own serialised reference to a conversation."""

    channel: str
    conversation_id: ConversationId
    is_private: bool
    user_id: str | None
    reference: JsonObject


_CONVERSATION_KEY = ("channel", "conversation_id")


class ConversationStore:
    """`ConversationLog` over the conversations table: references for sending digests and case updates proactively."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def remember(
        self, channel: str, conversation_id: ConversationId, *, is_private: bool, user_id: str, at: datetime
    ) -> None:
        """Note a conversation the bot heard from; a new reference holds just the conversation id.

        A reference the channel stored itself (Teams keeps the SDK's serialised ConversationReference,
        needed for proactive sends) is kept, never overwritten with that stub.
        """
        values = {
            "channel": channel,
            "conversation_id": conversation_id,
            "is_private": is_private,
            "user_id": user_id,
            "reference": {"conversation_id": conversation_id},
            "updated_at": at,
        }
        async with self._engine.begin() as conn:
            await upsert(
                conn, conversations, values, key=_CONVERSATION_KEY, update=("is_private", "user_id", "updated_at")
            )

    async def save(self, record: ConversationRecord, at: datetime) -> None:
        values = {
            "channel": record.channel,
            "conversation_id": record.conversation_id,
            "is_private": record.is_private,
            "user_id": record.user_id,
            "reference": record.reference,
            "updated_at": at,
        }
        async with self._engine.begin() as conn:
            await upsert(conn, conversations, values, key=_CONVERSATION_KEY)

    async def get(self, channel: str, conversation_id: ConversationId) -> ConversationRecord | None:
        query = select(conversations).where(
            (conversations.c.channel == channel) & (conversations.c.conversation_id == conversation_id)
        )
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).mappings().first()
        return _conversation(row) if row else None

    async def private_for(self, channel: str, user_id: str) -> ConversationRecord | None:
        """The most recent private conversation with a user on a channel, if the bot has one."""
        query = (
            select(conversations)
            .where(
                (conversations.c.channel == channel)
                & (conversations.c.user_id == user_id)
                & conversations.c.is_private.is_(True)
            )
            .order_by(conversations.c.updated_at.desc())
        )
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).mappings().first()
        return _conversation(row) if row else None


def _conversation(row: RowMapping) -> ConversationRecord:
    return ConversationRecord(
        channel=row["channel"],
        conversation_id=row["conversation_id"],
        is_private=bool(row["is_private"]),
        user_id=row["user_id"],
        reference=dict(row["reference"]),
    )


class KeyValueStore:
    """Small named values and named sets that must survive a restart (a sync token, Matrix's direct chats).

    A set is rows, one per member, so instances adding members at the same time never lose one. A call the
    database could not answer (down, or the connection dropped mid-way) raises `ConnectionError`, as a
    network failure does, so a caller that retries network failures (the Matrix sync loop) retries it too.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def get(self, key: str) -> str | None:
        async with _reached(), self._engine.connect() as conn:
            row = (await conn.execute(select(kv.c.value).where(kv.c.key == key))).first()
        return None if row is None else str(row[0])

    async def set(self, key: str, value: str) -> None:
        async with _reached(), self._engine.begin() as conn:
            await upsert(conn, kv, {"key": key, "value": value, "updated_at": utc()}, key=("key",))

    async def members(self, key: str) -> frozenset[str]:
        """The members of the set named `key` (empty if there is none)."""
        async with _reached(), self._engine.connect() as conn:
            rows = await conn.execute(select(kv_members.c.member).where(kv_members.c.key == key))
            return frozenset(str(r[0]) for r in rows)

    async def add_member(self, key: str, member: str) -> None:
        """Add `member` to the set named `key`; adding one twice is no change."""
        async with _reached(), self._engine.begin() as conn:
            row = {"key": key, "member": member, "added_at": utc()}
            await upsert(conn, kv_members, row, key=("key", "member"), update=())


@contextlib.asynccontextmanager
async def _reached() -> AsyncIterator[None]:
    """Turn an error that means the database could not be reached into `ConnectionError`."""
    try:
        yield
    except Exception as exc:
        if is_unreachable(exc) and not isinstance(exc, ConnectionError):
            raise ConnectionError(f"state database unreachable: {type(exc).__name__}: {exc}") from exc
        raise
