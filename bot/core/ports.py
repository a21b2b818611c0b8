"""What the conversation core needs from storage and the knowledge base, as small protocols."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NewType, Protocol

from bot.core.messages import ConversationId, IncomingMessage
from bot.core.models import Access

__all__ = [
    "THREAD_QUESTIONS",
    "AnswerEntry",
    "AnswerId",
    "AnswerLog",
    "ConversationLog",
    "MessageClaims",
    "SourceInfo",
    "Sources",
]

THREAD_QUESTIONS = 10  # enough to find the question a thread's latest follow-ups belong to

AnswerId = NewType("AnswerId", str)
"""A random hex id the bot gives every answer it sends; feedback refers back to it."""


@dataclass(frozen=True, slots=True)
class AnswerEntry:
    """An answer the bot sends, as the answer log keeps it.

    `message_id` is the platform message the answer went out as: unknown when the answer is
    recorded (None), set afterwards with `AnswerLog.set_message_id`.
    """

    answer_id: AnswerId
    channel: str
    conversation_id: ConversationId
    thread_id: str | None
    question: str
    doc_ids: tuple[str, ...]
    confident: bool
    at: datetime
    text: str | None = None  # kept so an OMO case can attach the answer that led to it
    message_id: str | None = None
    answer_ms: int | None = None  # from starting on the question to the answer being ready


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """One document of the knowledge base as `!bronnen` lists it."""

    title: str
    version: str | None
    url: str | None
    access: Access = Access.OPENBAAR


class AnswerLog(Protocol):
    """Answers sent and the feedback on them."""

    async def record(self, entry: AnswerEntry) -> None: ...

    async def set_message_id(self, answer_id: AnswerId, message_id: str) -> None: ...

    async def resolve(self, *, answer_id: str | None = None, message_id: str | None = None) -> AnswerId | None:
        """The id of the answer with this answer id or platform message id; None if the bot sent no such answer."""
        ...

    async def add_feedback(self, answer_id: AnswerId, user_id: str, positive: bool, at: datetime) -> None: ...

    async def thread_questions(
        self, channel: str, conversation_id: ConversationId, thread_id: str | None, since: datetime | None = None
    ) -> list[str]:
        """The questions answered in this thread (None: in the conversation outside any thread), at or after
        `since` if given; oldest first, the latest `THREAD_QUESTIONS` of them."""
        ...


class ConversationLog(Protocol):
    """Conversations the bot has heard from, so it can write to them proactively later."""

    async def remember(
        self, channel: str, conversation_id: ConversationId, *, is_private: bool, user_id: str, at: datetime
    ) -> None: ...


class Sources(Protocol):
    """The documents the knowledge base holds."""

    async def list_sources(self) -> list[SourceInfo]: ...


class MessageClaims(Protocol):
    """Claims each incoming message once, so it is handled once by however many instances receive it.

    A claim names the instance that made it and carries a heartbeat and the message itself. While an
    instance handles its claims it calls `heartbeat`; a claim whose heartbeat is older than the takeover
    time is taken over by another instance (`take_over`), which then answers it. `done` ends a claim:
    nobody takes it over again.
    """

    async def claim(self, msg: IncomingMessage, at: datetime) -> bool:
        """True for the first claim of this message (now owned by this instance), False for every later one."""
        ...

    async def heartbeat(self, at: datetime) -> int:
        """Mark every open claim of this instance alive at `at`; returns how many."""
        ...

    async def take_over(self, stale_before: datetime, at: datetime) -> list[IncomingMessage]:
        """Take the open claims whose heartbeat is older than `stale_before`; returns their messages."""
        ...

    async def holds(self, msg: IncomingMessage) -> bool:
        """True while this instance owns the open claim of this message (nobody took it over)."""
        ...

    async def done(self, msg: IncomingMessage, at: datetime) -> None:
        """Close this message's claim: it was answered (or apologised for)."""
        ...
