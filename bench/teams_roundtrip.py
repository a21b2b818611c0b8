"""Round trip through the real Teams HTTP path: POST /api/messages -> reply at a local Bot Connector.

Not a test. Runs the bot (anonymous mode) on 127.0.0.1, posts N personal-chat messages one after
another, and measures the time from sending the POST until the card reply arrives at the fake
connector. By default the handler answers every message at once with an `AnswerReply` card (two
citations), so the figures are the channel's own overhead: SDK turn, reference bookkeeping in SQLite,
card rendering and the outbound HTTP call. With `--real` the app runs as `onrust serve` does
(`build_app`, the conversation core, the real answer pipeline over an ingested `knowledge/`), asked
the project's answerable questions in turn.

    python bench/teams_roundtrip.py [--n 100] [--real]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout: reuse the test harness

import json

import aiohttp
from aiohttp import web

from bot.adapters.db import create_engine, migrate
from bot.adapters.state import ConversationStore
from bot.app import build_app
from bot.channels.teams import TeamsChannel
from bot.cli import main as onrust
from bot.config import TeamsSettings, load_settings
from bot.core.messages import AnswerReply, IncomingMessage, MessageHandler
from bot.core.models import Answer, Chunk, Citation, DocId, DocumentInfo, Passage, chunk_id_for
from tests.bot.channels.teams_harness import message_activity, running_bot, running_connector
from tests.synapse import free_port

ROOT = Path(__file__).resolve().parent.parent


def _answer(question: str) -> Answer:
    docs = [
        DocumentInfo(DocId("agenda.md"), "Agenda Maatschappelijke Onrust", url="https://vng.nl/agenda", version="2024"),
        DocumentInfo(DocId("mia.md"), "Maatschappelijke Impact Afweging", version="2025-01"),
    ]
    citations = tuple(
        Citation(i, Passage(Chunk(chunk_id_for(d.doc_id, "tekst", 0), d, "tekst", 0, section="Inleiding", page=i)))
        for i, d in enumerate(docs, start=1)
    )
    return Answer(
        question=question, text="Zo werkt het [1], en zo weeg je af [2].", citations=citations, confident=True
    )


async def main(n: int) -> None:
    logging.basicConfig(level=logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite+aiosqlite:///{Path(tmp) / 'state.db'}")
        await migrate(engine)
        settings = TeamsSettings(enabled=True, allow_anonymous=True)

        def echo(channel: TeamsChannel) -> MessageHandler:
            async def handle(msg: IncomingMessage) -> None:
                await channel.send(msg.ref, AnswerReply(_answer(msg.text), answer_id=f"a{msg.message_id}"))

            return handle

        async with running_connector() as connector, running_bot(settings, ConversationStore(engine), echo) as bot:
            timings: list[float] = []
            for i in range(n + 5):  # the first 5 warm up the SDK and SQLite and are not counted
                activity = message_activity(connector.url, f"Vraag {i}", activity_id=str(1_000 + i))
                start = time.perf_counter()
                assert await bot.post(activity) == 202
                await connector.wait_for_messages(i + 1)
                if i >= 5:
                    timings.append((time.perf_counter() - start) * 1000)
        await engine.dispose()
    report(timings)


def report(timings: list[float]) -> None:
    timings.sort()
    p50 = statistics.median(timings)
    p95 = timings[max(0, round(0.95 * len(timings)) - 1)]
    print(
        f"teams round trip over {len(timings)} messages: p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {timings[-1]:.1f} ms"
    )


async def main_real(n: int, data_dir: Path) -> None:
    """The whole product behind the Teams endpoint: build_app + the real answer pipeline."""
    logging.basicConfig(level=logging.ERROR)
    env = {"ONRUST_TEAMS__ENABLED": "true", "ONRUST_TEAMS__ALLOW_ANONYMOUS": "true"}
    settings = load_settings(environ=env, data_dir=data_dir)
    questions = [
        q["question"]
        for q in map(json.loads, (ROOT / "bench" / "questions" / "knowledge.jsonl").read_text("utf-8").splitlines())
        if q["kind"] == "answerable"
    ]
    runner = web.AppRunner(build_app(settings))
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    timings: list[float] = []
    try:
        async with running_connector() as connector, aiohttp.ClientSession() as http:
            for i in range(n + 5):  # the first 5 warm up and are not counted
                activity = message_activity(connector.url, questions[i % len(questions)], activity_id=str(1_000 + i))
                start = time.perf_counter()
                async with http.post(f"http://127.0.0.1:{port}/api/messages", json=activity) as resp:
                    assert resp.status in (200, 202), resp.status
                await connector.wait_for_messages(i + 1, within_s=30)
                if i >= 5:
                    timings.append((time.perf_counter() - start) * 1000)
    finally:
        await runner.cleanup()
    report(timings)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100, help="messages to time (default 100)")
    parser.add_argument("--real", action="store_true", help="the real app and answer pipeline over knowledge/")
    args = parser.parse_args()
    if args.real:
        with tempfile.TemporaryDirectory() as tmp:
            if onrust(["-q", "--data-dir", tmp, "ingest", str(ROOT / "knowledge")]) != 0:
                sys.exit("ingest failed")
            asyncio.run(main_real(args.n, Path(tmp)))
    else:
        asyncio.run(main(args.n))
