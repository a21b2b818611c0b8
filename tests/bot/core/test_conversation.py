"""The conversation core against a recording channel, a fake answerer and in-memory stores."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from bot import prompts
from bot.core.answering import EVERYONE, PUBLIC
from bot.core.conversation import Conversation, parse_command
from bot.core.messages import (
    AnswerReply,
    ConversationRef,
    Feedback,
    IncomingMessage,
    StartIntake,
    TextReply,
    UserId,
)
from bot.core.models import Access, Answer
from bot.core.ports import SourceInfo
from tests.fakes import (
    FakeAnswerer,
    FakeChannel,
    MemoryAnswerLog,
    MemoryConversationLog,
    StaticSources,
    make_passage,
)

pytestmark = pytest.mark.unit

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
ROOM = ConversationRef(channel="fake", conversation_id="!room", thread_id="$q1", reply_to="$q1")
OMO = ConversationRef(channel="fake", conversation_id="!omo", thread_id="$q9", reply_to="$q9")


@dataclasses.dataclass
class World:
    conv: Conversation
    channel: FakeChannel
    answerer: FakeAnswerer
    answers: MemoryAnswerLog
    conversations: MemoryConversationLog


@pytest.fixture
def world() -> World:
    channel = FakeChannel()
    answerer = FakeAnswerer(
        [
            make_passage(
                "mia.md",
                "De MIA weegt de impact.",
                title="MIA",
                section="Stap 1",
                page=3,
                url="https://example.org/mia",
            ),
            make_passage("intern.md", "Alleen voor het OMO.", access=Access.OMO_INTERN),
        ]
    )
    answers = MemoryAnswerLog()
    conversations = MemoryConversationLog()
    sources = StaticSources(
        [
            SourceInfo("Zeta handreiking", "2024-01-01", "https://example.org/z"),
            SourceInfo("Agenda", "2023-06-01", None),
            SourceInfo("Intern draaiboek", "2025-01-01", None, access=Access.OMO_INTERN),
        ]
    )
    conv = Conversation(
        answerer, answers, conversations, sources, {"fake": channel}, omo={("fake", "!omo")}, clock=lambda: NOW
    )
    return World(conv, channel, answerer, answers, conversations)


def message(text: str, ref: ConversationRef = ROOM, **kw: object) -> IncomingMessage:
    return IncomingMessage(
        ref=ref,
        message_id=ref.reply_to or "$x",
        sender=UserId("@ambtenaar:gemeente.nl"),
        text=text,
        is_private=False,
        sent_at=NOW,
        **kw,  # type: ignore[arg-type]
    )


def texts(channel: FakeChannel) -> list[str]:
    return [r.text for _, r in channel.sent if isinstance(r, TextReply)]


def test_parse_command() -> None:
    assert parse_command("!vraag Wat is een MIA?") == ("vraag", "Wat is een MIA?")
    assert parse_command("!VRAAG\nmeerdere regels") == ("vraag", "meerdere regels")
    assert parse_command("!help") == ("help", "")
    assert parse_command("Wat is een MIA?") == (None, "Wat is een MIA?")
    assert parse_command("! vraag") == (None, "! vraag")
    assert parse_command("!") == (None, "!")


async def test_question_is_answered_recorded_and_typed(world: World) -> None:
    await world.conv.handle(message("Wat is een MIA?"))
    [(to, reply)] = world.channel.sent
    assert to == ROOM
    assert isinstance(reply, AnswerReply)
    assert [c.passage.doc.doc_id for c in reply.answer.citations] == ["mia.md"]
    assert world.answerer.calls == [("Wat is een MIA?", PUBLIC, None)]
    entry = world.answers.entries[reply.answer_id]
    assert entry.doc_ids == ("mia.md",) and entry.thread_id == "$q1" and entry.question == "Wat is een MIA?"
    assert world.answers.message_ids == {"m1": reply.answer_id}
    assert world.channel.typing_calls == []  # a quick answer needs no "typing..."
    assert world.conversations.seen == {("fake", "!room"): (False, "@ambtenaar:gemeente.nl")}


async def test_a_slow_answer_shows_typing_while_it_is_made_and_clears_it(world: World) -> None:
    channel = world.channel
    shown: list[tuple[tuple[ConversationRef, bool], int]] = []  # the last notice and the replies so far

    class SlowAnswerer(FakeAnswerer):
        async def answer(
            self, question: str, *, access: frozenset[Access] = PUBLIC, context: str | None = None
        ) -> Answer:
            for _ in range(500):  # the notice goes out while the answer is still being made
                if len(channel.typing_calls) % 2:
                    break
                await asyncio.sleep(0.01)
            shown.append((channel.typing_calls[-1], len(channel.sent)))
            return await super().answer(question, access=access, context=context)

    slow = SlowAnswerer(world.answerer.passages)
    conv = Conversation(
        slow, world.answers, world.conversations, StaticSources(), {"fake": channel}, typing_after_s=0.05
    )
    await conv.handle(message("Wat is een MIA?"))
    assert isinstance(channel.sent[0][1], AnswerReply)
    assert [active for _, active in channel.typing_calls] == [True, False]
    slow.fail = True
    await conv.handle(message("Wat is een MIA?"))  # a failed slow answer: apology, and the notice is off too
    assert texts(channel) == [prompts.render("apology.nl.j2")]
    assert [active for _, active in channel.typing_calls] == [True, False, True, False]
    assert shown == [((ROOM, True), 0), ((ROOM, True), 1)]  # each time "typing..." came before its reply


async def test_an_answer_records_how_long_it_took(world: World) -> None:
    now = [NOW]

    class SlowAnswerer(FakeAnswerer):
        async def answer(
            self, question: str, *, access: frozenset[Access] = PUBLIC, context: str | None = None
        ) -> Answer:
            now[0] += timedelta(milliseconds=1250)  # the clock moves while the answer is made
            return await super().answer(question, access=access, context=context)

    conv = Conversation(
        SlowAnswerer(world.answerer.passages), world.answers, world.conversations, StaticSources(),
        {"fake": world.channel}, clock=lambda: now[0],
    )  # fmt: skip
    await conv.handle(message("Wat is een MIA?"))
    (entry,) = world.answers.entries.values()
    assert entry.answer_ms == 1250 and entry.at == NOW + timedelta(milliseconds=1250)


async def test_vraag_command_and_omo_room_sees_everything(world: World) -> None:
    await world.conv.handle(message("!vraag   Wat doet het OMO?", ref=OMO))
    assert world.answerer.calls == [("Wat doet het OMO?", EVERYONE, None)]
    reply = world.channel.sent[0][1]
    assert isinstance(reply, AnswerReply) and len(reply.answer.citations) == 2


async def test_follow_up_in_thread_gets_the_question_it_follows_and_the_follow_ups_since(world: World) -> None:
    await world.conv.handle(message("Wat is een MIA?"))
    follow = ConversationRef(channel="fake", conversation_id="!room", thread_id="$q1", reply_to="$q2")
    await world.conv.handle(message("En wie doet die?", ref=follow))
    assert world.answerer.calls[1] == ("En wie doet die?", PUBLIC, "Wat is een MIA?")
    later = ConversationRef(channel="fake", conversation_id="!room", thread_id="$q1", reply_to="$q3")
    await world.conv.handle(message("En wanneer dan?", ref=later))
    assert world.answerer.calls[2] == ("En wanneer dan?", PUBLIC, "Wat is een MIA?\nEn wie doet die?")


async def test_in_a_chat_without_threads_a_follow_up_gets_the_questions_of_the_last_half_hour(world: World) -> None:
    chat = ConversationRef(channel="fake", conversation_id="a:personal", thread_id=None, reply_to=None)
    await world.conv.handle(message("Wat is een MIA?", ref=chat))
    await world.conv.handle(message("En wie doet die?", ref=chat))
    assert world.answerer.calls[1] == ("En wie doet die?", PUBLIC, "Wat is een MIA?")
    for entry in list(world.answers.entries.values()):  # the conversation was an hour ago
        world.answers.entries[entry.answer_id] = dataclasses.replace(entry, at=NOW - timedelta(hours=1))
    await world.conv.handle(message("En wanneer dan?", ref=chat))
    assert world.answerer.calls[2] == ("En wanneer dan?", PUBLIC, None)


async def test_feedback_is_stored_silently(world: World) -> None:
    await world.conv.handle(message("Wat is een MIA?"))
    answer_id = next(iter(world.answers.entries))
    await world.conv.handle(message("", feedback=Feedback(positive=True, message_id="m1")))
    await world.conv.handle(message("", feedback=Feedback(positive=False, answer_id=answer_id)))
    await world.conv.handle(message("", feedback=Feedback(positive=True, message_id="$unknown")))
    assert world.answers.votes == {(answer_id, "@ambtenaar:gemeente.nl"): False}
    assert len(world.channel.sent) == 1


async def test_help_unknown_and_switched_off_features(world: World) -> None:
    await world.conv.handle(message("!help"))
    await world.conv.handle(message("!wat"))
    await world.conv.handle(message("!omo"))
    await world.conv.handle(message("!digest aan"))
    await world.conv.handle(message("", action=StartIntake()))
    help_text = prompts.render("help.nl.j2")
    said = texts(world.channel)
    assert said[:2] == [help_text, help_text]
    assert "!omo" in said[2] and "niet aan" in said[2]
    assert "!digest" in said[3] and said[4] == said[2]
    assert world.answerer.calls == []


async def test_sources_are_listed_sorted_and_filtered_by_room(world: World) -> None:
    await world.conv.handle(message("!bronnen"))
    await world.conv.handle(message("!bronnen", ref=OMO))
    public, omo = texts(world.channel)
    assert public.index("Agenda (2023-06-01)") < public.index("Zeta handreiking (2024-01-01)")
    assert "https://example.org/z" in public and "Intern draaiboek" not in public
    assert "Intern draaiboek (2025-01-01)" in omo


async def test_too_long_and_empty_questions_skip_retrieval(world: World) -> None:
    await world.conv.handle(message("x" * 4001))
    await world.conv.handle(message("!vraag"))
    await world.conv.handle(message("   "))
    too_long, empty, empty2 = texts(world.channel)
    assert "4001" in too_long and "4000" in too_long
    assert empty == empty2 == prompts.render("empty_question.nl.j2")
    assert world.answerer.calls == []


async def test_failure_sends_apology_and_carries_on(world: World) -> None:
    world.answerer.fail = True
    await world.conv.handle(message("Wat is een MIA?"))
    assert texts(world.channel) == [prompts.render("apology.nl.j2")]
    world.answerer.fail = False
    await world.conv.handle(message("Wat is een MIA?"))
    assert isinstance(world.channel.sent[-1][1], AnswerReply)


async def test_failed_send_is_not_fatal(world: World) -> None:
    world.channel.fail_sends = 2  # the answer and the apology both fail
    await world.conv.handle(message("Wat is een MIA?"))
    assert world.channel.sent == []


def test_every_template_renders() -> None:
    answer = FakeAnswerer([make_passage("a", "tekst", section="S", page=2)])
    import asyncio

    ans = asyncio.run(answer.answer("v"))
    values: dict[str, dict[str, object]] = {
        "too_long.nl.j2": {"length": 5000, "limit": 4000},
        "not_available.nl.j2": {"feature": "!omo"},
        "sources.nl.j2": {"sources": []},
        "answer.nl.j2": {"answer": ans},
        "matrix_answer.html.j2": {"paragraphs": [["<b>x</b>"]], "sources": [], "note": "Aangepast"},
    }
    for name in ["help.nl.j2", "empty_question.nl.j2", "apology.nl.j2", "answer_edited.nl.j2", *values]:
        assert prompts.render(name, **values.get(name, {}))
    assert "[1] Titel" in prompts.render("answer.nl.j2", answer=ans)
    assert "&lt;b&gt;" in prompts.render("matrix_answer.html.j2", paragraphs=[["<b>x</b>"]], sources=[], note=None)
