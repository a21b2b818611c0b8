"""`/readyz` reports the database, the store and the channels; `/healthz` stays a liveness check.

The database is a real PostgreSQL that is stopped and started again.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.app import Services, build_app
from bot.config import load_settings
from bot.core.answering import Answerer
from bot.core.messages import Channel, MessageHandler
from tests.conftest import Postgres
from tests.fakes import FakeAnswerer, FakeChannel, plugin
from tests.synapse import free_port

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


class RunningChannel(FakeChannel):
    async def run(self, on_message: MessageHandler) -> None:
        await asyncio.Event().wait()


@pytest.fixture
async def server(own_postgres: Postgres, tmp_path: Path) -> AsyncIterator[str]:
    env = {"ONRUST_STATE__DATABASE_URL": own_postgres.new_database(), "ONRUST_STORE__TIMEOUT_S": "3"}
    settings = load_settings(environ=env, data_dir=tmp_path)

    def answerer(services: Services) -> Answerer:
        return FakeAnswerer([])

    def channel(services: Services) -> Channel:
        return RunningChannel(name="fake")

    runner = web.AppRunner(build_app(settings, plugins=[plugin(channel)], answerer_factory=answerer))
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def get(url: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as http, http.get(url) as resp:
        return resp.status, await resp.json()


async def test_readyz_follows_the_database_and_healthz_does_not(server: str, own_postgres: Postgres) -> None:
    ready = {"ok": True, "database": "ok", "store": "ok", "channels": {"fake": "running"}}
    assert await get(f"{server}/readyz") == (200, ready)
    await asyncio.to_thread(own_postgres.stop)
    status, body = await get(f"{server}/readyz")
    assert (status, body["ok"], body["database"], body["store"]) == (503, False, "unreachable", "ok")
    assert await get(f"{server}/healthz") == (200, {"ok": True, "channels": {"fake": "running"}})
    await asyncio.to_thread(own_postgres.start)
    assert await get(f"{server}/readyz") == (200, ready)
