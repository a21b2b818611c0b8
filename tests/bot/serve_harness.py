"""Real `onrust serve` processes on one Synapse and one PostgreSQL, and a slow OpenAI-compatible stand-in.

`kill_mid_burst` is the scenario of issue 12 ("two instances, one SIGKILLed during a burst"): the test
runs it with a short `state.claim_takeover_s`, `bench/takeover.py` with the default.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.tables import handled_messages
from tests.bot.channels.matrix_harness import Official, eventually
from tests.synapse import REPO_ROOT, Synapse, free_port

__all__ = ["DOCUMENT", "BurstResult", "ServeProcess", "SlowLLM", "describe", "ingest", "kill_mid_burst"]

QUESTION = "Wat is de Agenda Maatschappelijke Onrust?"
DOCUMENT = REPO_ROOT / "knowledge" / "agenda-maatschappelijke-onrust.md"  # the store of `kill_mid_burst`


def _env(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONRUST_")}
    env.update(HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false", **settings)
    return env


def ingest(data_dir: Path, corpus: Path, database_url: str | None = None) -> None:
    """`corpus` (a folder) into `data_dir`'s store, through the command line."""
    cmd = [sys.executable, "-m", "bot.cli", "-q", "--data-dir", str(data_dir), "ingest", str(corpus)]
    env = _env(ONRUST_STATE__DATABASE_URL=database_url) if database_url else _env()
    subprocess.run(cmd, cwd=REPO_ROOT, env=env, check=True, capture_output=True, timeout=900)


class SlowLLM:
    """An OpenAI chat-completions endpoint that takes `delay_s` to answer, citing passage [1]."""

    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self._runner: web.AppRunner | None = None

    async def _completions(self, request: web.Request) -> web.Response:
        body = await request.json()
        await asyncio.sleep(self.delay_s)
        text = "De agenda is het plan waarin de VNG uitlegt hoe zij gemeenten steunt. [1]"
        choice = {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
        return web.json_response(
            {"id": "c1", "object": "chat.completion", "created": 0, "model": body["model"], "choices": [choice]}
        )

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._completions)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@dataclass
class ServeProcess:
    """`onrust serve` on a data dir of its own (its Matrix device), logging to `<data_dir>.log`."""

    data_dir: Path
    settings: dict[str, str]
    _proc: subprocess.Popen[bytes] | None = None
    log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log = self.data_dir.with_suffix(".log")

    def start(self) -> None:
        cmd = [sys.executable, "-m", "bot.cli", "--data-dir", str(self.data_dir), "serve", "--port", str(free_port())]
        with self.log.open("ab") as out:
            self._proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=_env(**self.settings), stdout=out, stderr=out)

    async def synced(self, timeout: float = 90.0) -> None:  # noqa: ASYNC109
        def ready() -> bool:
            assert self._proc is not None
            if self._proc.poll() is not None:
                raise AssertionError(f"onrust serve exited:\n{self.log.read_text()[-3000:]}")
            return "matrix: syncing as" in self.log.read_text()

        await eventually(ready, timeout=timeout, what=f"{self.data_dir.name} to sync")

    def kill(self) -> None:
        assert self._proc is not None
        self._proc.send_signal(signal.SIGKILL)
        self._proc.wait(timeout=10)

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=5)


@dataclass(frozen=True)
class BurstResult:
    replies: list[int]  # bot replies per question, in the order asked (10 per burst, 1 to 3 bursts)
    killed_claims: int  # claims the killed instance held open when it died
    last_answer_after_kill_s: float


async def _open_claims(engine: AsyncEngine) -> list[str]:
    t = handled_messages.c
    async with engine.connect() as conn:
        return [str(o) for o in (await conn.execute(select(t.owner).where(t.done_at.is_(None)))).scalars()]


async def _owners(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return {str(o) for o in (await conn.execute(select(handled_messages.c.owner))).scalars()}


async def kill_mid_burst(
    synapse: Synapse,
    database_url: str,
    engine: AsyncEngine,
    store: Path,
    tmp: Path,
    takeover_s: float,
    start_timeout_s: float = 90.0,
) -> BurstResult:
    """Two `onrust serve` on one database and copies of one store; SIGKILL one while it holds claims of a
    burst of 10 questions in a direct chat (another burst if it claimed none); wait until every question is
    answered."""
    tag = uuid.uuid4().hex[:8]
    bot_id = synapse.register(f"onrust-{tag}")
    llm = SlowLLM(delay_s=2.0)
    await llm.start()
    settings = {
        "ONRUST_MATRIX__HOMESERVER": synapse.url,
        "ONRUST_MATRIX__USER_ID": bot_id,
        "ONRUST_MATRIX__PASSWORD": "wachtwoord",
        "ONRUST_MATRIX__SYNC_TIMEOUT_MS": "2000",
        "ONRUST_STATE__DATABASE_URL": database_url,
        "ONRUST_STATE__CLAIM_TAKEOVER_S": str(takeover_s),
        "ONRUST_LLM__BASE_URL": llm.url,
        "ONRUST_LLM__API_KEY": "test",
        "ONRUST_RETRIEVAL__REFRESH_S": "0",
    }
    instances = []
    for name in ("a", "b"):
        shutil.copytree(store, tmp / name)
        instances.append(ServeProcess(tmp / name, settings))
    official = Official(synapse.url, synapse.register(f"ambtenaar-{tag}"), tmp / "official")
    try:
        for instance in instances:  # both at once: loading the models is most of the start-up
            instance.start()
        await asyncio.gather(*(instance.synced(start_timeout_s) for instance in instances))
        await official.start()
        room = await official.room(bot_id, direct=True)
        warm_up = await official.say(room, QUESTION)
        await eventually(lambda: official.replies_to(warm_up), timeout=60, what="the warm-up answer")
        (victim_id,) = await _owners(engine)  # the instance that answered it is the one to kill
        victim, survivor = sorted(instances, key=lambda i: "answered in" not in i.log.read_text())

        questions: list[str] = []
        for burst in range(3):  # on a busy machine the other instance may claim a whole burst first
            questions += await asyncio.gather(*(official.say(room, f"{QUESTION} ({burst}.{i})") for i in range(10)))
            with contextlib.suppress(AssertionError):
                held = await eventually(lambda: _victim_claims(engine, victim_id), timeout=10, what="victim's claims")
                break
        else:
            raise AssertionError("the instance to kill claimed none of 30 questions")
        victim.kill()
        killed_at = time.time()
        for question in questions:
            await eventually(lambda q=question: official.replies_to(q), timeout=120, what="every answer")
        await asyncio.sleep(2 * takeover_s)  # a repeat would come within one more takeover period
        assert "took over the claim" in survivor.log.read_text()
        bot_replies = [[e for e in official.replies_to(q) if e.sender == bot_id] for q in questions]
        last = max(e.server_timestamp for replies in bot_replies for e in replies) / 1000
        return BurstResult([len(r) for r in bot_replies], held, last - killed_at)
    finally:
        for instance in instances:
            instance.stop()
        await official.stop()
        await llm.stop()


async def _victim_claims(engine: AsyncEngine, victim_id: str) -> int:
    return sum(owner == victim_id for owner in await _open_claims(engine))


def describe(result: BurstResult) -> dict[str, Any]:
    return {
        "lost": result.replies.count(0),
        "answered_twice": sum(n > 1 for n in result.replies),
        "claims_held_by_killed_instance": result.killed_claims,
        "last_answer_after_kill_s": round(result.last_answer_after_kill_s, 1),
    }
