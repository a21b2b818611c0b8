"""`build_app` runs the digest: the scheduler starts with the app, catches up at start, delivers via the outbox."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from aiohttp import web

from bot.adapters.db import create_engine, migrate
from bot.adapters.digest_store import DigestStore
from bot.app import SCHEDULER, build_app
from bot.config import load_settings
from bot.core.answering import Answerer
from bot.core.digest import Audience
from bot.core.messages import Channel, MessageHandler, TextReply
from bot.services import Services
from tests.bot.channels.matrix_harness import eventually
from tests.fakes import FakeAnswerer, FakeChannel, plugin

pytestmark = pytest.mark.integration


class RunningChannel(FakeChannel):
    async def run(self, on_message: MessageHandler) -> None:
        await asyncio.Event().wait()


async def test_missed_digest_goes_out_once_when_the_app_starts(tmp_path: Path) -> None:
    settings = load_settings(environ={}, data_dir=tmp_path)
    engine = create_engine(settings.database_url)
    await migrate(engine)
    await DigestStore(engine).subscribe("fake", "!room:x", None, Audience(), datetime(2026, 3, 27, tzinfo=UTC))
    await engine.dispose()
    channel = RunningChannel(name="fake")

    def channels(services: Services) -> Channel:
        return channel

    def answerer(services: Services) -> Answerer:
        return FakeAnswerer([])

    # Monday 30 March 2026, 10:15 in Amsterdam: the bot was down at 08:30
    with time_machine.travel(datetime(2026, 3, 30, 8, 15, tzinfo=UTC), tick=True):
        for _ in range(2):  # start, stop, start again the same day
            app = build_app(settings, plugins=[plugin(channels)], answerer_factory=answerer)
            runner = web.AppRunner(app)
            await runner.setup()
            try:
                await eventually(lambda: channel.sent, timeout=10, what="the digest")
                await asyncio.sleep(0.3)  # the start-up run of the second start has been launched by now
                await asyncio.gather(*app[SCHEDULER].tasks)
            finally:
                await runner.cleanup()
    assert len(channel.sent) == 1
    ref, reply = channel.sent[0]
    assert ref.conversation_id == "!room:x" and isinstance(reply, TextReply)
    assert "maandag 30 maart 2026" in reply.text
