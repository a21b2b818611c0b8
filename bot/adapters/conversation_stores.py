"""The conversation core's storage and source protocols, implemented over the state database and Chroma."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.chroma import ChromaStore
from bot.adapters.state import AnswerRecord, AnswerStore, ConversationRecord, ConversationStore
from bot.adapters.tables import answers, handled_messages
from bot.core.ports import AnswerEntry, AnswerId, SourceInfo

__all__ = ["ChromaSources", "StateAnswerLog", "StateConversationLog", "StateMessageClaims"]


class StateAnswerLog:
    """`AnswerLog` over `AnswerStore`; the thread lookup reads the answers table directly."""

    def __init__(self, store: AnswerStore, engine: AsyncEngine) -> None:
        self._store = store
        self._engine = engine

    async def record(self, entry: AnswerEntry) -> None:
        await self._store.record(
            AnswerRecord(
                answer_id=entry.answer_id,
                channel=entry.channel,
                conversation_id=entry.conversation_id,
                thread_id=entry.thread_id,
                message_id=None,
                question=entry.question,
                doc_ids=entry.doc_ids,
                confident=entry.confident,
                at=entry.at,
                text=entry.text,
            )
        )

    async def set_message_id(self, answer_id: AnswerId, message_id: str) -> None:
        await self._store.set_message_id(answer_id, message_id)

    async def resolve(self, *, answer_id: str | None = None, message_id: str | None = None) -> AnswerId | None:
        if answer_id is None and message_id is None:
            return None
        found = await self._store.find(answer_id=answer_id, message_id=message_id)
        return None if found is None else AnswerId(found.answer_id)

    async def add_feedback(self, answer_id: AnswerId, user_id: str, positive: bool, at: datetime) -> None:
        await self._store.add_feedback(answer_id, user_id, positive, at)

    async def thread_question(self, channel: str, conversation_id: str, thread_id: str) -> str | None:
        query = (
            select(answers.c.question)
            .where(
                (answers.c.channel == channel)
                & (answers.c.conversation_id == conversation_id)
                & (answers.c.thread_id == thread_id)
            )
            .order_by(answers.c.at)
            .limit(1)
        )
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else str(row[0])


class StateConversationLog:
    """`ConversationLog` over `ConversationStore`; a new reference holds just the conversation id.

    A reference the channel stored itself (Teams keeps the SDK's serialised ConversationReference,
    needed for proactive sends) is kept, never overwritten with that stub.
    """

    def __init__(self, store: ConversationStore) -> None:
        self._store = store

    async def remember(
        self, channel: str, conversation_id: str, *, is_private: bool, user_id: str, at: datetime
    ) -> None:
        existing = await self._store.get(channel, conversation_id)
        record = ConversationRecord(
            channel=channel,
            conversation_id=conversation_id,
            is_private=is_private,
            user_id=user_id,
            reference=existing.reference if existing is not None else {"conversation_id": conversation_id},
        )
        await self._store.save(record, at)


class ChromaSources:
    """`Sources` over the vector store's document registry (read in a worker thread, with a timeout)."""

    def __init__(self, store: ChromaStore, timeout_s: float) -> None:
        self._store = store
        self._timeout_s = timeout_s

    async def list_sources(self) -> list[SourceInfo]:
        async with asyncio.timeout(self._timeout_s):
            docs = await asyncio.to_thread(self._store.documents)
        return [
            SourceInfo(title=d.info.title, version=d.info.version, url=d.info.url, access=d.info.access)
            for d in docs.values()
        ]


class StateMessageClaims:
    """`MessageClaims` over the `handled_messages` table: the primary key makes the first claim win."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def claim(self, channel: str, conversation_id: str, message_id: str, at: datetime) -> bool:
        key = hashlib.sha256(f"{conversation_id}\x00{message_id}".encode()).hexdigest()
        try:
            async with self._engine.begin() as conn:
                await conn.execute(insert(handled_messages).values(channel=channel, message_key=key, at=at))
        except IntegrityError:
            return False
        return True

    async def forget_before(self, moment: datetime) -> int:
        """Drop claims older than `moment` (no platform redelivers that late); returns how many."""
        async with self._engine.begin() as conn:
            result = await conn.execute(delete(handled_messages).where(handled_messages.c.at < moment))
        return int(result.rowcount or 0)
