"""Pure helpers for the Matrix adapter: who may talk to the bot, mentions, edits, threads, reaction keys."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from urllib.parse import unquote

from bot.core.json_types import JsonObject

__all__ = [
    "content_of",
    "edit_of",
    "edited_in",
    "reaction_vote",
    "server_of",
    "strip_mention",
    "thread_root",
    "user_allowed",
]

# Variation selectors and skin-tone modifiers clients add to 👍/👎.
_EMOJI_DECORATION = re.compile("[\ufe0e\ufe0f\U0001f3fb-\U0001f3ff]")
_VOTES = {"\U0001f44d": True, "\U0001f44e": False, "+1": True, "-1": False}
_LEADING_PUNCT = re.compile(r"^[\s:,;>-]+")
# A matrix.to link to a user, bare or inside a pill's href; group 1 is the (maybe %-encoded) user id.
_MATRIX_TO = re.compile(r"https://matrix\.to/#/((?:@|%40)[^\s\"'<>?/]+)")


def server_of(user_id: str) -> str:
    """`@name:server.example` -> `server.example` (user ids, unlike v12 room ids, still name their server)."""
    return user_id.partition(":")[2]


def user_allowed(
    user_id: str, own_user_id: str, allowed_users: Collection[str], allowed_servers: Collection[str]
) -> bool:
    """Whether the bot talks to `user_id`: listed by name, or on an allowed server (default: the bot's own)."""
    if user_id in allowed_users:
        return True
    servers = allowed_servers or (server_of(own_user_id),)
    return server_of(user_id) in servers


def _mentions(content: Mapping[str, object]) -> list[str]:
    mentions = content.get("m.mentions")
    users = mentions.get("user_ids") if isinstance(mentions, Mapping) else None
    return [u for u in users if isinstance(u, str)] if isinstance(users, list) else []


def _links_to(text: str, user_id: str) -> bool:
    """Whether `text` holds a matrix.to link (a pill in HTML, or a bare link) to `user_id`."""
    return any(unquote(m.group(1)) == user_id for m in _MATRIX_TO.finditer(text))


def strip_mention(
    body: str, content: Mapping[str, object], own_user_id: str, display_name: str | None
) -> tuple[str, bool]:
    """The body without the bot's mention, and whether the bot was mentioned.

    A mention is the bot's id in `m.mentions.user_ids`, a pill or matrix.to link to the bot, the bot's
    user id as a whole token anywhere, or its display name as a whole word at the start of the body.
    A word that merely contains the display name ("onrustkaart" for "Onrust") is no mention.
    """
    formatted = content.get("formatted_body")
    mentioned = (
        own_user_id in _mentions(content)
        or (isinstance(formatted, str) and _links_to(formatted, own_user_id))
        or _links_to(body, own_user_id)
    )
    text = _MATRIX_TO.sub(lambda m: " " if unquote(m.group(1)) == own_user_id else m.group(0), body)
    own_id = re.compile(rf"(?<![\w@.-]){re.escape(own_user_id)}(?![\w.-])", re.IGNORECASE)
    if own_id.search(text):
        mentioned = True
        text = own_id.sub(" ", text, count=1)
    elif display_name:
        leading = re.compile(rf"\s*{re.escape(display_name)}(?![\w-])", re.IGNORECASE)
        match = leading.match(text)
        if match is not None:
            mentioned = True
            text = text[match.end() :]
    text = _LEADING_PUNCT.sub("", text).strip()
    return re.sub(r"[ \t]{2,}", " ", text), mentioned


def edit_of(content: Mapping[str, object]) -> tuple[str, Mapping[str, object]] | None:
    """For an edit (`m.replace`): the id of the edited event and the new content; None for anything else.

    The new content's `m.mentions` also lists whom the edit itself mentions.
    """
    relates = content.get("m.relates_to")
    if not isinstance(relates, Mapping) or relates.get("rel_type") != "m.replace":
        return None
    original, new = relates.get("event_id"), content.get("m.new_content")
    if not isinstance(original, str) or not original or not isinstance(new, Mapping):
        return None
    return original, {**new, "m.mentions": {"user_ids": _mentions(new) + _mentions(content)}}


def thread_root(content: Mapping[str, object], event_id: str) -> str:
    """The thread a message belongs to: its `m.thread` root, or the message itself (a new thread on it)."""
    relates = content.get("m.relates_to")
    if isinstance(relates, Mapping) and relates.get("rel_type") == "m.thread":
        root = relates.get("event_id")
        if isinstance(root, str) and root:
            return root
    return event_id


def reaction_vote(key: str) -> bool | None:
    """True for 👍, False for 👎 (with any variation selector or skin tone), None for anything else."""
    return _VOTES.get(_EMOJI_DECORATION.sub("", key).strip())


def content_of(event: object) -> JsonObject:
    """The `content` of a nio event's raw source (unchecked JSON from the homeserver); empty when it has none."""
    source = getattr(event, "source", None)
    content = source.get("content") if isinstance(source, dict) else None
    return content if isinstance(content, dict) else {}


def edited_in(events: Sequence[object]) -> set[str]:
    """Ids of the events in `events` that an edit in `events` by the same sender replaces."""
    senders = {getattr(e, "event_id", None): getattr(e, "sender", None) for e in events}
    edits = ((edit_of(content_of(e)), getattr(e, "sender", None)) for e in events)
    return {edit[0] for edit, sender in edits if edit is not None and senders.get(edit[0]) == sender}
