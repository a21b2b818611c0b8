"""Incoming Teams activities: shape checks before the Agents SDK sees them, and conversion to `IncomingMessage`.

`check_activity` rejects a body the SDK would answer with a 500 or crash on (no `type`, no
`conversation.id`, no `serviceUrl`, no `recipient`/`from`), so the HTTP endpoint can answer 400.
`to_incoming` applies the delivery rules of `bot.core.messages`: everything in a personal chat; in a
channel or group chat only when the bot is @mentioned (mention stripped), the text starts with `!`,
or a card of the bot was submitted. It is pure: no I/O, the clock is passed in.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from microsoft_agents.activity import Activity
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.channels.delivery import delivered
from bot.core.messages import Action, ConversationId, ConversationRef, Feedback, IncomingMessage, UserId, parse_action

__all__ = ["CHANNEL", "ActivityShapeError", "check_activity", "is_private", "thread_root", "to_incoming"]

CHANNEL = "teams"

_MESSAGE_ID = re.compile(r";messageid=(\d+)")


class ActivityShapeError(ValueError):
    """Raised by `check_activity` for a body that is not a usable activity; the message says which field."""


class _Account(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str = Field(min_length=1, max_length=1024)


class _Conversation(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str = Field(min_length=1, max_length=2048)
    conversationType: str | None = None


class _ActivityShape(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    type: str = Field(min_length=1, max_length=64)
    serviceUrl: str = Field(min_length=8, max_length=2048, pattern=r"^https?://[^\s/]+")
    conversation: _Conversation
    recipient: _Account
    sender: _Account = Field(alias="from")
    text: str | None = Field(default=None, max_length=100_000)
    value: Any = None


def check_activity(body: object) -> None:
    """Raise `ActivityShapeError` unless `body` is a JSON object shaped like a Bot Framework activity."""
    if not isinstance(body, dict):
        raise ActivityShapeError("the body is not a JSON object")
    try:
        _ActivityShape.model_validate(body)
    except ValidationError as exc:
        fields = sorted({".".join(str(p) for p in err["loc"]) or "body" for err in exc.errors()})
        raise ActivityShapeError(f"invalid or missing field(s): {', '.join(fields)}") from None


def is_private(activity: Activity) -> bool:
    """A one-to-one chat with the bot (Teams `personal`; an unset type counts as private, as in the emulator)."""
    kind = activity.conversation.conversation_type if activity.conversation else None
    return kind in (None, "", "personal")


def thread_root(conversation_id: str) -> str | None:
    """The root message id of a channel thread (`19:...@thread.tacv2;messageid=123` → `123`), if any."""
    match = _MESSAGE_ID.search(conversation_id)
    return match.group(1) if match else None


def _card_submit(value: object) -> tuple[Feedback | None, Action | None]:
    """Map an Action.Submit `value` (card inputs merged with its `data`) to feedback or a typed action."""
    if not isinstance(value, Mapping):
        return None, None
    name = value.get("action")
    if not isinstance(name, str) or not name:
        return None, None
    answer_id = value.get("answer_id")
    answer_id = answer_id if isinstance(answer_id, str) and answer_id else None
    if name == "feedback":
        positive = value.get("positive")
        if isinstance(positive, str):
            positive = positive.lower() == "true"
        if not isinstance(positive, bool) or answer_id is None:
            return None, None
        return Feedback(positive=positive, answer_id=answer_id), None
    data = {str(k): str(v) for k, v in value.items() if k != "action" and isinstance(v, str | int | float | bool)}
    return None, parse_action(name, data)


def to_incoming(activity: Activity, now: datetime) -> IncomingMessage | None:
    """The message for the core, or None when the delivery rules say the bot should stay silent."""
    if activity.type != "message" or activity.conversation is None or activity.from_property is None:
        return None
    sender = activity.from_property
    bot = activity.recipient
    if (bot is not None and sender.id == bot.id) or (sender.role or "").lower() == "bot":
        return None
    private = is_private(activity)
    feedback, action = _card_submit(activity.value)
    submitted = feedback is not None or action is not None
    raw_text = activity.text or ""
    mentioned = activity.is_recipient_mentioned()
    text = html.unescape(activity.remove_recipient_mention() if mentioned else raw_text).strip()
    if not delivered(text, private=private, mentioned=mentioned, submitted=submitted):
        return None
    if not text and not submitted:
        return None
    conversation_id = ConversationId(activity.conversation.id)
    sent_at = activity.timestamp or now
    if sent_at.tzinfo is None:
        sent_at = sent_at.replace(tzinfo=UTC)
    return IncomingMessage(
        ref=ConversationRef(
            channel=CHANNEL,
            conversation_id=conversation_id,
            thread_id=thread_root(conversation_id),
            reply_to=activity.id or None,
        ),
        message_id=activity.id or "",
        sender=UserId(sender.aad_object_id or sender.id),
        text="" if submitted else text,
        is_private=private,
        sent_at=sent_at,
        sender_name=sender.name or None,
        feedback=feedback,
        action=action,
    )
