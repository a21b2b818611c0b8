"""The conversation core's `Sources` and `MessageClaims`, over Chroma and the state database.

Its `AnswerLog` and `ConversationLog` are `AnswerStore` and `ConversationStore` in `bot.adapters.state`.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import uuid
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import delete, null, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.chroma import ChromaStore
from bot.adapters.sql import upsert
from bot.adapters.tables import handled_messages
from bot.core.messages import ConversationId, ConversationRef, Feedback, IncomingMessage, UserId, parse_action
from bot.core.ports import SourceInfo

__all__ = ["ChromaSources", "StateMessageClaims"]

log = logging.getLogger(__name__)


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


def _encode(msg: IncomingMessage) -> dict[str, Any]:
    """The JSON form of a message, as a claim keeps it until it is answered."""
    return {
        "ref": [msg.ref.channel, msg.ref.conversation_id, msg.ref.thread_id, msg.ref.reply_to],
        "message_id": msg.message_id,
        "sender": msg.sender,
        "text": msg.text,
        "is_private": msg.is_private,
        "sent_at": msg.sent_at.isoformat(),
        "sender_name": msg.sender_name,
        "feedback": None if msg.feedback is None else asdict(msg.feedback),
        "action": None if msg.action is None else {"name": msg.action.name, "data": dict(msg.action.data)},
    }


def _decode(raw: dict[str, Any]) -> IncomingMessage:
    channel, conversation_id, thread_id, reply_to = raw["ref"]
    feedback, action = raw.get("feedback"), raw.get("action")
    return IncomingMessage(
        ref=ConversationRef(channel, conversation_id, thread_id=thread_id, reply_to=reply_to),
        message_id=raw["message_id"],
        sender=UserId(raw["sender"]),
        text=raw["text"],
        is_private=bool(raw["is_private"]),
        sent_at=datetime.fromisoformat(raw["sent_at"]),
        sender_name=raw.get("sender_name"),
        feedback=None if feedback is None else Feedback(**feedback),
        action=None if action is None else parse_action(action["name"], dict(action["data"])),
    )


def _key(conversation_id: ConversationId, message_id: str) -> str:
    return hashlib.sha256(f"{conversation_id}\x00{message_id}".encode()).hexdigest()


class StateMessageClaims:
    """`MessageClaims` over the `handled_messages` table: the primary key makes the first claim win.

    A takeover is a conditional UPDATE on the stale heartbeat, so of two instances taking over the same
    claim one wins. The message is kept with an open claim only; `done` drops it.
    `instance_id` is random per process unless given.
    """

    def __init__(self, engine: AsyncEngine, instance_id: str | None = None) -> None:
        self._engine = engine
        self.instance_id = instance_id or uuid.uuid4().hex[:16]

    async def claim(self, msg: IncomingMessage, at: datetime) -> bool:
        values = {
            "channel": msg.ref.channel,
            "message_key": _key(msg.ref.conversation_id, msg.message_id),
            "at": at,
            "owner": self.instance_id,
            "heartbeat_at": at,
            "message": _encode(msg),
        }
        async with self._engine.begin() as conn:
            claimed = await upsert(
                conn,
                handled_messages,
                values,
                key=("channel", "message_key"),
                update=(),
                returning=[handled_messages.c.message_key],
            )
            return claimed.first() is not None

    async def heartbeat(self, at: datetime) -> int:
        t = handled_messages.c
        async with self._engine.begin() as conn:
            result = await conn.execute(
                update(handled_messages)
                .where((t.owner == self.instance_id) & t.done_at.is_(None))
                .values(heartbeat_at=at)
            )
        return int(result.rowcount or 0)

    async def take_over(self, stale_before: datetime, at: datetime) -> list[IncomingMessage]:
        t = handled_messages.c
        stale = t.done_at.is_(None) & (t.heartbeat_at < stale_before)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(select(t.channel, t.message_key, t.owner, t.message).where(stale))).all()
        taken: list[IncomingMessage] = []
        for channel, key, owner, message in rows:
            mine = (t.channel == channel) & (t.message_key == key) & stale
            async with self._engine.begin() as conn:
                result = await conn.execute(
                    update(handled_messages).where(mine).values(owner=self.instance_id, heartbeat_at=at)
                )
            if result.rowcount != 1:
                continue  # another instance took it first, or its owner came back
            try:
                taken.append(_decode(message))
            except (KeyError, TypeError, ValueError):
                log.error("claim %s on %s has no readable message; closed unanswered", key[:12], channel)
                await self._close(channel, key, at)
                continue
            log.warning(
                "took over the claim of message %s on %s from instance %s", taken[-1].message_id, channel, owner
            )
        return taken

    async def holds(self, msg: IncomingMessage) -> bool:
        t = handled_messages.c
        key = _key(msg.ref.conversation_id, msg.message_id)
        query = select(t.owner).where((t.channel == msg.ref.channel) & (t.message_key == key) & t.done_at.is_(None))
        async with self._engine.connect() as conn:
            owner = (await conn.execute(query)).scalar()
        return owner == self.instance_id

    async def done(self, msg: IncomingMessage, at: datetime) -> None:
        await self._close(msg.ref.channel, _key(msg.ref.conversation_id, msg.message_id), at)

    async def _close(self, channel: str, key: str, at: datetime) -> None:
        """Close this instance's claim (one another instance took over stays that instance's to close)."""
        t = handled_messages.c
        async with self._engine.begin() as conn:
            await conn.execute(
                update(handled_messages)
                .where((t.channel == channel) & (t.message_key == key) & (t.owner == self.instance_id))
                .values(done_at=at, message=null())  # SQL NULL: the text is not kept
            )

    async def forget_before(self, moment: datetime) -> int:
        """Drop claims made before `moment` (no platform redelivers that late); returns how many."""
        async with self._engine.begin() as conn:
            result = await conn.execute(delete(handled_messages).where(handled_messages.c.at < moment))
        return int(result.rowcount or 0)
