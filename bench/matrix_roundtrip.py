"""Round trip through a real Synapse: official -> bot -> answer back, sequential and 10 rooms at once.

Not a test. Starts a throw-away Synapse (`<repo>/.venv-synapse`), ingests `knowledge/` into a temp
data dir (or, with `--data-dir`, incrementally into that one, so a kept data dir costs no
re-embedding) and answers with the real pipeline (`bot.services.build_answerer`); with `--fake`, or if the
ingest fails, the fake answerer is used and the output says so. Prints p50/p95 latency over
`--n` sequential questions and the throughput of `--rooms` rooms asking `--per-room` questions at once.
The same is measured for the baseline, a trivial matrix-nio echo bot (one sync loop, a reply per
message) on the same Synapse right after, and the ratios bot / echo are printed last.
Usage: `python bench/matrix_roundtrip.py [--n 50] [--rooms 10] [--per-room 5] [--fake] [--data-dir DIR]`.
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

from nio import AsyncClient, InviteMemberEvent, MatrixRoom, RoomMessageText  # noqa: E402
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
    "Wanneer mag de burgemeester een noodverordening geven?",
    "Hoe meld ik bedreiging van een ambtenaar?",
]


async def ask(official: Official, room: str, question: str) -> float:
    start = time.perf_counter()
    event_id = await official.say(room, question)
    await eventually(lambda: official.replies_to(event_id), timeout=60, what="an answer")
    return time.perf_counter() - start


class Echo:
    """The baseline: a matrix-nio bot that joins every invite and replies to each message with its text."""

    def __init__(self, homeserver: str, user_id: str) -> None:
        self.client = AsyncClient(homeserver, user_id)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.client.login("wachtwoord")
        await self.client.sync(timeout=0, full_state=True)  # only messages sent from now on are echoed

        async def invited(room: MatrixRoom, event: InviteMemberEvent) -> None:
            if event.state_key == self.client.user_id and event.membership == "invite":
                await self.client.join(room.room_id)

        async def echo(room: MatrixRoom, event: RoomMessageText) -> None:
            if event.sender == self.client.user_id:
                return
            content = {
                "msgtype": "m.notice",
                "body": event.body,
                "m.relates_to": {"m.in_reply_to": {"event_id": event.event_id}},
            }
            await self.client.room_send(room.room_id, "m.room.message", content)

        self.client.add_event_callback(invited, InviteMemberEvent)
        self.client.add_event_callback(echo, RoomMessageText)
        self._task = asyncio.create_task(self.client.sync_forever(timeout=30_000))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.client.close()


async def measure(officials: list[Official], target: str, args: argparse.Namespace) -> tuple[float, float, float]:
    """p50 and p95 (ms) of `args.n` sequential questions to `target`, and answers/s with every official at once."""
    rooms = [await o.room(target, direct=True) for o in officials]
    await ask(officials[0], rooms[0], "Opwarmen")
    seq = [await ask(officials[0], rooms[0], QUESTIONS[i % len(QUESTIONS)]) for i in range(args.n)]
    seq_ms = sorted(x * 1000 for x in seq)
    p95 = seq_ms[max(0, round(0.95 * len(seq_ms)) - 1)]

    async def room_load(o: Official, room: str) -> None:
        for i in range(args.per_room):
            await ask(o, room, QUESTIONS[i % len(QUESTIONS)])

    start = time.perf_counter()
    await asyncio.gather(*(room_load(o, r) for o, r in zip(officials, rooms, strict=True)))
    rate = len(officials) * args.per_room / (time.perf_counter() - start)
    return statistics.median(seq_ms), p95, rate


def show(name: str, got: tuple[float, float, float], args: argparse.Namespace) -> None:
    p50, p95, rate = got
    print(f"{name}: sequential, {args.n} questions: p50 {p50:.0f} ms, p95 {p95:.0f} ms")
    print(f"{name}: concurrent, {args.rooms} rooms x {args.per_room} questions: {rate:.1f} answers/s")


async def main(args: argparse.Namespace) -> None:
    scratch = Path(tempfile.mkdtemp(prefix="onrust-bench-"))  # the clients' stores: fresh for a fresh Synapse
    data = args.data_dir or scratch
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
    synapse = Synapse()
    synapse.start()
    officials: list[Official] = []
    try:
        bot_id = synapse.register("bot")
        echo_id = synapse.register("echo")
        for i in range(args.rooms):
            user = synapse.register(f"ambtenaar{i}")
            official = Official(synapse.url, user, scratch / f"official{i}")
            await official.start()
            officials.append(official)
        async with open_services(settings) as services:
            answerer: Answerer = (
                await asyncio.to_thread(build_answerer, services) if mode.startswith("real") else passages()
            )
            cfg = MatrixSettings(homeserver=synapse.url, user_id=bot_id, password=SecretStr("wachtwoord"))
            channel = MatrixChannel(cfg, scratch / "matrix", services.kv)
            conv = Conversation(
                answerer,
                services.answers,
                services.conversations,
                StaticSources([SourceInfo("x", None, None)]),
                {"matrix": channel},
            )
            bot = asyncio.create_task(channel.run(conv.handle))
            await asyncio.wait_for(channel.ready.wait(), 60)
            ours = await measure(officials, bot_id, args)
            bot.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await bot
        echo = Echo(synapse.url, echo_id)
        await echo.start()
        try:
            baseline = await measure(officials, echo_id, args)
        finally:
            await echo.stop()
        print(f"answerer: {mode}")
        show("bot", ours, args)
        show("echo bot", baseline, args)
        print(f"bot / echo: p50 {ours[0] / baseline[0]:.2f}x, answers/s {ours[2] / baseline[2]:.2f}x")
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
    parser.add_argument(
        "--data-dir", type=Path, help="a data dir to ingest knowledge/ into and keep (default: a temp one)"
    )
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main(parser.parse_args()))
