"""The conversation core's `Sources` and `MessageClaims`, over Chroma and the state database.

Its `AnswerLog` and `ConversationLog` are `AnswerStore` and `ConversationStore` in `bot.adapters.state`.
"""

from __future__ import annotations

import asyncio
import hashlib
from datetime import datetime

from sqlalchemy import delete, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.chroma import ChromaStore
from bot.adapters.tables import handled_messages
from bot.core.ports import SourceInfo

__all__ = ["ChromaSources", "StateMessageClaims"]


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
