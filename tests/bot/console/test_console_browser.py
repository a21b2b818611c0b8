"""The web console in a real headless Chromium (Debian's, driven by Playwright) against `build_app`.

One server and one browser for the module: a real answerer over a real Chroma store with two small
documents, the real outbox delivering to a recording channel named `matrix`, SQLite state.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp import web
from playwright.async_api import BrowserContext, Page, async_playwright

from bot.adapters.accounts import Role, UserStore
from bot.adapters.cases import SqlCaseStore
from bot.adapters.console_store import AuditLog
from bot.app import CONVERSATION, SERVICES, build_app
from bot.config import load_settings
from bot.core.escalation import Attachment, Case, CaseRequest, Requester
from bot.core.messages import ConversationRef, IncomingMessage, MessageHandler, TextReply, UserId
from bot.services import Services
from ingest.loaders import LoadOptions
from ingest.pipeline import Ingestor
from tests.bot.channels.matrix_harness import eventually
from tests.fakes import FakeChannel, plugin
from tests.synapse import free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORDS = {"eva": "eva-haar-wachtwoord", "omar": "omar-zijn-wachtwoord"}
REFUSED = "Mag ik <b>vuurwerk</b> verkopen op de markt? Mail jan@example.nl of kom naar 3511 AB 12"
DOCS = {
    "mia.md": "---\ntitle: De Maatschappelijke Impact Afweging\nkind: mia\n---\n# MIA\n\n"
    "De Maatschappelijke Impact Afweging helpt gemeenten de gevolgen van onrust voor de samenleving te wegen.\n",
    "draaiboek.md": "---\ntitle: Intern draaiboek OMO\naccess: omo-intern\n---\n# Draaiboek\n\n"
    "Het OMO-team belt de burgemeester binnen een uur na een melding met spoed.\n",
}


class RecordingChannel(FakeChannel):
    async def run(self, on_message: MessageHandler) -> None:
        await asyncio.Event().wait()


@dataclass
class Server:
    url: str
    services: Services
    channel: RecordingChannel
    case: Case


async def _prepare(data: Path) -> None:
    """Accounts and the knowledge base, before the server starts (as an operator would)."""
    settings = load_settings(environ={}, data_dir=data)
    from bot.services import open_services

    folder = data / "kennis"
    folder.mkdir()
    for name, text in DOCS.items():
        (folder / name).write_text(text, encoding="utf-8")
    async with open_services(settings) as services:
        for name, password in PASSWORDS.items():
            role = Role.EDITOR if name == "eva" else Role.OMO
            await UserStore(services.engine).add(name, role, password, datetime.now(UTC))
        ingestor = Ingestor(services.store, services.embeddings, services.ingest_log, settings.ingest)
        report = await ingestor.run([str(folder)], options=LoadOptions())
        assert report.added == 2, report.failed


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Server]:
    data = tmp_path_factory.mktemp("console")
    await _prepare(data)
    env = {"ONRUST_MATRIX__OMO_ROOM": "!omo:test", "ONRUST_ESCALATION__OUTBOX_POLL_S": "0.2"}
    settings = load_settings(environ=env, data_dir=data)
    channel = RecordingChannel(name="matrix")
    app = build_app(settings, plugins=[plugin(lambda services: channel)])
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        services = app[SERVICES]
        # an official asks something the knowledge base does not cover: a refusal, so a knowledge gap
        ref = ConversationRef("matrix", "!dm:test")
        message = IncomingMessage(ref, "m1", UserId("@jan:test"), REFUSED, is_private=True, sent_at=datetime.now(UTC))
        await app[CONVERSATION].handle(message)
        request = CaseRequest("Zwolle", "demonstratie", "spoed", "Morgen een demonstratie bij het stadhuis.", "06-1")
        requester = Requester("matrix", "@jan:test", "Jan", "!dm:test", "!dm:test")
        case = await SqlCaseStore(services.engine).create(
            request, requester, Attachment(), None, datetime.now(UTC), lambda c: []
        )
        yield Server(f"http://127.0.0.1:{port}", services, channel, case)
    finally:
        await runner.cleanup()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[BrowserContext]:
    async with async_playwright() as pw:
        with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
            context = await pw.chromium.launch_persistent_context(
                profile, executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
            )
            try:
                yield context
            finally:
                await context.close()


@pytest_asyncio.fixture(loop_scope="module")
async def page(browser: BrowserContext) -> AsyncIterator[Page]:
    await browser.clear_cookies()
    tab = await browser.new_page()
    try:
        yield tab
    finally:
        await tab.close()


async def sign_in(page: Page, server: Server, name: str, password: str | None = None) -> None:
    await page.goto(f"{server.url}/console/login")
    await page.get_by_label("Naam").fill(name)
    await page.get_by_label("Wachtwoord").fill(password or PASSWORDS[name])
    await page.get_by_role("button", name="Aanmelden").click()


async def test_sign_in_refuses_a_wrong_password_and_forms_without_csrf(server: Server, page: Page) -> None:
    response = await page.goto(f"{server.url}/console/cases")
    assert page.url == f"{server.url}/console/login" and response is not None
    await sign_in(page, server, "omar", "niet-het-wachtwoord")
    assert await page.get_by_role("alert").inner_text() == "Je naam of wachtwoord klopt niet."
    await sign_in(page, server, "omar")
    assert page.url == f"{server.url}/console/cases"
    cookie = next(c for c in await page.context.cookies() if c["name"] == "onrust_console")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"

    claim = f"{server.url}/console/cases/{server.case.ref}/claim"
    for form in ({}, {"csrf": "geraden"}):
        refused = await page.request.post(claim, form=form, max_redirects=0)
        assert refused.status == 403 and "Formulier verlopen" in await refused.text()
    signin = await page.request.post(f"{server.url}/console/login", form={"name": "omar", "password": "x"})
    assert signin.status == 403
    assert (await SqlCaseStore(server.services.engine).get(server.case.ref)).claimed_by is None  # type: ignore[union-attr]
    actions = [(e.actor, e.action) for e in await AuditLog(server.services.engine).entries()]
    assert ("omar", "signin_failed") in actions and ("omar", "signin") in actions


async def test_an_editor_sees_no_cases(server: Server, page: Page) -> None:
    await sign_in(page, server, "eva")
    assert page.url == f"{server.url}/console/gaps"
    assert await page.get_by_role("link", name="Zaken").count() == 0
    for path in ("/console/cases", f"/console/cases/{server.case.ref}"):
        response = await page.goto(server.url + path)
        assert response is not None and response.status == 403
        assert "Zwolle" not in await page.content()
    await page.goto(f"{server.url}/console/documents")
    assert "De Maatschappelijke Impact Afweging" in await page.content()
    assert "Intern draaiboek" not in await page.content()


async def test_the_omo_claims_answers_and_closes_a_case(server: Server, page: Page) -> None:
    await sign_in(page, server, "omar")
    response = await page.goto(f"{server.url}/console/gaps")
    assert response is not None and response.status == 403 and "vuurwerk" not in await page.content()
    await page.goto(f"{server.url}/console/cases?sort=urgentie")
    await page.get_by_role("link", name=server.case.ref).click()
    assert "Morgen een demonstratie bij het stadhuis." in await page.content()
    await page.get_by_role("button", name="Oppakken").click()
    assert await page.get_by_role("status").inner_text() == "Je hebt de zaak opgepakt."
    await page.get_by_label("Antwoord aan de aanvrager").fill("We bellen je vandaag om 15 uur.")
    await page.get_by_role("button", name="Antwoord versturen").click()
    assert await page.get_by_role("status").inner_text() == "Je antwoord is verstuurd naar de aanvrager."

    def official_got_answer() -> bool:
        return any(
            to.conversation_id == "!dm:test"
            and isinstance(r, TextReply)
            and "We bellen je vandaag om 15 uur." in r.text
            for to, r in server.channel.sent
        )

    await eventually(official_got_answer, what="the answer in the official's chat")
    await page.get_by_role("button", name="Zaak sluiten").click()
    assert await page.get_by_role("status").inner_text() == "De zaak is gesloten."
    trail = await page.locator("table").last.inner_text()
    assert all(word in trail for word in ("aangemaakt", "opgepakt", "beantwoord", "gesloten"))
    await eventually(
        lambda: sum(to.conversation_id == "!omo:test" for to, _ in server.channel.sent) == 3, what="team notices"
    )
    await page.goto(f"{server.url}/console/cases?status=gesloten&gemeente=zwol")
    assert await page.get_by_role("link", name=server.case.ref).count() == 1
    await page.goto(f"{server.url}/console/cases?status=open")
    assert await page.get_by_role("link", name=server.case.ref).count() == 0


async def test_an_editor_marks_a_refused_question_handled(server: Server, page: Page) -> None:
    await sign_in(page, server, "eva")
    gap = page.locator("section.gap").filter(has_text="vuurwerk")
    heading = await gap.get_by_role("heading").inner_text()
    assert heading == "Mag ik <b>vuurwerk</b> verkopen op de markt? Mail [e-mail] of kom naar [adres]"
    assert "jan@example.nl" not in await page.content() and await gap.locator("b").count() == 0
    await gap.get_by_label("Notitie (wat heb je gedaan?)").fill("Buiten ons domein; FAQ aangevuld.")
    await gap.get_by_role("button", name="Markeer als afgehandeld").click()
    assert await page.get_by_role("status").inner_text() == "Het hiaat is als afgehandeld gemarkeerd."
    assert await page.locator("section.gap").filter(has_text="vuurwerk").count() == 0


async def test_an_editor_uploads_and_removes_a_markdown_document(server: Server, page: Page) -> None:
    await sign_in(page, server, "eva")
    await page.goto(f"{server.url}/console/documents")
    title = "Evenementenbeleid <em>Zwolle</em>"  # a title is text, never markup
    text = f"---\ntitle: {title}\n---\n# Evenementen\n\nEen evenement meld je acht weken vooraf.\n"
    await page.get_by_label("Bestand").set_input_files(
        files=[{"name": "evenementen.md", "mimeType": "text/markdown", "buffer": text.encode()}]
    )
    await page.get_by_role("button", name="Toevoegen").click()
    assert "1 toegevoegd" in await page.get_by_role("status").inner_text()
    row = page.locator("tr").filter(has_text=title)
    assert await row.count() == 1 and await row.locator("em").count() == 0
    assert datetime.now().astimezone().strftime("%d-%m-%Y") in await row.inner_text()  # last ingest: today
    assert "evenementen.md" in {d.info.doc_id for d in server.services.store.documents().values()}
    await row.get_by_role("button", name=f"{title} verwijderen").click()
    assert await page.get_by_role("status").inner_text() == "Het document is verwijderd."
    assert await page.locator("tr").filter(has_text="Evenementenbeleid").count() == 0


async def test_the_overview_draws_its_chart_for_a_signed_in_user(server: Server, page: Page) -> None:
    await sign_in(page, server, "eva")
    await page.get_by_role("navigation").get_by_role("link").first.click()
    assert page.url == f"{server.url}/console/overzicht"
    chart = page.get_by_role("img", name="Vragen per dag, de afgelopen 14 dagen")
    assert await chart.is_visible()
    box = await chart.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 100
    assert await chart.locator("rect.refused").count() == 1  # today's refused question
    assert "1 vraag, waarvan 1 geweigerd" in await page.get_by_role("region", name="Vragen per dag").inner_text()
