"""`build_app`: services open, channels run and stop with the app, `/healthz` reports them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot.adapters.cases import SqlCaseStore
from bot.adapters.db import create_engine, migrate
from bot.adapters.state import AnswerStore
from bot.app import CHANNELS, CONVERSATION, SCHEDULER, SERVICES, build_app
from bot.config import load_settings
from bot.core.answering import Answerer
from bot.core.escalation import Attachment, CaseRequest, Close, Requester
from bot.core.messages import Channel, MessageHandler
from bot.core.ports import AnswerEntry, AnswerId
from bot.services import Services
from tests.bot.channels.matrix_harness import eventually
from tests.fakes import FakeAnswerer, FakeChannel, plugin
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

    app = build_app(settings, plugins=[plugin(running), plugin(absent)], answerer_factory=fake_answerer)
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

    app = build_app(settings, plugins=[plugin(broken)], answerer_factory=fake_answerer)
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


async def test_housekeeping_deletes_what_is_past_its_retention(tmp_path: Path) -> None:
    env = {"ONRUST_ANSWER__RETENTION_DAYS": "30", "ONRUST_ESCALATION__RETENTION_DAYS": "365"}
    settings = load_settings(environ=env, data_dir=tmp_path)
    now = datetime.now(UTC)
    engine = create_engine(settings.database_url)
    await migrate(engine)
    answers, cases = AnswerStore(engine), SqlCaseStore(engine)
    for answer_id, age in (("old", 40), ("new", 1)):
        at = now - timedelta(days=age)
        await answers.record(AnswerEntry(AnswerId(answer_id), "fake", "!r", None, "Vraag?", (), True, at))
    requester = Requester("matrix", "@a:x", "A", "!dm", None)
    request = CaseRequest("Utrecht", "demonstratie", "spoed", "Onrust.", "06-1")
    old_case = await cases.create(
        request, requester, Attachment(None, None, ()), None, now - timedelta(days=400), lambda case: []
    )
    await cases.apply(old_case.ref, Close("@omo:x", None, now - timedelta(days=399)), lambda before, after: [])
    open_case = await cases.create(request, requester, Attachment(None, None, ()), None, now, lambda case: [])
    await engine.dispose()

    def running(services: Services) -> Channel:
        return RunningChannel(name="fake")

    def fake_answerer(services: Services) -> Answerer:
        return FakeAnswerer([])

    app = build_app(settings, plugins=[plugin(running)], answerer_factory=fake_answerer)
    runner = web.AppRunner(app)
    await runner.setup()  # the hourly housekeeping also runs once at start
    try:
        services = app[SERVICES]

        async def old_answer_gone() -> bool:
            return await services.answers.find(answer_id="old") is None

        await eventually(old_answer_gone, timeout=10, what="the housekeeping run")
        await asyncio.gather(*app[SCHEDULER].tasks)
        assert await services.answers.find(answer_id="new") is not None
        assert await SqlCaseStore(services.engine).get(old_case.ref) is None
        assert await SqlCaseStore(services.engine).get(open_case.ref) is not None
    finally:
        await runner.cleanup()
