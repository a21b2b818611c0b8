"""Message claims over SQLite and PostgreSQL (`engine` fixture): each message is handled once, even when
the instance that claimed it dies."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.conversation_stores import StateMessageClaims
from bot.adapters.tables import handled_messages
from bot.core.messages import ConversationRef, Feedback, IncomingMessage, SubmitIntake, UserId

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def message(message_id: str, conversation_id: str = "!room", channel: str = "matrix", **kw: object) -> IncomingMessage:
    return IncomingMessage(
        ref=ConversationRef(channel, conversation_id, thread_id="$root", reply_to=message_id),
        message_id=message_id,
        sender=UserId("@ambtenaar:gemeente.nl"),
        text="Wat is de MIA?",
        is_private=False,
        sent_at=T0,
        **kw,  # type: ignore[arg-type]
    )


async def test_a_message_is_claimed_once(engine: AsyncEngine) -> None:
    claims = StateMessageClaims(engine)
    assert await claims.claim(message("$event"), T0) is True
    assert await claims.claim(message("$event"), T0) is False
    assert await claims.claim(message("$event", "!other"), T0) is True  # ids are per conversation
    assert await claims.claim(message("$event", channel="teams"), T0) is True
    assert await claims.forget_before(T0 + timedelta(seconds=1)) == 3
    assert await claims.claim(message("$event"), T0) is True


async def test_two_instances_racing_for_one_message_handle_it_once(engine: AsyncEngine) -> None:
    first, second = StateMessageClaims(engine), StateMessageClaims(engine)
    results = await asyncio.gather(
        *(c.claim(message(f"act-{i % 5}", "a:chat", "teams"), T0) for i, c in enumerate([first, second] * 10))
    )
    assert sum(results) == 5


async def test_a_dead_instance_claim_is_taken_over_once_with_its_message(engine: AsyncEngine) -> None:
    dead = StateMessageClaims(engine, instance_id="dead")
    original = message("$q", sender_name="Ambtenaar", feedback=Feedback(positive=True, message_id="$a"))
    with_action = message("$form", action=SubmitIntake("a1", "!room", {"urgency": "hoog"}))
    assert await dead.claim(original, T0) and await dead.claim(with_action, T0)
    survivors = [StateMessageClaims(engine, instance_id=f"alive-{i}") for i in range(3)]
    later = T0 + timedelta(seconds=31)
    results = await asyncio.gather(*(s.take_over(later - timedelta(seconds=30), later) for s in survivors))
    taken = [m for r in results for m in r]
    assert sorted(taken, key=lambda m: m.message_id) == [with_action, original]  # each once, every field kept
    for survivor, mine in zip(survivors, results, strict=True):
        assert await survivor.heartbeat(later) == len(mine)  # now the taker's: it heart-beats them
        for msg in mine:
            await dead.done(msg, later)  # the old owner, were it back, can no longer close it
            assert await survivor.holds(msg) and not await dead.holds(msg)
            await survivor.done(msg, later)
            assert not await survivor.holds(msg)
    much_later = later + timedelta(hours=1)
    assert await survivors[0].take_over(much_later, much_later) == []  # done claims are never taken again
    async with engine.connect() as conn:
        kept = (await conn.execute(select(handled_messages.c.message))).scalars().all()
    assert kept == [None, None]  # the question text is dropped once answered


async def test_a_live_claim_is_never_taken(engine: AsyncEngine) -> None:
    live, other = StateMessageClaims(engine, instance_id="live"), StateMessageClaims(engine, instance_id="other")
    assert await live.claim(message("$q"), T0)
    for step in range(1, 6):  # the owner beats every 10 s; the other looks for claims stale for 30 s
        now = T0 + timedelta(seconds=10 * step)
        assert await live.heartbeat(now) == 1
        assert await other.take_over(now - timedelta(seconds=30), now) == []
    assert await other.heartbeat(T0 + timedelta(minutes=1)) == 0
