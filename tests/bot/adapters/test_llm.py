"""The LLM answerer against a local HTTP server that speaks the OpenAI chat-completions protocol.

The real endpoint is an external paid service, so a stand-in is allowed here; it is a real aiohttp
server and the bot talks to it through langchain-openai over HTTP, exactly as in production.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from bot.adapters.llm import OpenAIChatModel
from bot.config import LLMSettings
from bot.core.pipeline import AnswerPipeline, LLMAnswerer
from tests.fakes import FakeRetriever, make_passage

pytestmark = pytest.mark.integration

PASSAGES = [
    make_passage("mia.md", "De MIA brengt de impact van beleidskeuzes op maatschappelijke onrust in beeld."),
    make_passage("omo.md", "Het OMO organiseert leerkringen en geeft advies op maat aan gemeenten."),
    make_passage("forum.md", "Het forum is besloten en alleen voor bestuurders en ambtenaren van gemeenten."),
]


@dataclass
class FakeOpenAI:
    """Scripted replies: a text, an HTTP status, or a delay; records every request body."""

    reply: str = ""
    status: int = 200
    delay_s: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)

    async def completions(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(body)
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.status != 200:
            return web.json_response({"error": {"message": "boom", "type": "server_error"}}, status=self.status)
        return web.json_response(
            {
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body["model"],
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": self.reply}, "finish_reason": "stop"}
                ],
                "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
            }
        )


@pytest.fixture
async def server(unused_tcp_port: int) -> AsyncIterator[tuple[FakeOpenAI, str]]:
    fake = FakeOpenAI()
    app = web.Application()
    app.router.add_post("/v1/chat/completions", fake.completions)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", unused_tcp_port).start()
    yield fake, f"http://127.0.0.1:{unused_tcp_port}/v1"
    await runner.cleanup()


def pipeline(base_url: str, timeout_s: float = 5.0) -> AnswerPipeline:
    settings = LLMSettings(base_url=base_url, model="test-model", timeout_s=timeout_s)
    return AnswerPipeline(
        FakeRetriever(PASSAGES), min_similarity=0.5, llm=LLMAnswerer(OpenAIChatModel(settings), timeout_s)
    )


async def test_reply_citing_a_passage_that_was_not_given_loses_that_sentence(server: tuple[FakeOpenAI, str]) -> None:
    fake, url = server
    fake.reply = "Het OMO organiseert leerkringen. [2] Het OMO bestaat sinds 1999. [7] Zonder bron kan ook."
    answer = await pipeline(url).answer("Wat doet het OMO?")
    assert answer.confident and answer.generator == "llm:test-model"
    assert answer.text == "Het OMO organiseert leerkringen. [1]"
    assert [c.passage.doc.doc_id for c in answer.citations] == ["omo.md"]
    request = fake.requests[0]
    assert request["model"] == "test-model"
    assert [m["role"] for m in request["messages"]] == ["system", "user"]
    assert "[3]" in request["messages"][1]["content"] and "Wat doet het OMO?" in request["messages"][1]["content"]


async def test_timeout_falls_back_to_the_extractive_answer(server: tuple[FakeOpenAI, str]) -> None:
    fake, url = server
    fake.reply, fake.delay_s = "Te laat. [1]", 1.0
    started = time.monotonic()
    answer = await pipeline(url, timeout_s=0.3).answer("Wat brengt de MIA in beeld?")
    assert time.monotonic() - started < 0.9
    assert answer.confident and answer.generator == "extractive"
    assert answer.citations[0].passage.doc.doc_id == "mia.md"


async def test_server_error_falls_back_to_the_extractive_answer(server: tuple[FakeOpenAI, str]) -> None:
    fake, url = server
    fake.status = 500
    answer = await pipeline(url).answer("Wat brengt de MIA in beeld?")
    assert answer.confident and answer.generator == "extractive"
    assert len(fake.requests) == 1  # no retries against a failing endpoint


async def test_not_in_sources_signal_refuses(server: tuple[FakeOpenAI, str]) -> None:
    fake, url = server
    fake.reply = "NIET_IN_BRONNEN"
    answer = await pipeline(url).answer("Hoeveel kost een MIA?")
    assert not answer.confident and answer.escalation_offered and answer.citations == ()
    assert json.dumps(fake.requests[0]).count("NIET_IN_BRONNEN") == 1


async def test_invented_links_and_markup_are_removed_with_their_sentence(server: tuple[FakeOpenAI, str]) -> None:
    fake, url = server
    fake.reply = (
        "Het OMO organiseert leerkringen. [2] Meld je aan op https://omo-aanmelden.example/nu. [2] "
        "<script>alert('x')</script>Het OMO geeft advies. [2] Lees [hier](https://evil.example) meer. [2] "
        "Mail vragen naar info@omo-nep.example. [2]"
    )
    answer = await pipeline(url).answer("Wat doet het OMO?")
    assert answer.confident and answer.generator == "llm:test-model"
    assert answer.text == "Het OMO organiseert leerkringen. [1]"


async def test_only_invented_markup_falls_back_to_the_extractive_answer(server: tuple[FakeOpenAI, str]) -> None:
    fake, url = server
    fake.reply = 'De MIA brengt de impact in beeld, zie <a href="https://evil.example">de MIA</a>. [1]'
    answer = await pipeline(url).answer("Wat brengt de MIA in beeld?")
    assert answer.confident and answer.generator == "extractive"
    assert "evil" not in answer.text and answer.citations[0].passage.doc.doc_id == "mia.md"
