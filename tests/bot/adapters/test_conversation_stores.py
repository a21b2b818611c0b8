"""The conversation core's store protocols over a real state database (SQLite and PostgreSQL: `engine` fixture)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.conversation_stores import StateMessageClaims
from bot.adapters.state import AnswerStore, ConversationStore
from bot.core.ports import AnswerEntry, AnswerId

pytestmark = pytest.mark.integration

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def entry(answer_id: str, thread: str | None, question: str, minutes: int) -> AnswerEntry:
    return AnswerEntry(
        AnswerId(answer_id), "matrix", "!r", thread, question, ("a.md",), True, T0 + timedelta(minutes=minutes)
    )


async def test_answer_log_round_trip(engine: AsyncEngine) -> None:
    store = log = AnswerStore(engine)  # the store is the core's AnswerLog
    await log.record(entry("a1", "$root", "Eerste vraag", 0))
    await log.record(entry("a2", "$root", "Vervolg", 1))
    await log.record(entry("a3", None, "Los", 2))
    await log.set_message_id(AnswerId("a1"), "$answer1")
    assert await log.thread_question("matrix", "!r", "$root") == "Eerste vraag"
    assert await log.thread_question("matrix", "!r", "$other") is None
    assert await log.resolve(message_id="$answer1") == "a1"
    assert await log.resolve(answer_id="a2") == "a2"
    assert await log.resolve(message_id="$nope") is None
    assert await log.resolve() is None
    await log.add_feedback(AnswerId("a1"), "@u:x", True, T0)
    await log.add_feedback(AnswerId("a1"), "@u:x", False, T0)
    assert await store.feedback_for("a1") == [("@u:x", False)]


async def test_conversation_log_saves_reference(engine: AsyncEngine) -> None:
    store = ConversationStore(engine)
    await store.remember("matrix", "!dm", is_private=True, user_id="@u:x", at=T0)
    record = await store.private_for("matrix", "@u:x")
    assert record is not None and record.reference == {"conversation_id": "!dm"}


async def test_a_message_is_claimed_once(engine: AsyncEngine) -> None:
    claims = StateMessageClaims(engine)
    now = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
    assert await claims.claim("matrix", "!room", "$event", now) is True
    assert await claims.claim("matrix", "!room", "$event", now) is False
    assert await claims.claim("matrix", "!other", "$event", now) is True  # ids are per conversation
    assert await claims.claim("teams", "!room", "$event", now) is True
    assert await claims.forget_before(now + timedelta(seconds=1)) == 3
    assert await claims.claim("matrix", "!room", "$event", now) is True


async def test_two_instances_racing_for_one_message_handle_it_once(engine: AsyncEngine) -> None:
    now = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
    first, second = StateMessageClaims(engine), StateMessageClaims(engine)
    results = await asyncio.gather(
        *(c.claim("teams", "a:chat", f"act-{i % 5}", now) for i, c in enumerate([first, second] * 10))
    )
    assert sum(results) == 5
