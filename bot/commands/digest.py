"""`onrust digest preview` and `onrust digest send-now`: the daily digest by hand.

`preview` prints what a room would get now, and changes nothing. `send-now` queues a digest for one
subscribed room (or every one) in the outbox, due or not, and records it as that day's digest; the
outbox worker of the running `onrust serve` delivers it within seconds.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import TYPE_CHECKING

from bot.core.messages import ConversationId

if TYPE_CHECKING:
    from bot.commands import Subcommands
    from bot.config import Settings
    from bot.core.digest_service import DigestService

__all__ = ["register"]


def register(sub: Subcommands) -> None:
    digest = sub.add_parser(
        "digest",
        help="preview or send the daily digest",
        description="The daily digest rooms subscribe to with '!digest aan'. Settings: [digest] in onrust.toml.",
    )
    actions = digest.add_subparsers(dest="digest_command", metavar="ACTION", required=True)
    preview = actions.add_parser(
        "preview",
        help="print the digest a room would get now (sends nothing)",
        description="Print the messages a room would get if its digest went out now, covering what happened "
        "since its previous digest (or the last day, for a room that is not subscribed).",
    )
    preview.add_argument("--room", required=True, type=ConversationId, help="Matrix room id or Teams conversation id")
    preview.add_argument("--channel", help="a registered channel name; default: the subscription's")
    preview.set_defaults(handler=run_preview)
    send = actions.add_parser(
        "send-now",
        help="queue the digest now for one subscribed room, or all",
        description="Queue the digest in the outbox now, due or not; the running bot delivers it. It counts "
        "as the day's digest, so the scheduled one is not sent again today.",
    )
    send.add_argument("--room", type=ConversationId, help="only this subscribed room (default: every subscribed room)")
    send.add_argument("--channel", help="only subscriptions on this registered channel")
    send.set_defaults(handler=run_send_now)


async def _channel_of(digests: DigestService, room: ConversationId, channel: str | None) -> tuple[str, datetime | None]:
    """The channel of `room` and the start of its next digest's window (None: not subscribed)."""
    from bot.channels.registry import names  # not at the top: `onrust --help` loads no channel module

    for name in [channel] if channel else names():
        sub = await digests.subscription(name, room)
        if sub is not None:
            return name, digests.window_start(sub)
    return channel or names()[0], None


def _unknown_channel(channel: str | None) -> bool:
    """True (after saying so) when `channel` is given but not registered."""
    from bot.channels.registry import names

    if channel is None or channel in names():
        return False
    print(f"onrust: unknown channel {channel!r}; registered: {', '.join(names())}", file=sys.stderr)
    return True


async def run_preview(args: argparse.Namespace, settings: Settings) -> int:
    if _unknown_channel(args.channel):
        return 2
    # Imported here, not at the top: `onrust --help` reads this module, and `bot.app` loads every chat SDK.
    from bot.app import build_digests
    from bot.core.clock import utc
    from bot.core.digest_service import FIRST_WINDOW
    from bot.core.messages import ConversationRef
    from bot.services import open_services

    async with open_services(settings) as services:
        digests = build_digests(services)
        channel, since = await _channel_of(digests, args.room, args.channel)
        now = utc()
        if since is None:
            print(f"note: {channel} {args.room} is not subscribed; showing the last day", file=sys.stderr)
            since = now - FIRST_WINDOW
        texts = await digests.compose(ConversationRef(channel, args.room), since, now)
    if not texts:
        print("note: nothing new, and digest.send_when_empty is false: no message would be sent", file=sys.stderr)
    for number, text in enumerate(texts, start=1):
        if len(texts) > 1:
            print(f"--- message {number} of {len(texts)} ---")
        print(text)
    return 0


async def run_send_now(args: argparse.Namespace, settings: Settings) -> int:
    if _unknown_channel(args.channel):
        return 2
    from bot.app import build_digests
    from bot.services import open_services

    async with open_services(settings) as services:
        digests = build_digests(services)
        count = await digests.send_now(args.channel, args.room)
    if count == 0:
        print("onrust: no subscribed room matched; nothing queued", file=sys.stderr)
        return 1
    print(f"queued {count} digest(s); the running bot delivers them")
    return 0
