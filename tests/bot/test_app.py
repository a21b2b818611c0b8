"""`build_app`: services open, channels run and stop with the app, `/healthz` reports them."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot.app import CHANNELS, CONVERSATION, Services, build_app
from bot.channels.base import Channel, MessageHandler
from bot.config import load_settings
from bot.core.answering import Answerer
from tests.fakes import FakeAnswerer, FakeChannel
from tests.synapse import free_port

pytestmark = pytest.mark.integration


class RunningChannel(FakeChannel):
    async def run(self, on_message: MessageHandler) -> None:
        await asyncio.Event().wait()


class BrokenChannel(FakeChannel):
    async def run(self, on_message: MessageHandler) -> None:
        raise RuntimeError("cannot connect")


async def test_healthz_reports_channels(tmp_path: Path) -> None:
    settings = load_settings(environ={}, data_dir=tmp_path)

    def fake_answerer(services: Services) -> Answerer:
        return FakeAnswerer([])

    def running(services: Services) -> Channel:
        return RunningChannel(name="fake")

    def broken(services: Services) -> Channel:
        return BrokenChannel(name="broken")

    def absent(services: Services) -> Channel | None:
        return None

    app = build_app(settings, channel_factories=[running, absent], answerer_factory=fake_answerer)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http,
            http.get(f"http://127.0.0.1:{port}/healthz") as resp,
        ):
            assert resp.status == 200
            assert await resp.json() == {"ok": True, "channels": {"fake": "running"}}
        assert set(app[CHANNELS]) == {"fake"} and app[CONVERSATION] is not None
    finally:
        await runner.cleanup()

    app = build_app(settings, channel_factories=[broken], answerer_factory=fake_answerer)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        await asyncio.sleep(0.05)
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http,
            http.get(f"http://127.0.0.1:{port}/healthz") as resp,
        ):
            assert resp.status == 503
            assert (await resp.json())["channels"] == {"broken": "stopped"}
    finally:
        await runner.cleanup()
