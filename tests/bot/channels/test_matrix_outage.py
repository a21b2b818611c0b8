"""The Matrix channel through a PostgreSQL outage on a real Synapse: the bot dies while a question waits."""

from __future__ import annotations

import asyncio
import logging
import uuid
from pathlib import Path

import pytest

from bot import prompts
from tests.bot.channels.matrix_harness import Bot, Official, eventually
from tests.conftest import Postgres
from tests.synapse import Synapse

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(120)]


async def answered_once_then_down(
    synapse: Synapse, own_postgres: Postgres, tmp_path: Path
) -> tuple[Bot, Official, str, str]:
    """A bot on its own database and an official in a direct chat; the first question answered, then the
    database stopped. Returns the bot, the official, the room and the database URL."""
    tag = uuid.uuid4().hex[:8]
    url = own_postgres.new_database()
    bot = Bot(synapse.url, synapse.register(f"bot-{tag}"), tmp_path / "bot", database_url=url)
    official = Official(synapse.url, synapse.register(f"ambtenaar-{tag}"), tmp_path / "official")
    await bot.start()
    await official.start()
    room = await official.room(bot.user_id, direct=True)
    first = await official.say(room, "Eerste vraag")
    await eventually(lambda: official.replies_to(first), what="the first answer")
    await asyncio.to_thread(own_postgres.stop)
    return bot, official, room, url


async def test_questions_during_an_outage_are_answered_once_after_it_and_never_apologised_for(
    synapse: Synapse, own_postgres: Postgres, tmp_path: Path
) -> None:
    bot, official, room, _ = await answered_once_then_down(synapse, own_postgres, tmp_path)
    try:
        during = [await official.say(room, f"Vraag {i} tijdens de storing") for i in range(3)]
        await asyncio.sleep(8)  # the database is away for about 10 s
        assert [official.replies_to(q) for q in during] == [[], [], []]  # waiting, not apologising
        await asyncio.to_thread(own_postgres.start)
        for question in during:
            await eventually(lambda q=question: official.replies_to(q), what="the answers after the outage")
        await asyncio.sleep(1.5)
        replies = [official.replies_to(q) for q in during]
        assert [len(r) for r in replies] == [1, 1, 1]
        assert all("Bronnen" in r[0].body for r in replies)
    finally:
        await bot.stop()
        await official.stop()


async def test_a_question_waiting_out_an_outage_is_answered_by_the_restarted_bot(
    synapse: Synapse, own_postgres: Postgres, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bot, official, room, url = await answered_once_then_down(synapse, own_postgres, tmp_path)
    again = Bot(bot.homeserver, bot.user_id, bot.data_dir, database_url=url)
    try:
        with caplog.at_level(logging.WARNING, logger="bot.core.outage"):
            question = await official.say(room, "Vraag tijdens de storing")
            await eventually(
                lambda: "state database unreachable" in caplog.text, timeout=60, what="the question waiting"
            )
        await bot.stop()  # the process dies while its question waits in memory
        await asyncio.to_thread(own_postgres.start)
        await again.start()
        await eventually(lambda: official.replies_to(question), what="the answer after the restart")
        await asyncio.sleep(1.5)
        (reply,) = official.replies_to(question)
        assert reply.body != prompts.render("apology.nl.j2") and "Bronnen" in reply.body
        assert [c[0] for c in again.answerer.calls] == ["Vraag tijdens de storing"]
    finally:
        await again.stop()
        await official.stop()
