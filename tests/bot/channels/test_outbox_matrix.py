"""The outbox on a real Synapse: an instance killed between sending a row and marking it sent."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from nio import RoomMessageNotice

from bot import prompts
from bot.adapters.db import create_engine
from bot.adapters.outbox import OutboxWorker, enqueue
from bot.config import EscalationSettings
from bot.core.messages import Channel, ConversationRef, MessageHandler, Reply, TextReply
from tests.bot.channels.matrix_harness import Bot, Official, eventually
from tests.synapse import Synapse

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(120)]

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


class Relay:
    """The bot's Matrix channel, recording the event id of each send; `die` makes the send hang after posting."""

    name = "matrix"

    def __init__(self, channel: Channel, *, die: bool = False) -> None:
        self._channel = channel
        self._die = die
        self.event_ids: list[str | None] = []
        self.posted = asyncio.Event()

    async def send(self, to: ConversationRef, reply: Reply, *, txn_id: str | None = None) -> str | None:
        event_id = await self._channel.send(to, reply, txn_id=txn_id)
        self.event_ids.append(event_id)
        self.posted.set()
        if self._die:
            await asyncio.Event().wait()  # killed before the row is marked sent
        return event_id

    async def typing(self, to: ConversationRef, active: bool) -> None:
        await self._channel.typing(to, active)

    async def run(self, on_message: MessageHandler) -> None:
        await self._channel.run(on_message)


@pytest.fixture
async def room(synapse: Synapse, tmp_path: Path) -> AsyncIterator[tuple[Bot, Official, str]]:
    tag = uuid.uuid4().hex[:8]
    bot = Bot(synapse.url, synapse.register(f"bot-{tag}"), tmp_path / "bot")
    official = Official(synapse.url, synapse.register(f"omo-{tag}"), tmp_path / "official")
    await bot.start()
    await official.start()
    try:
        yield bot, official, await official.room(bot.user_id)
    finally:
        await official.stop()
        await bot.stop()


async def post_and_die(killed: OutboxWorker, dying: Relay, now: list[datetime]) -> None:
    """Let `killed` send until its relay has posted the row, then kill it (SIGKILL: leased, sent, not marked)."""

    async def send_until_posted() -> None:
        while not dying.posted.is_set():  # a busy homeserver may refuse a first attempt
            await killed.deliver_due()  # once posted, it hangs in the send
            now[0] += timedelta(minutes=1)  # the next attempt is due

    task = asyncio.create_task(send_until_posted())
    await asyncio.wait_for(dying.posted.wait(), 60)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def notices(official: Official, room_id: str, text: str) -> list[str]:
    return [
        e.event_id for r, e in official.events if r == room_id and isinstance(e, RoomMessageNotice) and e.body == text
    ]


async def test_a_row_sent_by_a_killed_instance_appears_once_and_the_queue_moves_on(
    room: tuple[Bot, Official, str], tmp_path: Path
) -> None:
    bot, official, room_id = room
    assert bot.channel is not None
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'bot' / 'state.db'}")  # the bot's own database
    to = ConversationRef("matrix", room_id)
    first, later = f"Nieuwe melding OMO-2026-{uuid.uuid4().hex[:4]}", "Nieuwe melding OMO-2026-0002"
    try:
        async with engine.begin() as conn:
            await enqueue(conn, to, TextReply(first), kind="case_new", at=T0)
        dying = Relay(bot.channel, die=True)
        now = [T0]
        killed = OutboxWorker(engine, {"matrix": dying}, worker_id="killed", clock=lambda: now[0])

        await post_and_die(killed, dying, now)
        killed_at = now[0]
        async with engine.begin() as conn:  # a case from a healthy instance, queued behind it
            await enqueue(conn, to, TextReply(later), kind="case_new", at=killed_at + timedelta(seconds=1))

        now[0] = killed_at + timedelta(seconds=10)
        relay = Relay(bot.channel)  # the instance restarted on its data dir: the same Matrix device
        takeover_s = EscalationSettings().outbox_takeover_s
        healthy = OutboxWorker(engine, {"matrix": relay}, clock=lambda: now[0], lease_s=takeover_s)
        assert await healthy.deliver_due() == 0  # the dead instance's lease still holds the room
        now[0] = killed_at + timedelta(seconds=takeover_s + 1)  # the default lease is short: well within 20 s
        assert await healthy.deliver_due() == 1  # the first row, resent with its transaction id
        assert await healthy.deliver_due() == 1  # then the later case
        assert relay.event_ids[0] == dying.event_ids[0]  # the homeserver recognised the resend

        await eventually(lambda: notices(official, room_id, later), what="the later case")
        assert notices(official, room_id, first) == [dying.event_ids[0]]  # posted once
    finally:
        await engine.dispose()


async def test_a_row_sent_by_a_killed_instance_is_resent_by_another_marked_and_the_queue_moves_on(
    room: tuple[Bot, Official, str], tmp_path: Path
) -> None:
    """Another instance is another Matrix device: the homeserver cannot tell the resend, so it is marked."""
    bot, official, room_id = room
    database = f"sqlite+aiosqlite:///{tmp_path / 'bot' / 'state.db'}"
    other = Bot(bot.homeserver, bot.user_id, tmp_path / "other", database_url=database)
    engine = create_engine(database)
    to = ConversationRef("matrix", room_id)
    first, later = f"Nieuwe melding OMO-2026-{uuid.uuid4().hex[:4]}", f"Nieuwe melding OMO-2026-{uuid.uuid4().hex[:4]}"
    try:
        await other.start()
        assert bot.channel is not None and other.channel is not None
        async with engine.begin() as conn:
            await enqueue(conn, to, TextReply(first), kind="case_new", at=T0)
        dying = Relay(bot.channel, die=True)
        now = [T0]
        killed = OutboxWorker(engine, {"matrix": dying}, worker_id="killed", clock=lambda: now[0])
        await post_and_die(killed, dying, now)
        killed_at = now[0]
        async with engine.begin() as conn:
            await enqueue(conn, to, TextReply(later), kind="case_new", at=killed_at + timedelta(seconds=1))

        takeover_s = EscalationSettings().outbox_takeover_s
        healthy = OutboxWorker(engine, {"matrix": Relay(other.channel)}, clock=lambda: now[0], lease_s=takeover_s)
        now[0] = killed_at + timedelta(seconds=takeover_s - 1)
        assert await healthy.deliver_due() == 0  # the dead instance's lease still holds the room
        now[0] = killed_at + timedelta(seconds=takeover_s + 1)  # the default lease: the later case within 20 s
        assert await healthy.deliver_due() == 1  # the first row again, from another device
        assert await healthy.deliver_due() == 1  # then the later case

        await eventually(lambda: notices(official, room_id, later), what="the later case")
        marked = f"{prompts.render('outbox_resent.nl.j2')}\n\n{first}"
        await eventually(lambda: notices(official, room_id, marked), what="the marked resend")
        assert notices(official, room_id, first) == [dying.event_ids[0]]  # the original, once, unmarked
        assert len(notices(official, room_id, marked)) == 1
    finally:
        await other.stop()
        await engine.dispose()
