"""The state stores as the conversation core uses them, over SQLite and PostgreSQL (`engine` fixture)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.db import create_engine, migrate
from bot.adapters.state import AnswerStore, ConversationRecord, ConversationStore, KeyValueStore
from bot.adapters.tables import kv
from bot.core.ports import AnswerEntry, AnswerId
from tests.conftest import Postgres

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
    assert await log.thread_questions("matrix", "!r", "$root") == ["Eerste vraag", "Vervolg"]
    assert await log.thread_questions("matrix", "!r", "$other") == []
    assert await log.thread_questions("matrix", "!r", None) == ["Los"]  # outside any thread
    assert await log.thread_questions("matrix", "!r", "$root", since=T0 + timedelta(minutes=1)) == ["Vervolg"]
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


async def test_remembering_a_conversation_keeps_the_reference_its_channel_saved(engine: AsyncEngine) -> None:
    store = ConversationStore(engine)
    saved = {"conversation_id": "19:a", "service_url": "https://smba.example/", "bot": {"id": "28:b"}}
    await store.save(ConversationRecord("teams", "19:a", False, "u1", saved), T0)
    await store.remember("teams", "19:a", is_private=True, user_id="u1", at=T0 + timedelta(minutes=1))
    record = await store.private_for("teams", "u1")
    assert record is not None and record.reference == saved  # not overwritten with the stub


async def test_old_answers_and_their_feedback_are_forgotten(engine: AsyncEngine) -> None:
    store = AnswerStore(engine)
    await store.record(entry("old", None, "Oude vraag van Jansen", 0))
    await store.record(entry("new", None, "Nieuwe vraag", 60))
    await store.add_feedback(AnswerId("old"), "@a:x", False, T0)
    await store.add_feedback(AnswerId("new"), "@a:x", True, T0)
    assert await store.forget_before(T0 + timedelta(minutes=30)) == 1
    assert await store.find(answer_id="old") is None and await store.feedback_for("old") == []
    assert await store.find(answer_id="new") is not None and await store.feedback_for("new") == [("@a:x", True)]


async def test_members_added_at_once_by_two_instances_are_all_kept(engine: AsyncEngine) -> None:
    """Direct chats are rows: two instances adding rooms together lose none (a rewritten JSON list did)."""
    stores = [KeyValueStore(engine), KeyValueStore(engine)]
    rooms = [f"!room{i}:x" for i in range(10)]
    await asyncio.gather(*(stores[i % 2].add_member("matrix.direct.@bot:x", r) for i, r in enumerate(rooms)))
    await stores[0].add_member("matrix.direct.@bot:x", rooms[0])  # again: no change, no error
    assert await stores[1].members("matrix.direct.@bot:x") == frozenset(rooms)
    assert await stores[1].members("matrix.direct.@other:x") == frozenset()


async def test_a_connection_dropped_in_the_middle_of_a_write_is_a_connection_error(postgres: Postgres) -> None:
    """The Matrix sync loop retries network failures; a write cut off mid-way must look like one to it."""
    engine = create_engine(postgres.new_database())
    try:
        await migrate(engine)
        store = KeyValueStore(engine)
        async with engine.connect() as holder:
            await holder.execute(text("LOCK TABLE kv IN ACCESS EXCLUSIVE MODE"))
            writing = asyncio.create_task(store.set("matrix.next_batch.@bot:x", "s1"))
            waiting = text("SELECT pid FROM pg_locks WHERE NOT granted")  # live, unlike pg_stat_activity
            for _ in range(100):
                if pids := (await holder.execute(waiting)).scalars().all():
                    break
                await asyncio.sleep(0.1)
            await holder.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pids[0]})
            with pytest.raises(ConnectionError, match="state database unreachable"):
                await asyncio.wait_for(writing, timeout=20)
            await holder.rollback()
        await store.set("matrix.next_batch.@bot:x", "s2")  # a new connection: the retry succeeds
        assert await store.get("matrix.next_batch.@bot:x") == "s2"
    finally:
        await engine.dispose()


async def test_migration_moves_direct_chat_lists_into_rows(unmigrated_engine: AsyncEngine) -> None:
    engine = unmigrated_engine
    await migrate(engine, "0006")
    async with engine.begin() as conn:
        listed = json.dumps(["!a:x", "!b:x"])
        await conn.execute(insert(kv).values(key="matrix.direct.@bot:x", value=listed, updated_at=T0))
        await conn.execute(insert(kv).values(key="matrix.next_batch.@bot:x", value="s42", updated_at=T0))
    await migrate(engine)
    store = KeyValueStore(engine)
    assert await store.members("matrix.direct.@bot:x") == {"!a:x", "!b:x"}
    assert await store.get("matrix.direct.@bot:x") is None  # the list is gone, not left to go stale
    assert await store.get("matrix.next_batch.@bot:x") == "s42"  # other values stay
