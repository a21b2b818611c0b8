"""Load on one `onrust serve`: 50 users asking in 20 shared rooms for 2 minutes, on Synapse and PostgreSQL.

Not a test. Starts a throw-away Synapse and PostgreSQL (the test fixtures' code), ingests `knowledge/` (or
`--corpus`), runs `onrust serve` (real extractive pipeline, no LLM) as a subprocess, and lets `--users`
users spread over `--rooms` rooms ask `!vraag` questions for `--seconds`: each asks, waits for the answer
(at most 60 s), thinks 2-8 s, and asks again. One observer in every room counts the bot's replies per
question. Prints the questions asked, lost (no reply), duplicated (more than one reply) and the p50/p95 time
from question to answer (both homeserver timestamps). Usage: `python bench/load.py [--users 50] [--rooms 20]
[--seconds 120] [--corpus DIR]`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout: reuse the test harness

import aiohttp  # noqa: E402
from matrix_roundtrip import QUESTIONS  # noqa: E402  (bench/ is on the path: run as `python bench/load.py`)
from nio import AsyncClient, MatrixRoom, RoomMessageNotice, RoomMessageText  # noqa: E402

from tests.bot.channels.matrix_harness import eventually  # noqa: E402
from tests.bot.serve_harness import ServeProcess, ingest  # noqa: E402
from tests.conftest import postgres_server  # noqa: E402
from tests.synapse import Synapse  # noqa: E402


class User:
    """One user over the plain client-server API (no sync: the observer sees the replies)."""

    def __init__(self, http: aiohttp.ClientSession, hs: str, user_id: str, token: str) -> None:
        self.http, self.hs, self.user_id, self.token = http, hs, user_id, token

    async def call(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.token}"}
        async with self.http.request(method, f"{self.hs}/_matrix/client/v3{path}", json=body, headers=headers) as r:
            result: dict[str, Any] = await r.json()
            if r.status != 200:
                raise RuntimeError(f"{method} {path}: {r.status} {result}")
            return result

    async def say(self, room: str, body: str) -> str:
        content = {"msgtype": "m.text", "body": body}
        sent = await self.call("PUT", f"/rooms/{room}/send/m.room.message/{uuid.uuid4().hex}", content)
        return str(sent["event_id"])


async def log_in(http: aiohttp.ClientSession, hs: str, user_id: str) -> User:
    body = {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": user_id}, "password": "wachtwoord"}
    async with http.post(f"{hs}/_matrix/client/v3/login", json=body) as resp:
        return User(http, hs, user_id, (await resp.json())["access_token"])


class Observer:
    """A member of every room: records, per question, the homeserver timestamps of the bot's replies."""

    def __init__(self, hs: str, user_id: str, bot_id: str) -> None:
        self.client = AsyncClient(hs, user_id)
        self.bot_id = bot_id
        self.replies: dict[str, list[int]] = defaultdict(list)
        self.asked_at: dict[str, int] = {}
        self.answered: dict[str, asyncio.Event] = defaultdict(asyncio.Event)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.client.login("wachtwoord")

        async def record(_room: MatrixRoom, event: RoomMessageNotice) -> None:
            rel = event.source.get("content", {}).get("m.relates_to", {})
            question = rel.get("m.in_reply_to", {}).get("event_id")
            if event.sender == self.bot_id and question:
                self.replies[question].append(event.server_timestamp)
                self.answered[question].set()

        async def question(_room: MatrixRoom, event: RoomMessageText) -> None:
            self.asked_at[event.event_id] = event.server_timestamp

        self.client.add_event_callback(record, RoomMessageNotice)
        self.client.add_event_callback(question, RoomMessageText)
        wide = {"room": {"timeline": {"limit": 500}}}
        self._task = asyncio.create_task(self.client.sync_forever(timeout=1000, sync_filter=wide))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.client.close()


