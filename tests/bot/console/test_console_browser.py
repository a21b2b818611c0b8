"""The web console in a real headless Chromium (Debian's, driven by Playwright) against `build_app`.

One server and one browser for the module: a real answerer over a real Chroma store with two small
documents, the real outbox delivering to a recording channel named `matrix`, SQLite state.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import docx
import pytest
import pytest_asyncio
from aiohttp import web
from playwright.async_api import Page

from bot.adapters.cases import SqlCaseStore
from bot.adapters.console_store import AuditLog
from bot.app import CONVERSATION, SERVICES, build_app
from bot.config import load_settings
from bot.core.clock import utc
from bot.core.conversation import Conversation
from bot.core.escalation import Attachment, Case, CaseRequest, Requester
from bot.core.messages import ConversationRef, IncomingMessage, MessageHandler, TextReply, UserId
from bot.core.ports import AnswerEntry, AnswerId
from bot.services import Services
from tests.bot.channels.matrix_harness import eventually
from tests.bot.console.browser import PASSWORDS, prepare
from tests.bot.console.browser import sign_in as console_sign_in
from tests.fakes import FakeChannel, plugin
from tests.synapse import free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

REPO = Path(__file__).resolve().parents[3]
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
REFUSED = "Mag ik <b>vuurwerk</b> verkopen op de markt? Mail jan@example.nl of kom naar 3511 AB 12"


class RecordingChannel(FakeChannel):
    async def run(self, on_message: MessageHandler) -> None:
        await asyncio.Event().wait()


@dataclass
class Server:
    url: str
    services: Services
    channel: RecordingChannel
    case: Case
    conversation: Conversation


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Server]:
    data = tmp_path_factory.mktemp("console")
    await prepare(data)
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
        yield Server(f"http://127.0.0.1:{port}", services, channel, case, app[CONVERSATION])
    finally:
        await runner.cleanup()


async def sign_in(page: Page, server: Server, name: str, password: str | None = None) -> None:
    await console_sign_in(page, server.url, name, password or PASSWORDS[name])


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


def docx_bytes() -> bytes:
    """A Word file as an editor would save one: a title, a heading and a paragraph."""
    document = docx.Document()
    document.core_properties.title = "Braderievergunning Zwolle"
    document.add_heading("Braderie", level=1)
    document.add_paragraph("Een vergunning voor een braderie vraag je uiterlijk zes weken vooraf aan bij de gemeente.")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


async def test_an_uploaded_docx_answers_onrust_ask_on_the_same_data_dir(server: Server, page: Page) -> None:
    await sign_in(page, server, "eva")
    await page.goto(f"{server.url}/console/documents")
    await page.get_by_label("Bestand").set_input_files(
        files=[{"name": "braderie.docx", "mimeType": DOCX_TYPE, "buffer": docx_bytes()}]
    )
    await page.get_by_role("button", name="Toevoegen").click()
    assert "1 toegevoegd" in await page.get_by_role("status").inner_text()
    assert await page.locator("tr").filter(has_text="braderie.docx").count() == 1
    data_dir = server.services.settings.data_dir
    asked = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "bot.cli", "-q", "--data-dir", str(data_dir), "ask", "--json"),
        "Hoe lang van tevoren vraag ik een vergunning voor een braderie aan?",
        stdout=asyncio.subprocess.PIPE,
        cwd=REPO,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"},
    )
    out, _ = await asyncio.wait_for(asked.communicate(), 120)
    assert asked.returncode == 0
    answer = json.loads(out)
    assert answer["confident"] is True and "zes weken" in answer["answer"]
    assert [c["doc_id"] for c in answer["citations"]][:1] == ["braderie.docx"]


async def test_an_editor_adds_a_web_page_by_its_url(server: Server, page: Page) -> None:
    html = (
        "<html><head><title>Vergunning voor een straatfeest</title></head><body><main><h1>Straatfeest</h1>"
        "<p>Een straatfeest meld je vier weken vooraf bij de wijkagent.</p></main></body></html>"
    )

    async def straatfeest(_: web.Request) -> web.Response:
        return web.Response(text=html, content_type="text/html")

    site = web.Application()
    site.router.add_get("/beleid/straatfeest.html", straatfeest)
    runner = web.AppRunner(site)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    url = f"http://127.0.0.1:{port}/beleid/straatfeest.html"
    try:
        await sign_in(page, server, "eva")
        await page.goto(f"{server.url}/console/documents")
        await page.get_by_label("Webadres (URL)").fill(url)
        await page.get_by_role("button", name="Webpagina ophalen").click()
        assert "1 toegevoegd" in await page.get_by_role("status").inner_text()
        row = page.locator("tr").filter(has_text="Vergunning voor een straatfeest")
        assert await row.get_by_role("link").get_attribute("href") == url
        await page.get_by_label("Webadres (URL)").fill(f"http://127.0.0.1:{port}/bestaat-niet.html")
        await page.get_by_role("button", name="Webpagina ophalen").click()
        assert "Mislukt" in await page.get_by_role("status").inner_text()
        assert "404" in await page.get_by_role("status").inner_text()
    finally:
        await runner.cleanup()
    passages = server.services.store.documents()
    assert url in passages and passages[url].info.access.value == "openbaar"


PAGES = [("eva", "gaps"), ("eva", "documents"), ("omar", "cases"), ("eva", "overzicht")]


async def _with_something_to_show(server: Server) -> None:
    """A fresh refused question and an open case, so the pages have content whatever ran before."""
    question = "Hoeveel statiegeld krijg ik terug voor een krat bier?"
    await server.services.answers.record(
        AnswerEntry(AnswerId(uuid.uuid4().hex), "matrix", "!dm:test", None, question, (), False, utc(), answer_ms=900)
    )
    request = CaseRequest("Deventer", "demonstratie", "normaal", "Een optocht op zaterdag langs de Brink.", "06-2")
    requester = Requester("matrix", "@piet:test", "Piet", "!dm2:test", "!dm2:test")
    await SqlCaseStore(server.services.engine).create(request, requester, Attachment(), None, utc(), lambda c: [])


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", path
    return int.from_bytes(header[16:20]), int.from_bytes(header[20:24])


async def test_screenshots_of_the_four_pages_at_1280_px(server: Server, page: Page, tmp_path: Path) -> None:
    """Full-page screenshots; with ONRUST_SCREENSHOTS=1 they replace the ones in docs/screenshots/."""
    await _with_something_to_show(server)
    folder = REPO / "docs" / "screenshots" if os.environ.get("ONRUST_SCREENSHOTS") == "1" else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    await page.set_viewport_size({"width": 1280, "height": 800})
    signed_in = None
    for name, path in PAGES:
        if name != signed_in:
            await page.context.clear_cookies()
            await sign_in(page, server, name)
            signed_in = name
        response = await page.goto(f"{server.url}/console/{path}")
        assert response is not None and response.status == 200, path
        shot = folder / f"console-{path}.png"
        await page.screenshot(path=shot, full_page=True)
        width, height = png_size(shot)
        assert width == 1280 and height >= 400, (path, width, height)


async def test_the_pages_fit_a_phone_without_sideways_scrolling(server: Server, page: Page) -> None:
    await _with_something_to_show(server)
    await page.set_viewport_size({"width": 390, "height": 844})
    signed_in = None
    for name, path in [*PAGES, ("omar", f"cases/{server.case.ref}")]:
        if name != signed_in:
            await page.context.clear_cookies()
            await sign_in(page, server, name)
            signed_in = name
        await page.goto(f"{server.url}/console/{path}")
        widths = await page.evaluate(
            "() => [document.documentElement.scrollWidth, window.innerWidth,"
            " document.querySelector('main').scrollWidth, document.querySelector('main').clientWidth]"
        )
        page_width, viewport, main_scroll, main_width = widths
        assert page_width <= viewport and main_scroll <= main_width, (path, widths)
        assert await page.get_by_role("navigation").is_visible()


async def test_an_editor_can_neither_see_nor_touch_omo_intern_documents(server: Server, page: Page) -> None:
    await sign_in(page, server, "eva")
    await page.goto(f"{server.url}/console/documents")
    csrf = await page.locator('input[name="csrf"]').first.get_attribute("value")
    assert csrf
    internal = next(d for d in server.services.store.documents().values() if d.info.access.value == "omo-intern")
    removed = await page.request.post(
        f"{server.url}/console/documents/remove", form={"csrf": csrf, "doc_id": internal.info.doc_id}
    )
    assert removed.status == 404 and "Intern draaiboek" not in await removed.text()
    added = await page.request.post(
        f"{server.url}/console/documents/url",
        form={"csrf": csrf, "url": "http://127.0.0.1:9/x.html", "access": "omo-intern"},
    )
    assert added.status == 403 and "Intern draaiboek" not in await added.text()
    assert internal.info.doc_id in {d.info.doc_id for d in server.services.store.documents().values()}
    # a refused question close to the internal document: its passage is never shown to an editor
    ref = ConversationRef("matrix", "!dm3:test")
    question = "Wanneer belt het OMO-team de burgemeester na een melding met spoed over de kermis?"
    message = IncomingMessage(ref, "m3", UserId("@jan:test"), question, is_private=True, sent_at=datetime.now(UTC))
    await server.conversation.handle(message)
    await page.goto(f"{server.url}/console/gaps")
    gap = page.locator("section.gap").filter(has_text="kermis")
    assert await gap.count() == 1
    html = await page.content()
    assert "binnen een uur" not in html and "Intern draaiboek" not in html


async def test_a_document_link_is_only_ever_a_web_address(server: Server, page: Page) -> None:
    await sign_in(page, server, "eva")
    await page.goto(f"{server.url}/console/documents")
    front = "---\ntitle: Kwaadaardige link\nurl: javascript:alert(document.cookie)\n---\n"
    text = front + "# Link\n\nEen tekst met een link.\n"
    await page.get_by_label("Bestand").set_input_files(
        files=[{"name": "link.md", "mimeType": "text/markdown", "buffer": text.encode()}]
    )
    await page.get_by_role("button", name="Toevoegen").click()
    row = page.locator("tr").filter(has_text="Kwaadaardige link")
    assert await row.count() == 1 and await row.get_by_role("link").count() == 0
    assert "javascript:" not in await page.content()
