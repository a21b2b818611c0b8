"""A third channel that lives only in the tests: an in-memory chat network, registered like the real ones.

It proves the channel contract is all a channel needs: this file and one registration line in
`test_channel_contract.py` (`CASES`), nothing else. It has buttons, so the core's capability checks
are exercised by a channel that is neither Matrix nor Teams.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp import web

from bot.channels.delivery import delivered
from bot.channels.lifecycle import ChannelBase, HandlerTasks
from bot.channels.registry import ChannelDeps, ChannelPlugin
from bot.config import Settings, load_settings
from bot.core.messages import (
    AnswerReply,
    Capability,
    Channel,
    ConversationRef,
    IncomingMessage,
    MessageHandler,
    Reply,
    TextReply,
    UserId,
)
from tests.bot.channels.contract import Case, Platform

__all__ = ["TOY"]

BOT = "toy-bot"


@dataclass
class ToyNetwork:
    """The chat service: rooms with their posts, and a queue of what users posted for the bot."""

    private: set[str] = field(default_factory=set)
    posts: dict[str, list[tuple[str, str, list[str]]]] = field(default_factory=dict)  # room -> (author, text, buttons)
    inbox: asyncio.Queue[tuple[str, str, str, bool]] = field(default_factory=asyncio.Queue)


_NETWORK = ToyNetwork()


class ToyChannel(ChannelBase):
    name = "toy"
    capabilities = frozenset({Capability.BUTTONS, Capability.PROACTIVE})

    def __init__(self, network: ToyNetwork) -> None:
        self._network = network
        self._tasks = HandlerTasks(self.name)
        self._ids = 0

    async def run(self, on_message: MessageHandler) -> None:
        try:
            while True:
                room, user, text, mentioned = await self._network.inbox.get()
                private = room in self._network.private
                if user == BOT or not delivered(text, private=private, mentioned=mentioned):
                    continue
                self._ids += 1
                ref = ConversationRef(self.name, room, reply_to=f"in-{self._ids}")
                msg = IncomingMessage(ref, f"in-{self._ids}", UserId(user), text, private, datetime.now(UTC))
                self._tasks.spawn(on_message, msg)
        finally:
            await self._tasks.cancel_all()

    async def send(self, to: ConversationRef, reply: Reply, *, txn_id: str | None = None) -> str | None:
        if isinstance(reply, AnswerReply):
            text, buttons = reply.answer.text, []
        else:  # no forms: a form is its text alone
            text, buttons = reply.text, [b.title for b in reply.buttons] if isinstance(reply, TextReply) else []
        self._network.posts.setdefault(to.conversation_id, []).append((BOT, text, buttons))
        return f"out-{len(self._network.posts[to.conversation_id])}"

    async def typing(self, to: ConversationRef, active: bool) -> None:
        return None


def _build(deps: ChannelDeps) -> Channel | None:
    return ToyChannel(_NETWORK)


@dataclass
class ToyPlatform:
    settings: Settings
    user_id: str = "toy-user"

    async def serve(self, routes: web.Application, prefix: str) -> None:
        raise AssertionError("the toy channel serves no HTTP routes")

    async def ready(self, channel: Channel) -> None:
        return None

    async def private_chat(self) -> str:
        _NETWORK.private.add("dm-1")
        return "dm-1"

    async def shared_room(self) -> str:
        return "room-1"

    async def say(self, conversation: str, text: str, *, mention: bool = False) -> None:
        _NETWORK.posts.setdefault(conversation, []).append((self.user_id, text, []))
        await _NETWORK.inbox.put((conversation, self.user_id, text, mention))

    async def bot_said(self, conversation: str) -> list[tuple[str, list[str]]]:
        return [(text, buttons) for author, text, buttons in _NETWORK.posts.get(conversation, ()) if author == BOT]


@asynccontextmanager
async def toy_platform(request: pytest.FixtureRequest, tmp: Path) -> AsyncIterator[Platform]:
    global _NETWORK
    _NETWORK = ToyNetwork()
    yield ToyPlatform(load_settings(environ={}, data_dir=tmp))


TOY: Case = (ChannelPlugin("toy", _build), toy_platform)
