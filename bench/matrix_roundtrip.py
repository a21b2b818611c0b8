"""Round trip through a real Synapse: official -> bot -> answer back, sequential and 10 rooms at once.

Not a test. Starts a throw-away Synapse (`<repo>/.venv-synapse`), ingests `knowledge/` into a temp
data dir and answers with the real pipeline (`bot.services.build_answerer`); with `--fake`, or if the
ingest fails, the fake answerer is used and the output says so. Prints p50/p95 latency over
`--n` sequential questions and the throughput of `--rooms` rooms asking `--per-room` questions at once.
Usage: `python bench/matrix_roundtrip.py [--n 50] [--rooms 10] [--per-room 5] [--fake]`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout: reuse the test harness

from pydantic import SecretStr  # noqa: E402

from bot.channels.matrix import MatrixChannel  # noqa: E402
from bot.config import MatrixSettings, load_settings  # noqa: E402
from bot.core.answering import Answerer  # noqa: E402
from bot.core.conversation import Conversation  # noqa: E402
from bot.core.ports import SourceInfo  # noqa: E402
from bot.services import build_answerer, open_services  # noqa: E402
from tests.bot.channels.matrix_harness import Official, eventually, passages  # noqa: E402
from tests.fakes import StaticSources  # noqa: E402
from tests.synapse import Synapse  # noqa: E402

QUESTIONS = [
    "Wat is de Maatschappelijke Impact Afweging?",
    "Wat doet het Ondersteuningsteam Maatschappelijke Onrust?",
    "Hoe kan een gemeente haar informatiepositie versterken?",
    "Wat is het Forum Maatschappelijke Onrust?",
    "Welke rol heeft de burgemeester bij onrust?",
]


async def ask(official: Official, room: str, question: str) -> float:
    start = time.perf_counter()
    event_id = await official.say(room, question)
    await eventually(lambda: official.replies_to(event_id), timeout=60, what="an answer")
    return time.perf_counter() - start


async def main(args: argparse.Namespace) -> None:
    synapse = Synapse()
    synapse.start()
    data = Path(tempfile.mkdtemp(prefix="onrust-bench-"))
    settings = load_settings(environ={}, data_dir=data)
    mode = "fake answerer"
    if not args.fake:
        done = subprocess.run(  # noqa: ASYNC221 - nothing else runs yet
            [sys.executable, "-m", "bot.cli", "-q", "--data-dir", str(data), "ingest", str(ROOT / "knowledge")],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode == 0:
            mode = "real answerer (build_answerer over knowledge/)"
        else:
            print(f"ingest failed, using the fake answerer:\n{done.stderr[-2000:]}")
    bot_id = synapse.register("bot")
    officials: list[Official] = []
    try:
        async with open_services(settings) as services:
            answerer: Answerer = (
                await asyncio.to_thread(build_answerer, services) if mode.startswith("real") else passages()
            )
            cfg = MatrixSettings(homeserver=synapse.url, user_id=bot_id, password=SecretStr("wachtwoord"))
            channel = MatrixChannel(cfg, data / "matrix", services.kv)
            conv = Conversation(
                answerer,
                services.answers,
                services.conversations,
                StaticSources([SourceInfo("x", None, None)]),
                {"matrix": channel},
            )
            bot = asyncio.create_task(channel.run(conv.handle))
            await asyncio.wait_for(channel.ready.wait(), 60)
            for i in range(args.rooms):
                user = synapse.register(f"ambtenaar{i}")
                official = Official(synapse.url, user, data / f"official{i}")
                await official.start()
                officials.append(official)
            rooms = [await o.room(bot_id, direct=True) for o in officials]
            await ask(officials[0], rooms[0], "Opwarmen")
            seq = [await ask(officials[0], rooms[0], QUESTIONS[i % len(QUESTIONS)]) for i in range(args.n)]
            seq_ms = sorted(x * 1000 for x in seq)
            p95 = seq_ms[max(0, round(0.95 * len(seq_ms)) - 1)]

            async def room_load(o: Official, room: str) -> None:
                for i in range(args.per_room):
                    await ask(o, room, QUESTIONS[i % len(QUESTIONS)])

            start = time.perf_counter()
            await asyncio.gather(*(room_load(o, r) for o, r in zip(officials, rooms, strict=True)))
            elapsed = time.perf_counter() - start
            total = args.rooms * args.per_room
            print(f"answerer: {mode}")
            print(f"sequential, {args.n} questions: p50 {statistics.median(seq_ms):.0f} ms, p95 {p95:.0f} ms")
            print(
                f"concurrent, {args.rooms} rooms x {args.per_room} questions: {total} answers in {elapsed:.1f} s "
                f"= {total / elapsed:.1f} answers/s"
            )
            bot.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await bot
    finally:
        for o in officials:
            await o.stop()
        synapse.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--rooms", type=int, default=10)
    parser.add_argument("--per-room", type=int, default=5)
    parser.add_argument("--fake", action="store_true", help="use the fake answerer")
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main(parser.parse_args()))
