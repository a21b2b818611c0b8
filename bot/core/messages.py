"""The one contract between the conversation core and a chat platform (Matrix, Teams, the console).

An adapter turns platform events into `IncomingMessage`s and hands them to the `MessageHandler`;
the core answers by calling `Channel.send` with a `Reply`, which the adapter renders its own way
(HTML on Matrix, an Adaptive Card on Teams). Adapters turn platform errors into `ChannelError`.

Delivery rules every adapter keeps: never deliver the bot's own messages or another bot's notices;
deliver what was sent while the bot was down (Matrix: back to `matrix.catch_up_max_age`), but never
what was sent before it first started; a message may be delivered more than once (a restart, a
second instance), so the core claims each `message_id` once (`MessageClaims`); in a shared room
deliver only messages that mention the bot (mention stripped from `text`) or start with `!`; in a
private chat deliver all. An edited message is delivered as a new message with the new text and
`edit_of` naming the original, which replies go to.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import NewType, Protocol

from bot.core.models import Answer

__all__ = [
    "Action",
    "ActionName",
    "AnswerReply",
    "Button",
    "Capability",
    "CaseAction",
    "CaseVerb",
    "Channel",
    "ConversationId",
    "ConversationRef",
    "Feedback",
    "FormField",
    "FormReply",
    "IncomingMessage",
    "MessageHandler",
    "Reply",
    "SetDigest",
    "StartIntake",
    "SubmitIntake",
    "TextReply",
    "UserId",
    "parse_action",
]

UserId = NewType("UserId", str)
"""A platform user id: `@ambtenaar:gemeente.nl` on Matrix, an AAD object id or `29:...` on Teams."""

ConversationId = NewType("ConversationId", str)
"""A conversation on one platform: a Matrix room id (`!abc:gemeente.nl`), a Teams conversation id (`19:...`)."""


@dataclass(frozen=True, slots=True)
class ConversationRef:
    """Where a message was or will be posted.

    `conversation_id` is the Matrix room id or the Teams conversation id. `thread_id` is the Matrix
    thread root (answers go into that thread) or the Teams activity to reply to. `reply_to` is the
    message being answered. The adapter keeps whatever else it needs (a Teams serviceUrl) itself.
    """

    channel: str
    conversation_id: ConversationId
    thread_id: str | None = None
    reply_to: str | None = None


@dataclass(frozen=True, slots=True)
class Feedback:
    """A 👍/👎 on an answer: Teams names the `answer_id` (card data), Matrix the reacted-to `message_id`."""

    positive: bool
    answer_id: str | None = None
    message_id: str | None = None


class ActionName(StrEnum):
    """The wire name of each action, as a card button submits it (and the outbox stores it)."""

    START_INTAKE = "omo"
    SUBMIT_INTAKE = "omo_submit"
    CLAIM_CASE = "omo_claim"
    ANSWER_CASE = "omo_answer"
    CLOSE_CASE = "omo_close"
    DIGEST = "digest"


class CaseVerb(StrEnum):
    """What an OMO team member does with a case; the text commands `pak`, `antwoord`, `sluit` map here."""

    CLAIM = "claim"
    ANSWER = "answer"
    CLOSE = "close"


@dataclass(frozen=True, slots=True)
class StartIntake:
    """Start an OMO intake ("Vraag het OMO"), attaching the answer `answer_id` when given."""

    answer_id: str | None = None

    @property
    def name(self) -> ActionName:
        return ActionName.START_INTAKE

    @property
    def data(self) -> dict[str, str]:
        return {"answer_id": self.answer_id or ""}


@dataclass(frozen=True, slots=True)
class SubmitIntake:
    """A submitted intake form: its `fields` (input name to value), the answer and the room it began in."""

    answer_id: str | None = None
    origin: ConversationId | None = None
    fields: Mapping[str, str] = field(default_factory=dict)

    @property
    def name(self) -> ActionName:
        return ActionName.SUBMIT_INTAKE

    @property
    def data(self) -> dict[str, str]:
        return {**self.fields, "answer_id": self.answer_id or "", "origin": self.origin or ""}


@dataclass(frozen=True, slots=True)
class CaseAction:
    """An OMO team member's claim, answer or close of case `ref` (`text`: the answer or closing note)."""

    verb: CaseVerb
    ref: str
    text: str = ""

    @property
    def name(self) -> ActionName:
        return ActionName(f"omo_{self.verb}")

    @property
    def data(self) -> dict[str, str]:
        return {"ref": self.ref, "text": self.text}


@dataclass(frozen=True, slots=True)
class SetDigest:
    """Turn the daily digest of the room on or off."""

    on: bool

    @property
    def name(self) -> ActionName:
        return ActionName.DIGEST

    @property
    def data(self) -> dict[str, str]:
        return {"digest": "aan" if self.on else "uit"}  # the wire value stored rows already carry


