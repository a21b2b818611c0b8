"""The durable outbox: exactly-once delivery with two workers, retries with backoff, order per conversation."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import prompts
from bot.adapters.outbox import OutboxWorker, decode_reply, encode_reply, enqueue
from bot.adapters.tables import outbox
from bot.core.messages import (
    Button,
    CaseAction,
    CaseVerb,
    ConversationRef,
    FormField,
    FormReply,
    Reply,
    SetDigest,
    SubmitIntake,
    TextReply,
)
from tests.fakes import FakeChannel

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


class Slow(FakeChannel):
    async def send(self, to: ConversationRef, reply: Reply, *, txn_id: str | None = None) -> str | None:
        await asyncio.sleep(0.001)
        return await super().send(to, reply, txn_id=txn_id)


async def fill(engine: AsyncEngine, n: int, rooms: int = 5) -> None:
    async with engine.begin() as conn:
        for i in range(n):
            await enqueue(conn, ConversationRef("fake", f"!r{i % rooms}"), TextReply(f"bericht {i}"), kind="t", at=T0)


@pytest.mark.unit
def test_codec_round_trip() -> None:
    form = FormReply(
        "t", (FormField("a", "A", choices=(("x", "X"),), max_length=5),), (Button("B", SubmitIntake("a1", "!room")),)
    )
    text = TextReply(
        "t",
        notice=False,
        buttons=(Button("B", CaseAction(CaseVerb.CLAIM, "OMO-2026-0001")), Button("C", SetDigest(on=False))),
    )
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
    resent = channel.sent[0][1]
    assert isinstance(resent, TextReply) and resent.text.startswith(prompts.render("outbox_resent.nl.j2"))


async def test_a_lease_is_renewed_while_sending_and_expires_soon_after_a_death(engine: AsyncEngine) -> None:
    await fill(engine, 1)
    release = asyncio.Event()

    class Stalls(FakeChannel):
        async def send(self, to: ConversationRef, reply: Reply, *, txn_id: str | None = None) -> str | None:
            await release.wait()  # a slow homeserver: two leases long
            return await super().send(to, reply, txn_id=txn_id)

    stalling = Stalls()
    sender = OutboxWorker(engine, {"fake": stalling}, worker_id="sender", lease_s=0.5)
    other_channel = FakeChannel()
    other = OutboxWorker(engine, {"fake": other_channel}, worker_id="other", lease_s=0.5)
    sending = asyncio.create_task(sender.deliver_due())
    for _ in range(10):
        await asyncio.sleep(0.1)
        assert await other.deliver_due() == 0  # renewed: never taken while the sender lives
    release.set()
    assert await sending == 1
    assert len(stalling.sent) == 1 and other_channel.sent == []
    first = stalling.sent[0][1]
    assert isinstance(first, TextReply) and not first.text.startswith(prompts.render("outbox_resent.nl.j2"))

    await fill(engine, 1)
    release.clear()
    dying = asyncio.create_task(sender.deliver_due())
    await asyncio.sleep(0.1)
    dying.cancel()  # the instance dies mid-send: nobody renews its lease
    await asyncio.gather(dying, return_exceptions=True)
    assert await other.deliver_due() == 0
    await asyncio.sleep(0.7)  # one lease
    assert await other.deliver_due() == 1


async def test_every_attempt_at_a_row_carries_the_same_transaction_id(engine: AsyncEngine) -> None:
    await fill(engine, 2, rooms=2)
    channel = FakeChannel(fail_sends=2)
    now = [T0]
    worker = OutboxWorker(engine, {"fake": channel}, clock=lambda: now[0], base_backoff_s=1, rng=random.Random(1))
    for _ in range(4):
        await worker.deliver_due()
        now[0] += timedelta(minutes=1)
    assert len(channel.sent) == 2 and len(channel.txn_ids) == 4
    first, second = channel.txn_ids[0], channel.txn_ids[1]
    assert first and second and first != second
    assert sorted(channel.txn_ids) == sorted([first, second, first, second])


async def test_dedupe_key_queues_once(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        assert await enqueue(conn, ConversationRef("fake", "!r"), TextReply("a"), kind="t", at=T0, dedupe_key="k")
        assert not await enqueue(conn, ConversationRef("fake", "!r"), TextReply("a"), kind="t", at=T0, dedupe_key="k")
