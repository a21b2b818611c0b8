"""Pure helpers for the Matrix adapter: who may talk to the bot, mentions, threads, reaction keys."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

__all__ = [
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


def strip_mention(
    body: str, content: Mapping[str, Any], own_user_id: str, display_name: str | None
) -> tuple[str, bool]:
    """The body without the bot's mention, and whether the bot was mentioned.

    A mention is the bot's id in `m.mentions.user_ids`, or its user id or display name in the body.
    """
    mentions = content.get("m.mentions")
    mentioned = isinstance(mentions, Mapping) and own_user_id in (mentions.get("user_ids") or ())
    text = body
    names = [own_user_id] + ([display_name] if display_name else [])
    for name in names:
        pattern = re.compile(re.escape(name), re.IGNORECASE)
        if pattern.search(text):
            mentioned = True
            text = pattern.sub(" ", text, count=1)
            break
    text = _LEADING_PUNCT.sub("", text).strip()
    return re.sub(r"[ \t]{2,}", " ", text), mentioned


def thread_root(content: Mapping[str, Any], event_id: str) -> str:
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
