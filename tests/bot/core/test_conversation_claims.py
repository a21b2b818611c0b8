"""Two conversation cores over one state database (SQLite and PostgreSQL): every message answered once,
also when the instance that claimed it dies before answering."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.conversation_stores import StateMessageClaims
from bot.adapters.state import AnswerStore, ConversationStore
from bot.core.conversation import Conversation
from bot.core.messages import AnswerReply, ConversationRef, IncomingMessage, UserId
from bot.core.models import Access, Answer
from bot.core.ports import AnswerEntry
from tests.fakes import FakeAnswerer, FakeChannel, StaticSources, make_passage

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


class StuckAnswerer(FakeAnswerer):
    """An answerer that never finishes: its instance dies (is cancelled) while it thinks."""

    def __init__(self) -> None:
        super().__init__([])
        self.thinking = asyncio.Event()

    async def answer(
        self, question: str, *, access: frozenset[Access] = frozenset(), context: str | None = None
    ) -> Answer:
        self.calls.append((question, access, context))
        self.thinking.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


@dataclass
class Instance:
    conversation: Conversation
    channel: FakeChannel
    answerer: FakeAnswerer
    now: datetime = T0

    def answers(self) -> list[str]:
        return [r.answer.question for _, r in self.channel.sent if isinstance(r, AnswerReply)]


class Outage(Exception):
    """The state database is unreachable (as `is_outage` tells)."""


class UnreachableAnswers(AnswerStore):
    """The answer log while the database is down: `record` fails until `back` is set."""

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(engine)
        self.down = asyncio.Event()
        self.back = asyncio.Event()

    async def record(self, entry: AnswerEntry) -> None:
        if not self.back.is_set():
            self.down.set()
            raise Outage("connection refused")
        await super().record(entry)


def instance(
    engine: AsyncEngine, name: str, answerer: FakeAnswerer | None = None, answers: AnswerStore | None = None
) -> Instance:
    channel = FakeChannel()
    answerer = answerer or FakeAnswerer([make_passage("mia.md", "De MIA weegt de impact.")])
    box = Instance(None, channel, answerer)  # type: ignore[arg-type]
    box.conversation = Conversation(
        answerer,
        answers or AnswerStore(engine),
        ConversationStore(engine),
        StaticSources(),
        {"fake": channel},
        clock=lambda: box.now,
        claims=StateMessageClaims(engine, instance_id=name),
        claim_takeover_s=30.0,
        is_outage=lambda exc: isinstance(exc, Outage),
    )
    return box


async def start_answering(box: Instance, msg: IncomingMessage) -> asyncio.Task[None]:
    """Let `box` claim `msg` and start thinking about it; cancel the task to kill the instance."""
    task = asyncio.create_task(box.conversation.handle(msg))
    assert isinstance(box.answerer, StuckAnswerer)
    await box.answerer.thinking.wait()
    return task


async def kill(task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def question(n: int) -> IncomingMessage:
    return IncomingMessage(
        ref=ConversationRef("fake", "!room", thread_id=f"$q{n}", reply_to=f"$q{n}"),
        message_id=f"$q{n}",
        sender=UserId("@ambtenaar:gemeente.nl"),
        text=f"Wat is de MIA? ({n})",
        is_private=False,
        sent_at=T0,
    )


async def test_two_instances_receiving_the_same_messages_answer_each_once(engine: AsyncEngine) -> None:
    a, b = instance(engine, "a"), instance(engine, "b")
    await asyncio.gather(*(i.conversation.handle(question(n)) for n in range(6) for i in (a, b)))
    assert sorted(a.answers() + b.answers()) == [question(n).text for n in range(6)]


async def test_a_dead_instance_s_claim_is_taken_over_and_answered_once(engine: AsyncEngine) -> None:
    dead = instance(engine, "dead", StuckAnswerer())
    survivor, third = instance(engine, "survivor"), instance(engine, "third")
    await kill(await start_answering(dead, question(1)))  # the claim stays, nobody heart-beats it
    await survivor.conversation.handle(question(1))  # a redelivery is not answered by the claim alone
    survivor.now = third.now = T0 + timedelta(seconds=20)
    await asyncio.gather(survivor.conversation.take_over_claims(), third.conversation.take_over_claims())
    assert survivor.answers() + third.answers() == []  # not stale yet
    survivor.now = third.now = T0 + timedelta(seconds=31)
    await asyncio.gather(survivor.conversation.take_over_claims(), third.conversation.take_over_claims())
    assert survivor.answers() + third.answers() == [question(1).text]
    survivor.now = third.now = T0 + timedelta(minutes=5)
    await asyncio.gather(survivor.conversation.take_over_claims(), third.conversation.take_over_claims())
    assert len(survivor.answers() + third.answers()) == 1
    assert dead.channel.sent == []


async def test_a_live_instance_s_claim_is_never_taken(engine: AsyncEngine) -> None:
    slow = instance(engine, "slow", StuckAnswerer())
    other = instance(engine, "other")
    task = await start_answering(slow, question(1))
    for step in range(1, 7):  # a minute of thinking, heart-beating every 10 s
        slow.now = other.now = T0 + timedelta(seconds=10 * step)
        await slow.conversation.beat_claims()
        await other.conversation.take_over_claims()
    assert other.answers() == []
    await kill(task)


async def test_a_claim_left_by_a_crash_is_answered_by_the_next_start(engine: AsyncEngine) -> None:
    crashed = instance(engine, "before-restart", StuckAnswerer())
    await kill(await start_answering(crashed, question(7)))
    restarted = instance(engine, "after-restart")
    restarted.now = T0 + timedelta(seconds=45)
    await restarted.conversation.take_over_claims()  # the scheduler runs it at start
    assert restarted.answers() == [question(7).text]


async def test_a_claim_taken_over_while_its_owner_waited_out_an_outage_is_answered_by_the_taker_only(
    engine: AsyncEngine,
) -> None:
    answers = UnreachableAnswers(engine)
    waiting = instance(engine, "waiting", answers=answers)
    task = asyncio.create_task(waiting.conversation.handle(question(1)))
    await answers.down.wait()  # claimed, then the database went away: no heartbeats get through
    taker = instance(engine, "taker")
    taker.now = T0 + timedelta(seconds=31)
    await taker.conversation.take_over_claims()
    answers.back.set()
    await asyncio.wait_for(task, 10)
    assert taker.answers() == [question(1).text]
    assert waiting.channel.sent == []  # it saw the claim was no longer its own
