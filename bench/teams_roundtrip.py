"""Round trip through the real Teams HTTP path: POST /api/messages -> reply at a local Bot Connector.

Not a test. Runs the bot (anonymous mode) on 127.0.0.1, posts N personal-chat messages one after
another, and measures the time from sending the POST until the card reply arrives at the fake
connector. The handler answers every message at once with an `AnswerReply` card (two citations), so
the figures are the channel's own overhead: SDK turn, reference bookkeeping in SQLite, card rendering
and the outbound HTTP call. Usage: `python bench/teams_roundtrip.py [--n 100]`.
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

from bot.adapters.db import create_engine, migrate
from bot.adapters.state import ConversationStore
from bot.channels.base import AnswerReply, IncomingMessage, MessageHandler
from bot.channels.teams import TeamsChannel
from bot.config import TeamsSettings
from bot.core.models import Answer, Chunk, Citation, DocId, DocumentInfo, Passage, chunk_id_for
from tests.bot.channels.teams_harness import message_activity, running_bot, running_connector


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
    timings.sort()
    p50 = statistics.median(timings)
    p95 = timings[max(0, round(0.95 * len(timings)) - 1)]
    print(
        f"teams round trip over {len(timings)} messages: p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {timings[-1]:.1f} ms"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100, help="messages to time (default 100)")
    asyncio.run(main(parser.parse_args().n))
