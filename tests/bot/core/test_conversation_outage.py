"""The conversation core through a PostgreSQL outage: the server is really stopped and started again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.conversation_stores import StateMessageClaims
from bot.adapters.db import create_engine, is_unreachable, migrate
from bot.adapters.state import AnswerStore, ConversationStore
from bot.adapters.tables import answers
from bot.core.conversation import Conversation
from bot.core.messages import AnswerReply, ConversationRef, IncomingMessage, Reply, TextReply, UserId
from tests.conftest import Postgres
from tests.fakes import FakeAnswerer, FakeChannel, StaticSources, make_passage

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


@pytest.fixture
async def engine(own_postgres: Postgres) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(own_postgres.new_database(), timeout_s=2)
    await migrate(eng)
    try:
        yield eng
    finally:
        await eng.dispose()


def conversation(engine: AsyncEngine, channel: FakeChannel, retry_s: float) -> Conversation:
    return Conversation(
        FakeAnswerer([make_passage("mia.md", "De MIA weegt de impact.")]),
        AnswerStore(engine),
        ConversationStore(engine),
        StaticSources(),
        {"fake": channel},
        claims=StateMessageClaims(engine),
        outage_retry_s=retry_s,
        is_outage=is_unreachable,
    )


def question(n: int) -> IncomingMessage:
    from datetime import UTC, datetime

    return IncomingMessage(
        ref=ConversationRef("fake", f"!room{n % 2}", thread_id=f"$q{n}", reply_to=f"$q{n}"),
        message_id=f"$q{n}",
        sender=UserId("@ambtenaar:gemeente.nl"),
        text=f"Wat is de MIA? ({n})",
        is_private=False,
        sent_at=datetime.now(UTC),
    )


def kinds(channel: FakeChannel) -> list[str]:
    return [type(r).__name__ for _, r in channel.sent]


async def test_questions_during_an_outage_are_answered_once_when_the_database_is_back(
    engine: AsyncEngine, own_postgres: Postgres
) -> None:
    channel = FakeChannel()
    conv = conversation(engine, channel, retry_s=60)
    await conv.handle(question(0))  # connections in the pool, then the server goes away
    await asyncio.to_thread(own_postgres.stop)
    waiting = [asyncio.create_task(conv.handle(question(n))) for n in range(1, 6)]
    waiting.append(asyncio.create_task(conv.handle(question(3))))  # one delivered twice meanwhile
    await asyncio.sleep(3)
    assert kinds(channel) == ["AnswerReply"]  # nothing yet: no apology while it waits
    await asyncio.to_thread(own_postgres.start)
    await asyncio.wait_for(asyncio.gather(*waiting), 30)
    answered = sorted(r.answer.question for _, r in channel.sent if isinstance(r, AnswerReply))
    assert answered == sorted(question(n).text for n in range(6))
    assert kinds(channel) == ["AnswerReply"] * 6
    async with engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(answers))).scalar() == 6


async def test_an_outage_longer_than_the_limit_gets_the_apology_only(
    engine: AsyncEngine, own_postgres: Postgres
) -> None:
    channel = FakeChannel()
    conv = conversation(engine, channel, retry_s=2)
    await asyncio.to_thread(own_postgres.stop)
    await conv.handle(question(1))
    assert [r.text for _, r in channel.sent if isinstance(r, TextReply)] and kinds(channel) == ["TextReply"]


async def test_an_outage_right_after_the_answer_went_out_brings_no_apology(
    engine: AsyncEngine, own_postgres: Postgres
) -> None:
    class CutsTheDatabase(FakeChannel):
        async def send(self, to: ConversationRef, reply: Reply, *, txn_id: str | None = None) -> str | None:
            sent = await super().send(to, reply, txn_id=txn_id)
            await asyncio.to_thread(own_postgres.stop)  # the database goes down as the answer goes out
            return sent

    channel = CutsTheDatabase()
    await conversation(engine, channel, retry_s=2).handle(question(1))
    assert kinds(channel) == ["AnswerReply"]
