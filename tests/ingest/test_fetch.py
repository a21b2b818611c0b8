"""Tests for `ingest.loaders.load_url` against a real aiohttp server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from bot.config import IngestSettings
from bot.core.models import Kind
from bot.errors import IngestError
from ingest.loaders import LoadOptions, LoadResult, load_url

pytestmark = pytest.mark.integration

TIMEOUT_S = 0.3
MAX_BYTES = 50_000
MARKDOWN = "---\ntitle: Gedeeld\nurl: https://elders.example/\n---\n\n# FAQ\n\n## Vraag\n\nAntwoord.\n"


def build_app(html: str, pdf: bytes) -> web.Application:
    async def html_page(request: web.Request) -> web.Response:
        return web.Response(text=html, content_type="text/html", charset="utf-8")

    async def pdf_file(request: web.Request) -> web.Response:
        # The path has no suffix: the Content-Type alone must pick the PDF parser.
        return web.Response(body=pdf, content_type="application/pdf")

    async def markdown_as_plain_text(request: web.Request) -> web.Response:
        return web.Response(text=MARKDOWN, content_type="text/plain")

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(TIMEOUT_S * 20)
        return web.Response(text="te laat")

    async def big(request: web.Request) -> web.Response:
        return web.Response(body=b"a" * (MAX_BYTES + 1), content_type="text/plain")

    async def endless(request: web.Request) -> web.StreamResponse:
        # No Content-Length: the client has to count while reading and stop.
        response = web.StreamResponse(headers={"Content-Type": "text/plain"})
        await response.prepare(request)
        for _ in range(10_000):
            await response.write(b"b" * 8192)
        return response

    async def image(request: web.Request) -> web.Response:
        return web.Response(body=b"\x89PNG\r\n\x1a\n", content_type="image/png")

    async def broken(request: web.Request) -> web.Response:
        raise web.HTTPInternalServerError()

    app = web.Application()
    app.router.add_get("/handreiking.html", html_page)
    app.router.add_get("/download", pdf_file)
    app.router.add_get("/faq.md", markdown_as_plain_text)
    app.router.add_get("/slow", slow)
    app.router.add_get("/big.txt", big)
    app.router.add_get("/endless.txt", endless)
    app.router.add_get("/logo.png", image)
    app.router.add_get("/broken", broken)
    return app


@pytest.fixture
async def base_url(html_text: str, pdf_bytes: bytes) -> AsyncIterator[str]:
    runner = web.AppRunner(build_app(html_text, pdf_bytes), shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


SETTINGS = IngestSettings(url_timeout_s=TIMEOUT_S, url_max_bytes=MAX_BYTES)


async def fetch_ok(url: str, session: aiohttp.ClientSession) -> LoadResult:
    result = await load_url(url, session, SETTINGS, LoadOptions())
    assert result.errors == []
    return result


async def fetch_error(url: str, session: aiohttp.ClientSession) -> str:
    with pytest.raises(IngestError) as caught:
        await load_url(url, session, SETTINGS, LoadOptions())
    assert caught.value.source == url
    return caught.value.reason


async def test_html_page(base_url: str, session: aiohttp.ClientSession) -> None:
    url = f"{base_url}/handreiking.html"
    (doc,) = (await fetch_ok(url, session)).documents

    assert doc.doc_id == doc.source == doc.url == url
    assert doc.title == "Demonstratierecht en openbare orde"
    assert doc.kind is Kind.HANDREIKING
    assert doc.blocks[-1].section == ("Demonstratierecht", "Voorbereiding", "Politie")
    assert "FOOTER_BOILERPLATE" not in doc.text


async def test_pdf_by_content_type(base_url: str, session: aiohttp.ClientSession) -> None:
    (doc,) = (await fetch_ok(f"{base_url}/download", session)).documents

    assert doc.title == "Handreiking demonstraties 2025"
    assert [b.page for b in doc.blocks] == [1, 3]


async def test_plain_text_type_defers_to_markdown_suffix(base_url: str, session: aiohttp.ClientSession) -> None:
    url = f"{base_url}/faq.md"
    (doc,) = (await fetch_ok(url, session)).documents

    assert doc.title == "Gedeeld"
    assert doc.url == url  # the fetched URL wins over the front matter url
    assert doc.kind is Kind.FAQ
    assert [(b.section, b.text) for b in doc.blocks] == [(("FAQ", "Vraag"), "Antwoord.")]


async def test_not_found(base_url: str, session: aiohttp.ClientSession) -> None:
    assert await fetch_error(f"{base_url}/bestaat-niet", session) == "HTTP 404 Not Found"


async def test_server_error(base_url: str, session: aiohttp.ClientSession) -> None:
    assert await fetch_error(f"{base_url}/broken", session) == "HTTP 500 Internal Server Error"


async def test_timeout(base_url: str, session: aiohttp.ClientSession) -> None:
    started = time.monotonic()
    assert await fetch_error(f"{base_url}/slow", session) == "timed out after 0.3 s"
    assert time.monotonic() - started < TIMEOUT_S * 10


async def test_too_large_by_content_length(base_url: str, session: aiohttp.ClientSession) -> None:
    assert await fetch_error(f"{base_url}/big.txt", session) == f"response larger than {MAX_BYTES} bytes"


async def test_too_large_while_streaming(base_url: str, session: aiohttp.ClientSession) -> None:
    # The server would send ~80 MB; stopping at the cap keeps this well inside the timeout.
    assert await fetch_error(f"{base_url}/endless.txt", session) == f"response larger than {MAX_BYTES} bytes"


async def test_unsupported_content_type(base_url: str, session: aiohttp.ClientSession) -> None:
    assert await fetch_error(f"{base_url}/logo.png", session) == "unsupported content type 'image/png'"


async def test_connection_refused(session: aiohttp.ClientSession) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert (await fetch_error(f"http://127.0.0.1:{port}/x.html", session)).startswith("request failed: ")


async def test_unsupported_scheme(session: aiohttp.ClientSession) -> None:
    reason = await fetch_error("file:///etc/passwd", session)
    assert reason == "unsupported URL scheme (expected http or https)"
