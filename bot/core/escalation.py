"""OMO cases as an explicit state machine: the states, the events, and the pure `transition(case, event)`.

    NEW ──Claim/Answer──▶ CLAIMED ──Answer──▶ CLAIMED
     │                      │
     └────────Close─────────┴──────Close────▶ CLOSED        (NEW ──Remind──▶ NEW, once, urgent only)

Every other pair is forbidden and raises `TransitionError`. `transition` has no side effects: the
caller persists the new case (with its audit row and outbox messages in one transaction), and only
then does anything else. Times are aware UTC datetimes.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import NewType

from bot.core.messages import ConversationId
from bot.errors import EscalationError

__all__ = [
    "KINDS",
    "URGENCIES",
    "Answer",
    "Attachment",
    "Case",
    "CaseEvent",
    "CaseRef",
    "CaseRequest",
    "CaseState",
    "Claim",
    "Close",
    "Remind",
    "Requester",
    "TransitionError",
    "event_name",
    "format_ref",
    "parse_ref",
    "transition",
]

CaseRef = NewType("CaseRef", str)
"""A case reference: `OMO-<year>-<4-digit sequence>`, e.g. OMO-2026-0042 (more digits past 9999)."""

_REF = re.compile(r"^OMO-(\d{4})-(\d{4,})$", re.IGNORECASE)

KINDS = ("demonstratie", "bedreiging", "online", "opvang", "anders")
"""Kinds of situation; their Dutch labels live in `prompts/omo_kind.nl.j2`."""

URGENCIES = ("spoed", "normaal")
"""`spoed`: within 24 hours; `normaal`: no deadline."""


def format_ref(year: int, seq: int) -> CaseRef:
    return CaseRef(f"OMO-{year:04d}-{seq:04d}")


def parse_ref(text: str) -> CaseRef | None:
    """The normalised reference in `text` (case-insensitive), or None if it is not one."""
    match = _REF.match(text.strip())
    return None if match is None else format_ref(int(match[1]), int(match[2]))


class CaseState(StrEnum):
    NEW = "new"
    CLAIMED = "claimed"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class CaseRequest:
    """What the official filled in."""

    municipality: str
    kind: str
    urgency: str
    description: str
    contact: str


@dataclass(frozen=True, slots=True)
class Requester:
    """Who asked, and where: `private_conversation_id` gets all updates; `origin_conversation_id` only the ref."""

    channel: str
    user_id: str
    name: str | None
    private_conversation_id: ConversationId | None
    origin_conversation_id: ConversationId | None


@dataclass(frozen=True, slots=True)
class Attachment:
    """The bot's last answer before the request: question, answer text and (title, url) sources."""

    question: str | None = None
    answer: str | None = None
    sources: tuple[tuple[str, str | None], ...] = ()


@dataclass(frozen=True, slots=True)
class Case:
    ref: CaseRef
    state: CaseState
    request: CaseRequest
    requester: Requester
    attachment: Attachment
    created_at: datetime
    updated_at: datetime
    answer_id: str | None = None
    claimed_by: str | None = None
    claimed_by_name: str | None = None
    claimed_at: datetime | None = None
    closing_note: str | None = None
    closed_at: datetime | None = None
    reminded_at: datetime | None = None

    @property
    def urgent(self) -> bool:
        return self.request.urgency == "spoed"


@dataclass(frozen=True, slots=True)
class Claim:
    """An OMO member takes the case on."""

    actor: str
    actor_name: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class Answer:
    """An OMO member sends `text` to the requester; an unclaimed case becomes theirs."""

    actor: str
    actor_name: str | None
    at: datetime
    text: str


@dataclass(frozen=True, slots=True)
class Close:
    actor: str
    actor_name: str | None
    at: datetime
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Remind:
    """The bot announces an urgent, unclaimed case again (once)."""

    at: datetime
    actor: str = "bot"


CaseEvent = Claim | Answer | Close | Remind


def event_name(event: CaseEvent) -> str:
    """The audit name of an event: claim, answer, close, remind."""
    return type(event).__name__.lower()


class TransitionError(EscalationError):
    """Raised when `event` is not allowed in `state`; `state` and `event` name them."""

    def __init__(self, state: CaseState, event: str, reason: str) -> None:
        super().__init__(f"{event} not allowed in state {state.value}: {reason}")
        self.state = state
        self.event = event
        self.reason = reason


def transition(case: Case, event: CaseEvent) -> Case:
    """The case after `event`; raises `TransitionError` for a forbidden pair. Pure."""
    name = event_name(event)
    if case.state is CaseState.CLOSED:
        raise TransitionError(case.state, name, "closed")
    replace = dataclasses.replace
    match event:
        case Claim():
            if case.state is CaseState.CLAIMED:
                raise TransitionError(case.state, name, "already_claimed")
            return _claimed(case, event)
        case Answer():
            # Answering an unclaimed case claims it: the requester hears from one person.
            return _claimed(case, event) if case.state is CaseState.NEW else replace(case, updated_at=event.at)
        case Close():
            return replace(
                case, state=CaseState.CLOSED, closing_note=event.note, closed_at=event.at, updated_at=event.at
            )
        case Remind():
            if case.state is not CaseState.NEW:
                raise TransitionError(case.state, name, "already_claimed")
            if not case.urgent or case.reminded_at is not None:
                raise TransitionError(case.state, name, "no_reminder_due")
            return replace(case, reminded_at=event.at)


def _claimed(case: Case, event: Claim | Answer) -> Case:
    return dataclasses.replace(
        case,
        state=CaseState.CLAIMED,
        claimed_by=event.actor,
        claimed_by_name=event.actor_name,
        claimed_at=event.at,
        updated_at=event.at,
    )
