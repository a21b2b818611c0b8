"""Adapters the OMO escalation service needs besides its case store: earlier answers and private chats."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.state import ConversationStore
from bot.adapters.tables import answers
from bot.core.escalation import Attachment
from bot.core.messages import Capability, Channel, ConversationId, UserId

__all__ = ["SqlAnswerLookup", "StatePrivateChats"]

TitleResolver = Callable[[Sequence[str]], Awaitable[Mapping[str, tuple[str, str | None]]]]
"""Maps document ids to (title, url); ids it does not know are shown as themselves."""


async def _no_titles(doc_ids: Sequence[str]) -> Mapping[str, tuple[str, str | None]]:
    return {}


class SqlAnswerLookup:
    """`AnswerLookup` over the answers table; sources get titles from `titles` (the vector store)."""

    def __init__(self, engine: AsyncEngine, titles: TitleResolver = _no_titles) -> None:
        self._engine = engine
        self._titles = titles

    async def last_answer_id(self, channel: str, conversation_id: ConversationId) -> str | None:
        query = (
            select(answers.c.answer_id)
            .where((answers.c.channel == channel) & (answers.c.conversation_id == conversation_id))
            .order_by(answers.c.at.desc())
            .limit(1)
        )
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else str(row[0])

    async def attachment(self, answer_id: str) -> Attachment | None:
        query = select(answers.c.question, answers.c.text, answers.c.doc_ids).where(answers.c.answer_id == answer_id)
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            return None
        doc_ids = [str(d) for d in row[2] or ()]
        titles = await self._titles(doc_ids)
        sources = tuple(titles.get(d, (d, None)) for d in doc_ids)
        return Attachment(question=row[0], answer=row[1], sources=sources)


class StatePrivateChats:
    """`PrivateChats`: a channel's own direct chat if it can open one, else the newest stored private conversation."""

    def __init__(self, conversations: ConversationStore, channels: Mapping[str, Channel]) -> None:
        self._conversations = conversations
        self._channels = channels

    async def private_chat(self, channel: str, user_id: str) -> ConversationId | None:
        found = self._channels.get(channel)
        if found is not None and Capability.DIRECT_CHATS in found.capabilities:
            return await found.direct_chat(UserId(user_id))
        record = await self._conversations.private_for(channel, user_id)
        return None if record is None else record.conversation_id
