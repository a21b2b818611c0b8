"""What the OMO escalation service needs from storage and the channels, as small protocols and values."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.core.escalation import Attachment, Case, CaseEvent, CaseRef, CaseRequest, Requester
from bot.core.intake import Dialogue
from bot.core.messages import ConversationId, ConversationRef, FormReply, TextReply
from bot.errors import EscalationError

__all__ = [
    "AnswerLookup",
    "AuditEntry",
    "CaseNotFound",
    "CaseStore",
    "Outgoing",
    "PrivateChats",
    "StoredDialogue",
]


class CaseNotFound(EscalationError):
    """Raised when no case has reference `ref`."""

    def __init__(self, ref: str) -> None:
        super().__init__(f"no case {ref}")
        self.ref = ref


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message to queue in the outbox with a state change; `dedupe_key` makes it at-most-once."""

    to: ConversationRef
    reply: TextReply | FormReply
    kind: str
    dedupe_key: str | None = None


@dataclass(frozen=True, slots=True)
class StoredDialogue:
    """An intake dialogue in progress: `conversation_id` is the private chat it runs in."""

    channel: str
    user_id: str
    conversation_id: ConversationId
    origin_conversation_id: ConversationId | None
    answer_id: str | None
    dialogue: Dialogue


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: datetime
    actor: str
    event: str
    from_state: str | None
    to_state: str


class CaseStore(Protocol):
    """Cases, their audit trail and intake dialogues; each change commits with its outbox messages."""

    async def create(
        self,
        request: CaseRequest,
        requester: Requester,
        attachment: Attachment,
        answer_id: str | None,
        at: datetime,
        messages: Callable[[Case], Sequence[Outgoing]],
    ) -> Case:
        """Number and store a new case, its audit row and `messages(case)`, in one transaction."""
        ...

    async def get(self, ref: CaseRef) -> Case | None: ...

    async def apply(self, ref: CaseRef, event: CaseEvent, messages: Callable[[Case, Case], Sequence[Outgoing]]) -> Case:
        """`transition` the case under a lock and store it with its audit row and `messages(before, after)`.

        Raises `CaseNotFound`, or `TransitionError` (nothing is stored then).
        """
        ...

    async def list_cases(self, *, open_only: bool = True) -> list[Case]: ...

    async def reminders_due(self, created_before: datetime) -> list[CaseRef]:
        """Urgent cases still new, created before the moment and never reminded."""
        ...

    async def dialogue(self, channel: str, user_id: str) -> StoredDialogue | None: ...

    async def save_dialogue(self, stored: StoredDialogue, at: datetime) -> None: ...

    async def drop_dialogue(self, channel: str, user_id: str) -> None: ...


class AnswerLookup(Protocol):
    """The bot's earlier answers, to attach to a case."""

    async def last_answer_id(self, channel: str, conversation_id: ConversationId) -> str | None: ...

    async def attachment(self, answer_id: str) -> Attachment | None: ...


class PrivateChats(Protocol):
    """A private conversation with a user (Matrix: opens a direct chat if needed); None if there is none."""

    async def private_chat(self, channel: str, user_id: str) -> ConversationId | None: ...