Action = StartIntake | SubmitIntake | CaseAction | SetDigest
"""A button press or form submit. `name` and `data` are its wire form (`parse_action` reads it back)."""

_CASE_VERBS = {ActionName.CLAIM_CASE: CaseVerb.CLAIM, ActionName.ANSWER_CASE: CaseVerb.ANSWER}
_CASE_VERBS[ActionName.CLOSE_CASE] = CaseVerb.CLOSE


def parse_action(name: str, data: Mapping[str, str]) -> Action | None:
    """The action a card submitted (`name` plus its data and inputs); None for a name or value not known."""
    try:
        kind = ActionName(name)
    except ValueError:
        return None
    if kind is ActionName.START_INTAKE:
        return StartIntake(data.get("answer_id") or None)
    if kind is ActionName.SUBMIT_INTAKE:
        fields = {k: v for k, v in data.items() if k not in ("answer_id", "origin")}
        origin = data.get("origin")
        return SubmitIntake(data.get("answer_id") or None, ConversationId(origin) if origin else None, fields)
    if kind is ActionName.DIGEST:
        turn = data.get("digest", "")
        return SetDigest(turn == "aan") if turn in ("aan", "uit") else None
    return CaseAction(_CASE_VERBS[kind], data.get("ref", ""), data.get("text", ""))


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    """One message for the core. `text` has the bot mention stripped; it is empty for pure feedback/actions."""

    ref: ConversationRef
    message_id: str
    sender: UserId
    text: str
    is_private: bool
    sent_at: datetime
    sender_name: str | None = None
    feedback: Feedback | None = None
    action: Action | None = None
    edit_of: str | None = None
    """For an edit: the `message_id` of the edited message (`ref` points at it); `text` is the new text."""


@dataclass(frozen=True, slots=True)
class AnswerReply:
    """A checked answer with its citations; `answer_id` lets feedback buttons refer back to it."""

    answer: Answer
    answer_id: str
    edited: bool = False
    """The answer is to an edited question whose first version was already handled: say so."""


@dataclass(frozen=True, slots=True)
class Button:
    """A card button that comes back as an `IncomingMessage` with `action`; channels without cards skip it."""

    title: str
    action: Action


@dataclass(frozen=True, slots=True)
class TextReply:
    """Plain Dutch text from a template (a notice, help text, a refusal to process), optionally with buttons.

    Channels without buttons (Matrix) send the text alone, so it must name the text command as well.
    """

    text: str
    notice: bool = True
    buttons: tuple[Button, ...] = ()


@dataclass(frozen=True, slots=True)
class FormField:
    """One input of a form: free text, or a choice among `choices` ((value, label) pairs)."""

    name: str
    label: str
    choices: tuple[tuple[str, str], ...] = ()
    multiline: bool = False
    max_length: int | None = None
    value: str = ""


@dataclass(frozen=True, slots=True)
class FormReply:
    """A form (Teams: an Adaptive Card); each button submits its action's data plus the inputs (`parse_action`).

    Channels without forms send `text` alone, so it must name the text commands as well.
    """

    text: str
    fields: tuple[FormField, ...]
    buttons: tuple[Button, ...]


Reply = AnswerReply | TextReply | FormReply

MessageHandler = Callable[[IncomingMessage], Awaitable[None]]


class Capability(StrEnum):
    """What a channel can do beyond posting text; the core asks for these, never for a channel's name."""

    FORMS = "forms"
    """`FormReply` fields are shown as inputs and come back as an `Action` (Teams cards)."""
    BUTTONS = "buttons"
    """Buttons on a `TextReply` are shown and come back as an `Action`."""
    DIRECT_CHATS = "direct_chats"
    """`direct_chat(user)` opens a private chat with a user who never wrote to the bot (Matrix)."""
    THREADS = "threads"
    """Replies go into the thread (or reply chain) of the message answered."""
    PROACTIVE = "proactive"
    """`send` may post into a known conversation without a message to answer (digests, OMO notices)."""


class Channel(Protocol):
    """A chat platform with a lifecycle: `start` begins delivering messages to the handler, `stop` ends it.

    `send` posts and returns the message id. `txn_id`, when given, is the same for every attempt at
    sending one message: a platform that knows transaction ids (Matrix) posts a repeat from the same
    device only once; others ignore it. `direct_chat` is there only with `Capability.DIRECT_CHATS`;
    elsewhere it raises `ChannelError`. `running` is False before `start`, after `stop`, and once the
    channel gave up (health checks read it).
    """

    name: str

    @property
    def capabilities(self) -> frozenset[Capability]: ...

    @property
    def running(self) -> bool: ...

    async def start(self, handler: MessageHandler) -> None: ...

    async def stop(self) -> None: ...

    async def send(self, to: ConversationRef, reply: Reply, *, txn_id: str | None = None) -> str | None: ...

    async def typing(self, to: ConversationRef, active: bool) -> None: ...

    async def direct_chat(self, user_id: UserId) -> ConversationId: ...