async def bot_joined(observer: Observer, room: str) -> bool:
    members = getattr(await observer.client.joined_members(room), "members", [])
    return observer.bot_id in {m.user_id for m in members}


async def ask_for(user: User, room: str, observer: Observer, until: float, asked: list[str]) -> None:
    rng = random.Random(user.user_id)
    while time.monotonic() < until:
        question = await user.say(room, f"!vraag {rng.choice(QUESTIONS)}")
        asked.append(question)
        with contextlib.suppress(TimeoutError):  # counted as lost in the report
            await asyncio.wait_for(observer.answered[question].wait(), 60)
        await asyncio.sleep(rng.uniform(2, 8))


async def run(args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="onrust-load-"))
    with postgres_server() as pg:
        url = pg.new_database()
        ingest(tmp / "bot", args.corpus, database_url=url)
        synapse = Synapse()
        synapse.start()
        bot_id = synapse.register("onrust")
        serve = ServeProcess(
            tmp / "bot",
            {
                "ONRUST_MATRIX__HOMESERVER": synapse.url,
                "ONRUST_MATRIX__USER_ID": bot_id,
                "ONRUST_MATRIX__PASSWORD": "wachtwoord",
                "ONRUST_STATE__DATABASE_URL": url,
            },
        )
        serve.start()
        observer = Observer(synapse.url, synapse.register("waarnemer"), bot_id)
        try:
            await serve.synced(timeout=300)
            await observer.start()
            async with aiohttp.ClientSession() as http:
                users = [await log_in(http, synapse.url, synapse.register(f"ambtenaar{i}")) for i in range(args.users)]
                rooms: list[str] = []
                for r in range(args.rooms):
                    members = [
                        *(u.user_id for u in users[r + args.rooms :: args.rooms]),
                        bot_id,
                        observer.client.user_id,
                    ]
                    created = await users[r].call("POST", "/createRoom", {"invite": members})
                    rooms.append(str(created["room_id"]))
                for i, user in enumerate(users[args.rooms :], start=args.rooms):
                    await user.call("POST", f"/join/{rooms[i % args.rooms]}", {})
                await observer.client.sync(timeout=0)
                for room in rooms:
                    await observer.client.join(room)
                for room in rooms:  # the bot joins on invite
                    await eventually(lambda r=room: bot_joined(observer, r), timeout=60, what="the bot to join")
                asked: list[str] = []
                start = time.monotonic()
                until = start + args.seconds
                await asyncio.gather(
                    *(ask_for(u, rooms[i % args.rooms], observer, until, asked) for i, u in enumerate(users))
                )
                await asyncio.sleep(10)  # late replies and repeats
                elapsed = time.monotonic() - start
        finally:
            await observer.stop()
            serve.stop()
            synapse.stop()
            shutil.rmtree(tmp, ignore_errors=True)
    return report(asked, observer, elapsed)


def report(asked: list[str], observer: Observer, elapsed: float) -> dict[str, Any]:
    replies = [observer.replies.get(q, []) for q in asked]
    latencies = sorted(
        (min(r) - observer.asked_at[q]) / 1000
        for q, r in zip(asked, replies, strict=True)
        if r and q in observer.asked_at
    )
    return {
        "questions": len(asked),
        "answered": sum(bool(r) for r in replies),
        "lost": sum(not r for r in replies),
        "duplicated": sum(len(r) > 1 for r in replies),
        "p50_s": round(statistics.median(latencies), 2) if latencies else None,
        "p95_s": round(statistics.quantiles(latencies, n=20)[18], 2) if len(latencies) >= 20 else None,
        "max_s": round(latencies[-1], 2) if latencies else None,
        "seconds": round(elapsed, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--rooms", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--corpus", type=Path, default=ROOT / "knowledge", help="folder to ingest (default knowledge/)")
    print(json.dumps(asyncio.run(run(parser.parse_args())), indent=2))


if __name__ == "__main__":
    main()
