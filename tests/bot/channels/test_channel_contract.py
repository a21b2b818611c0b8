"""One contract, every channel: what the core relies on, checked against each registered channel.

Each case is a registry entry (`bot.channels.registry`) and its platform (`contract.py`): Matrix on the
real Synapse, Teams on its real endpoint with recorded activities, and the in-memory toy channel. The
channel is built, routed and started through its plugin, as `onrust serve` does it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.state import ConversationStore, KeyValueStore
from bot.channels.registry import ChannelPlugin
from bot.config import Settings
from bot.core.messages import (
    Button,
    Capability,
    Channel,
    ConversationRef,
    IncomingMessage,
    StartIntake,
    TextReply,
    UserId,
)
from bot.errors import ChannelError
from tests.bot.channels.contract import Case, Platform, real_cases
from tests.bot.channels.matrix_harness import eventually
from tests.bot.channels.toy_channel import TOY

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

CASES: list[Case] = [*real_cases(), TOY]


@dataclass(frozen=True)
class Deps:
    settings: Settings
    kv: KeyValueStore
    conversations: ConversationStore


@dataclass
class Running:
    channel: Channel
    platform: Platform
    inbox: asyncio.Queue[IncomingMessage]

    async def next(self) -> IncomingMessage:
        async with asyncio.timeout(20):
            return await self.inbox.get()


@pytest.fixture(params=CASES, ids=[plugin.name for plugin, _ in CASES])
async def running(request: pytest.FixtureRequest, tmp_path: Path, sqlite_engine: AsyncEngine) -> AsyncIterator[Running]:
    plugin: ChannelPlugin = request.param[0]
    async with request.param[1](request, tmp_path) as platform:
        deps = Deps(platform.settings, KeyValueStore(sqlite_engine), ConversationStore(sqlite_engine))
        channel = plugin.build(deps)
        assert channel is not None and channel.name == plugin.name
        found: list[Channel] = []
        for prefix, routes in plugin.routes(platform.settings, lambda: found[0] if found else None).items():
            await platform.serve(routes, prefix)
        inbox: asyncio.Queue[IncomingMessage] = asyncio.Queue()
        assert not channel.running
        await channel.start(inbox.put)
        found.append(channel)
        try:
            await platform.ready(channel)
            assert channel.running
            yield Running(channel, platform, inbox)
        finally:
            await channel.stop()
            assert not channel.running


async def said(run: Running, conversation: str, count: int) -> list[tuple[str, list[str]]]:
    async def enough() -> list[tuple[str, list[str]]] | None:
        posts = await run.platform.bot_said(conversation)
        return posts if len(posts) >= count else None

    result: list[tuple[str, list[str]]] = await eventually(enough, what=f"{count} bot message(s) in {conversation}")
    return result


async def test_a_private_message_is_delivered_and_answered_in_place(running: Running) -> None:
    chat = await running.platform.private_chat()
    await running.platform.say(chat, "Wat is de MIA?")
    msg = await running.next()
    assert (msg.ref.channel, msg.ref.conversation_id, msg.text) == (running.channel.name, chat, "Wat is de MIA?")
    assert msg.is_private and msg.sender == running.platform.user_id and msg.message_id
    await running.channel.send(msg.ref, TextReply("Het antwoord."))
    assert (await said(running, chat, 1))[-1][0] == "Het antwoord."


async def test_a_shared_room_delivers_only_mentions_and_commands(running: Running) -> None:
    room = await running.platform.shared_room()
    await running.platform.say(room, "Gewoon een praatje")
    await running.platform.say(room, "!help")
    await running.platform.say(room, "Wat is de MIA?", mention=True)
    first, second = await running.next(), await running.next()
    assert {first.text, second.text} == {"!help", "Wat is de MIA?"}  # the mention is stripped
    assert not first.is_private and not second.is_private
    assert running.inbox.empty()


async def test_capabilities_are_what_the_channel_does(running: Running) -> None:
    channel, platform = running.channel, running.platform
    chat = await platform.private_chat()
    await platform.say(chat, "hallo")
    await running.next()  # the platform knows the chat now (Teams: its conversation reference)
    button = Button("Ja", StartIntake())
    if Capability.PROACTIVE in channel.capabilities:  # no message to answer: posted into the chat
        await channel.send(ConversationRef(channel.name, chat), TextReply("Een melding.", buttons=(button,)))
        text, titles = (await said(running, chat, 1))[-1]
        assert text == "Een melding."
        assert titles == (["Ja"] if Capability.BUTTONS in channel.capabilities else [])
    if Capability.DIRECT_CHATS in channel.capabilities:
        opened = await channel.direct_chat(UserId(platform.user_id))
        assert opened and await channel.direct_chat(UserId(platform.user_id)) == opened
    else:
        with pytest.raises(ChannelError):
            await channel.direct_chat(UserId(platform.user_id))
