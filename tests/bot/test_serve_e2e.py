"""The whole product on the real parts: `build_app` with the shipped corpus, the real answer pipeline and Matrix.

Ingests `knowledge/` with `onrust ingest`, starts the app exactly as `onrust serve` does (Synapse on
loopback, embedded Chroma, SQLite, no LLM), and asks questions as an official in a direct chat.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from bot.app import build_app
from bot.config import load_settings
from tests.bot.channels.matrix_harness import Official, eventually
from tests.synapse import Synapse

# the default timeout (600 s): the first test may ingest the shipped corpus (`shipped_data_dir`), over two minutes
pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def data_dir(shipped_data_dir: Path) -> Path:
    """The shipped corpus, ingested through the command line (outside the tests' event loops)."""
    return shipped_data_dir


@pytest.fixture
async def official_and_bot(synapse: Synapse, data_dir: Path, tmp_path: Path) -> AsyncIterator[tuple[Official, str]]:
    tag = uuid.uuid4().hex[:8]
    bot_id = synapse.register(f"onrust-{tag}")
    official_id = synapse.register(f"burgemeester-{tag}")
    settings = load_settings(
        environ={
            "ONRUST_MATRIX__HOMESERVER": synapse.url,
            "ONRUST_MATRIX__USER_ID": bot_id,
            "ONRUST_MATRIX__PASSWORD": "wachtwoord",
        },
        data_dir=data_dir,
    )
    runner = web.AppRunner(build_app(settings))
    await runner.setup()  # opens the services and starts the Matrix channel, as `onrust serve` does
    official = Official(synapse.url, official_id, tmp_path / "official")
    await official.start()
    try:
        yield official, bot_id
    finally:
        await official.stop()
        await runner.cleanup()


async def ask(official: Official, room: str, question: str, **extra: object) -> str:
    event_id = await official.say(room, question, **extra)
    replies = await eventually(lambda: official.replies_to(event_id), timeout=60, what="the bot's answer")
    return str(replies[0].body)


async def test_official_gets_cited_answers_and_an_honest_refusal(official_and_bot: tuple[Official, str]) -> None:
    official, bot_id = official_and_bot
    room = await official.room(bot_id, direct=True)

    event_id = await official.say(room, "Wat is de Maatschappelijke Impact Afweging?")
    replies = await eventually(lambda: official.replies_to(event_id), timeout=60, what="the bot's answer")
    content = replies[0].source["content"]
    answer = str(content["body"])
    assert "Maatschappelijke Impact Afweging" in answer and "[1]" in answer and "Bronnen" in answer
    # the same answer as Matrix HTML: the citation marks stay, each source is a link to its public page
    assert content["format"] == "org.matrix.custom.html"
    assert "[1]" in content["formatted_body"] and '<a href="https://' in content["formatted_body"]

    refusal = await ask(official, room, "Wie won de Tour de France in 2019?")
    assert "weet ik niet" in refusal and "!omo" in refusal and "[1]" not in refusal and "Bronnen" not in refusal


async def test_in_a_thread_an_unrelated_question_after_a_topical_one_is_refused(
    official_and_bot: tuple[Official, str],
) -> None:
    official, bot_id = official_and_bot
    room = await official.room(bot_id, direct=True)
    root = await official.say(room, "Wat is een noodverordening?")
    first = await eventually(lambda: official.replies_to(root), timeout=60, what="the bot's answer")
    assert "Bronnen" in str(first[0].body)
    thread = {"m.relates_to": {"rel_type": "m.thread", "event_id": root}}

    unrelated = await ask(official, room, "Wie won de Tour de France in 2019?", **thread)
    assert "weet ik niet" in unrelated and "Bronnen" not in unrelated

    followup = await ask(official, room, "En wie moet die dan bekrachtigen?", **thread)
    assert "Bronnen" in followup and "raad" in followup.split("Bronnen")[0]
