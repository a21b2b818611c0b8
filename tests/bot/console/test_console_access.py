"""The console over plain HTTP: off until an account exists, every page and form needs a session, roles hold."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp import web

from bot.adapters.accounts import Role, UserStore
from bot.adapters.cases import SqlCaseStore
from bot.adapters.state import AnswerStore
from bot.app import SERVICES, build_app
from bot.config import load_settings
from bot.console import console_app
from bot.core.answering import Answerer
from bot.core.escalation import Attachment, CaseRequest, Requester
from bot.core.models import IngestAction, IngestEvent
from bot.core.ports import AnswerEntry, AnswerId
from bot.services import Services
from tests.fakes import FakeAnswerer
from tests.synapse import free_port

pytestmark = pytest.mark.integration

PAGES = [
    "/console/",
    "/console/overzicht",
    "/console/cases",
    "/console/cases/OMO-2026-0001",
    "/console/gaps",
    "/console/documents",
]
FORMS = [
    "/console/cases/OMO-2026-0001/claim",
    "/console/cases/OMO-2026-0001/answer",
    "/console/cases/OMO-2026-0001/close",
    "/console/gaps/handled",
    "/console/documents",
    "/console/documents/remove",
    "/console/documents/url",
    "/console/logout",
]


def fake_answerer(services: Services) -> Answerer:
    return FakeAnswerer([])


@asynccontextmanager
async def running(tmp_path: Path, env: dict[str, str] | None = None) -> AsyncIterator[tuple[str, web.Application]]:
    """`build_app` with a fake answerer and no channels, listening on a free port."""
    settings = load_settings(environ=env or {}, data_dir=tmp_path)
    app = build_app(settings, plugins=[], answerer_factory=fake_answerer)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}", app
    finally:
        await runner.cleanup()


async def sign_in(http: aiohttp.ClientSession, url: str, name: str, password: str) -> tuple[int, str]:
    """Sign in through the form, with the CSRF value the sign-in page hands out."""
    async with http.get(f"{url}/console/login") as page:
        match = re.search(r'name="csrf" value="([^"]+)"', await page.text())
    assert match is not None
    form = {"csrf": match[1], "name": name, "password": password}
    async with http.post(f"{url}/console/login", data=form, allow_redirects=False) as resp:
        return resp.status, await resp.text()


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


def test_the_lists_above_hold_every_console_route() -> None:
    settings = load_settings(environ={}, data_dir=Path("/nonexistent"))
    app = console_app(settings.console, lambda: None, lambda: None)  # type: ignore[arg-type,return-value]
    routes = {(r.method, r.resource.canonical) for r in app.router.routes() if r.resource is not None}
    public = {"/login", "/oidc/start", "/oidc/callback", "/static"}
    listed = {("GET", p) for p in PAGES} | {("POST", p) for p in FORMS}
    guarded = {
        (method, "/console" + path.replace("{ref}", "OMO-2026-0001"))
        for method, path in routes
        if method in {"GET", "POST"} and path not in public
    }
    claim_answer_close = {("POST", f"/console/cases/OMO-2026-0001/{a}") for a in ("claim", "answer", "close")}
    action_route = ("POST", "/console/cases/OMO-2026-0001/{action}")
    assert guarded - {action_route} | claim_answer_close == listed


async def test_wrong_roles_and_forms_without_their_csrf_token_get_403(tmp_path: Path) -> None:
    async with running(tmp_path) as (url, app):
        services = app[SERVICES]
        users = UserStore(services.engine)
        await users.add("eva", Role.EDITOR, "eva-wachtwoord", datetime.now(UTC))
        await users.add("omar", Role.OMO, "omar-wachtwoord", datetime.now(UTC))
        requester = Requester("matrix", "@jan:test", "Jan", "!dm:test", "!dm:test")
        request = CaseRequest("Zwolle", "demonstratie", "spoed", "Demonstratie bij het stadhuis.", "06-1")
        case = await SqlCaseStore(services.engine).create(
            request, requester, Attachment(), None, datetime.now(UTC), lambda c: []
        )
        timeout = aiohttp.ClientTimeout(total=20)
        for name, forbidden in (
            ("eva", [p for p in PAGES + FORMS if "/cases" in p]),
            ("omar", ["/console/gaps", "/console/gaps/handled"]),
        ):
            async with aiohttp.ClientSession(timeout=timeout, cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
                assert (await sign_in(http, url, name, f"{name}-wachtwoord"))[0] == 303
                async with http.get(f"{url}/console/documents") as resp:
                    match = re.search(r'name="csrf" value="([^"]+)"', await resp.text())
                assert match is not None
                csrf = match[1]
                for path in forbidden:
                    method = http.post if path in FORMS else http.get
                    form = {"csrf": csrf, "text": "Antwoord", "note": "n", "answer_id": "a1"}
                    async with method(url + path.replace("OMO-2026-0001", case.ref), data=form) as resp:
                        assert (name, path, resp.status) == (name, path, 403)
                        assert "Zwolle" not in await resp.text()
                allowed = [p for p in FORMS if p not in forbidden and p != "/console/logout"]
                for path in allowed:
                    target = url + path.replace("OMO-2026-0001", case.ref)
                    for form in ({"text": "Antwoord", "doc_id": "x"}, {"csrf": csrf[:-1], "text": "Antwoord"}):
                        async with http.post(target, data=form, allow_redirects=False) as resp:
                            assert (name, path, resp.status) == (name, path, 403)
                    upload = aiohttp.FormData()
                    upload.add_field("file", b"# Tekst\n", filename="a.md")
                    upload.add_field("csrf", csrf)  # after the file: the guard reads the first field only
                    async with http.post(target, data=upload, allow_redirects=False) as resp:
                        assert (name, path, resp.status) == (name, path, 403)
                async with http.post(f"{url}/console/logout", data={}, allow_redirects=False) as resp:
                    assert resp.status == 403
        stored = await SqlCaseStore(services.engine).get(case.ref)
        assert stored is not None and stored.claimed_by is None and stored.state.value == "new"


async def test_sign_in_is_rate_limited_per_name_and_address(tmp_path: Path) -> None:
    async with running(tmp_path) as (url, app):
        await UserStore(app[SERVICES].engine).add("eva", Role.EDITOR, "eva-haar-wachtwoord", datetime.now(UTC))
        async with aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=10), cookie_jar=aiohttp.CookieJar(unsafe=True)
        ) as http:
            assert [(await sign_in(http, url, "eva", "fout"))[0] for _ in range(5)] == [401] * 5
            status, text = await sign_in(http, url, "eva", "eva-haar-wachtwoord")
            assert status == 429 and "Te veel mislukte pogingen" in text


async def test_the_overview_counts_questions_per_day_refusals_open_cases_and_ingest_runs(tmp_path: Path) -> None:
    tz = ZoneInfo("Europe/Amsterdam")  # the digest's default time zone: the overview's days
    today = datetime.now(tz).date()

    def at_noon(days_ago: int) -> datetime:
        return datetime.combine(today - timedelta(days=days_ago), time(12), tz).astimezone(UTC)

    # (days ago, refused, ms): three today (one refused), one two days ago (refused), one outside the 14 days
    asked = [(0, False, 1200), (0, True, 800), (0, False, None), (2, True, 3000), (20, False, 60000)]
    async with running(tmp_path) as (url, app):
        services = app[SERVICES]
        answers = AnswerStore(services.engine)
        for n, (days_ago, refused, ms) in enumerate(asked):
            at, question = at_noon(days_ago), f"Vraag {n}"
            entry = AnswerEntry(
                AnswerId(f"a{n}"), "matrix", "!dm:test", None, question, (), not refused, at, answer_ms=ms
            )
            await answers.record(entry)
        cases = SqlCaseStore(services.engine)
        requester = Requester("matrix", "@jan:test", "Jan", "!dm:test", "!dm:test")
        for urgency in ("spoed", "spoed", "normaal"):
            request = CaseRequest("Zwolle", "demonstratie", urgency, "Demonstratie bij het stadhuis.", "06-1")
            await cases.create(request, requester, Attachment(), None, datetime.now(UTC), lambda c: [])
        await services.ingest_log.append(
            [
                IngestEvent("run-1", at_noon(3), IngestAction.ADDED, "a.md"),
                IngestEvent("run-2", at_noon(1), IngestAction.ADDED, "b.md"),
                IngestEvent("run-2", at_noon(1), IngestAction.UPDATED, "a.md"),
                IngestEvent("run-2", at_noon(1), IngestAction.FAILED, "c.pdf", detail="not a PDF"),
            ]
        )
        users = UserStore(services.engine)
        for name, role in (("eva", Role.EDITOR), ("omar", Role.OMO), ("ada", Role.ADMIN)):
            await users.add(name, role, f"{name}-haar-wachtwoord", datetime.now(UTC))
            async with aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=10), cookie_jar=aiohttp.CookieJar(unsafe=True)
            ) as http:
                assert (await sign_in(http, url, name, f"{name}-haar-wachtwoord"))[0] == 303
                async with http.get(f"{url}/console/overzicht", allow_redirects=False) as resp:
                    assert resp.status == 200, name
                    html = await resp.text()
            text = re.sub(r"<[^>]+>", "", html)
            assert "5 vragen" not in text and "4 vragen, waarvan 2 geweigerd (weigerpercentage 50%)" in text
            day_rows = r'<th scope="row">\w\w (\d\d-\d\d)</th><td>(\d+)</td><td>(\d+)</td>'
            counts = {d: (int(q), int(r)) for d, q, r in re.findall(day_rows, html)}
            assert len(counts) == 14 and sum(q for q, _ in counts.values()) == 4
            assert counts[today.strftime("%d-%m")] == (3, 1)
            assert counts[(today - timedelta(days=2)).strftime("%d-%m")] == (1, 1)
            assert "<svg" in html and '<title id="chart-title">' in html and html.count('class="refused"') == 2
            assert "2 spoed" in text and "1 normaal" in text and "Zwolle" not in html  # counts, never a case
            assert ("Naar de zaken" in text) is (role is not Role.EDITOR)
            runs = re.findall(r"<tr><td>[^<]+</td><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td></tr>", html)
            assert runs == [("1", "1", "0", "1"), ("1", "0", "0", "0")]  # newest first
            assert "Mediane antwoordtijd: 1,2 s" in text  # 800, 1200, 3000; the one outside the days not counted
