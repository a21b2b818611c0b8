"""The one upsert under concurrent writers, on SQLite and PostgreSQL (`engine` fixture)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.outbox import enqueue
from bot.adapters.sql import upsert
from bot.adapters.state import KeyValueStore
from bot.adapters.tables import case_counters, kv, outbox
from bot.core.messages import ConversationRef, TextReply

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


async def test_a_write_racing_an_uncommitted_insert_of_the_same_key_becomes_its_update(engine: AsyncEngine) -> None:
    """The race "update, then insert" lost: the second writer saw no row yet, then hit the unique key."""
    store = KeyValueStore(engine)
    async with engine.connect() as first:
        await first.begin()
        await upsert(first, kv, {"key": "k", "value": "first", "updated_at": T0}, key=("key",))
        second = asyncio.create_task(store.set("k", "second"))
        await asyncio.sleep(0.3)  # the second writer waits for the first one's row (or write lock)
        assert not second.done()
        await first.commit()
    await asyncio.wait_for(second, timeout=20)
    assert await store.get("k") == "second"


async def test_concurrent_counter_bumps_hand_out_every_number_once(engine: AsyncEngine) -> None:
    async def bump() -> int:
        async with engine.begin() as conn:
            result = await upsert(
                conn,
                case_counters,
                {"year": 2026, "last": 1},
                key=("year",),
                update={"last": case_counters.c.last + 1},
                returning=[case_counters.c.last],
            )
            return int(result.scalar_one())

    numbers = await asyncio.gather(*(bump() for _ in range(12)))
    assert sorted(numbers) == list(range(1, 13))


async def test_of_concurrent_inserts_if_absent_exactly_one_gets_in(engine: AsyncEngine) -> None:
    async def queue(n: int) -> bool:
        async with engine.begin() as conn:
            return await enqueue(
                conn, ConversationRef("matrix", "!r"), TextReply(f"bericht {n}"), kind="t", at=T0, dedupe_key="once"
            )

    queued = await asyncio.gather(*(queue(n) for n in range(10)))
    assert queued.count(True) == 1
    async with engine.connect() as conn:
        rows = (await conn.execute(select(outbox.c.payload))).all()
    assert [r[0]["text"] for r in rows] == [f"bericht {queued.index(True)}"]


async def test_an_update_leaves_the_columns_it_does_not_name(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await upsert(conn, kv, {"key": "k", "value": "v1", "updated_at": T0}, key=("key",))
        await upsert(
            conn, kv, {"key": "k", "value": "v2", "updated_at": T0.replace(hour=13)}, key=("key",), update=["value"]
        )
        row = (await conn.execute(select(kv.c.value, kv.c.updated_at))).one()
    assert row[0] == "v2" and row[1].replace(tzinfo=UTC) == T0
