"""The durable outbox: exactly-once delivery with two workers, retries with backoff, order per conversation."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.outbox import OutboxWorker, decode_reply, encode_reply, enqueue
from bot.adapters.tables import outbox
from bot.channels.base import Action, Button, ConversationRef, FormField, FormReply, Reply, TextReply
from tests.fakes import FakeChannel

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


class Slow(FakeChannel):
    async def send(self, to: ConversationRef, reply: Reply) -> str | None:
        await asyncio.sleep(0.001)
        return await super().send(to, reply)


async def fill(engine: AsyncEngine, n: int, rooms: int = 5) -> None:
    async with engine.begin() as conn:
        for i in range(n):
            await enqueue(conn, ConversationRef("fake", f"!r{i % rooms}"), TextReply(f"bericht {i}"), kind="t", at=T0)


@pytest.mark.unit
def test_codec_round_trip() -> None:
    form = FormReply(
        "t", (FormField("a", "A", choices=(("x", "X"),), max_length=5),), (Button("B", Action("b", {"k": "v"})),)
    )
    text = TextReply("t", notice=False, buttons=(Button("B", Action("b")),))
    assert decode_reply(encode_reply(form)) == form
    assert decode_reply(encode_reply(text)) == text


async def test_two_workers_send_each_row_exactly_once_in_order(engine: AsyncEngine) -> None:
    await fill(engine, 60)
    channel = Slow()
    workers = [OutboxWorker(engine, {"fake": channel}, worker_id=f"w{i}", clock=lambda: T0) for i in range(2)]

    async def drain(worker: OutboxWorker) -> None:
        while await worker.deliver_due():
            pass

    for _ in range(3):
        await asyncio.gather(*(drain(w) for w in workers))
    texts = [r.text for _, r in channel.sent]  # type: ignore[union-attr]
    assert sorted(texts) == sorted(f"bericht {i}" for i in range(60))
    for room in range(5):
        in_room = [int(t.split()[1]) for to, r in channel.sent if to.conversation_id == f"!r{room}" for t in [r.text]]  # type: ignore[union-attr]
        assert in_room == sorted(in_room)


async def test_failure_backs_off_then_delivers_once(engine: AsyncEngine) -> None:
    await fill(engine, 1)
    channel = FakeChannel(fail_sends=2)
    now = [T0]
    worker = OutboxWorker(engine, {"fake": channel}, clock=lambda: now[0], base_backoff_s=1, rng=random.Random(1))
    assert await worker.deliver_due() == 0
    assert await worker.deliver_due() == 0  # not due yet: backing off
    now[0] += timedelta(seconds=2)
    assert await worker.deliver_due() == 0  # second failure
    now[0] += timedelta(seconds=5)
    assert await worker.deliver_due() == 1
    now[0] += timedelta(hours=1)
    assert await worker.deliver_due() == 0
    assert len(channel.sent) == 1
    async with engine.connect() as conn:
        row = (await conn.execute(select(outbox))).mappings().one()
    assert row["attempts"] == 2 and row["sent_at"] is not None and row["claimed_by"] is None


async def test_expired_lease_is_taken_over(engine: AsyncEngine) -> None:
    await fill(engine, 1)
    crashed = OutboxWorker(engine, {}, worker_id="dead", clock=lambda: T0, lease_s=60)
    assert len(await crashed.claim()) == 1  # claimed, then the instance died before sending
    channel = FakeChannel()
    late = OutboxWorker(engine, {"fake": channel}, clock=lambda: T0 + timedelta(seconds=30))
    assert await late.deliver_due() == 0
    later = OutboxWorker(engine, {"fake": channel}, clock=lambda: T0 + timedelta(seconds=61))
    assert await later.deliver_due() == 1 and len(channel.sent) == 1


async def test_dedupe_key_queues_once(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        assert await enqueue(conn, ConversationRef("fake", "!r"), TextReply("a"), kind="t", at=T0, dedupe_key="k")
        assert not await enqueue(conn, ConversationRef("fake", "!r"), TextReply("a"), kind="t", at=T0, dedupe_key="k")
