"""The console over plain HTTP: off until an account exists, every page and form needs a session, roles hold."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot.adapters.accounts import Role, UserStore
from bot.app import SERVICES, build_app
from bot.config import load_settings
from bot.core.answering import Answerer
from bot.services import Services
from tests.fakes import FakeAnswerer
from tests.synapse import free_port

pytestmark = pytest.mark.integration

PAGES = ["/console/", "/console/cases", "/console/cases/OMO-2026-0001", "/console/gaps", "/console/documents"]
FORMS = [
    "/console/cases/OMO-2026-0001/claim",
    "/console/cases/OMO-2026-0001/answer",
    "/console/cases/OMO-2026-0001/close",
    "/console/gaps/handled",
    "/console/documents",
    "/console/documents/remove",
    "/console/logout",
]


def fake_answerer(services: Services) -> Answerer:
    return FakeAnswerer([])


@asynccontextmanager
async def running(tmp_path: Path, env: dict[str, str] | None = None) -> AsyncIterator[tuple[str, web.Application]]:
    """`build_app` with a fake answerer and no channels, listening on a free port."""
    settings = load_settings(environ=env or {}, data_dir=tmp_path)
    app = build_app(settings, channel_factories=[], answerer_factory=fake_answerer)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}", app
    finally:
        await runner.cleanup()


async def test_off_without_accounts_then_every_page_and_form_needs_a_session(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.console")
    timeout = aiohttp.ClientTimeout(total=10)
    async with running(tmp_path) as (url, app):
        assert "console: off until an account exists" in caplog.text
        async with (
            aiohttp.ClientSession(timeout=timeout, cookie_jar=aiohttp.CookieJar(unsafe=True)) as http,
            http.get(f"{url}/console/login") as resp,
        ):
            assert resp.status == 503 and "De console staat uit" in await resp.text()
        await UserStore(app[SERVICES].engine).add("eva", Role.EDITOR, "eva-haar-wachtwoord", datetime.now(UTC))
        async with aiohttp.ClientSession(timeout=timeout, cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            async with http.get(f"{url}/console/login") as resp:
                assert resp.status == 200
                assert resp.headers["Content-Security-Policy"].startswith("default-src 'self'")
            async with http.get(f"{url}/console/static/console.css") as resp:
                assert resp.status == 200
            for path in PAGES:
                async with http.get(url + path, allow_redirects=False) as resp:
                    assert (path, resp.status, resp.headers.get("Location")) == (path, 303, "/console/login")
            for path in FORMS:
                async with http.post(url + path, data={"csrf": "x"}, allow_redirects=False) as resp:
                    assert (path, resp.status, resp.headers.get("Location")) == (path, 303, "/console/login")
            async with http.get(url + "/console/login") as resp:
                assert "onrust_console_signin" in resp.cookies
            async with http.post(f"{url}/console/login", data={"name": "eva", "password": "fout"}) as resp:
                assert resp.status == 403  # the sign-in cookie is there, its CSRF value is not in the form


async def test_sign_in_is_rate_limited_per_name_and_address(tmp_path: Path) -> None:
    async with running(tmp_path) as (url, app):
        await UserStore(app[SERVICES].engine).add("eva", Role.EDITOR, "eva-haar-wachtwoord", datetime.now(UTC))
        async with aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=10), cookie_jar=aiohttp.CookieJar(unsafe=True)
        ) as http:

            async def attempt(password: str) -> tuple[int, str]:
                async with http.get(f"{url}/console/login") as page:
                    match = re.search(r'name="csrf" value="([^"]+)"', await page.text())
                assert match is not None
                form = {"csrf": match[1], "name": "eva", "password": password}
                async with http.post(f"{url}/console/login", data=form, allow_redirects=False) as resp:
                    return resp.status, await resp.text()

            assert [(await attempt("fout"))[0] for _ in range(5)] == [401] * 5
            status, text = await attempt("eva-haar-wachtwoord")
            assert status == 429 and "Te veel mislukte pogingen" in text
