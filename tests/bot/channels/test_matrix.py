"""The Matrix channel against a real Synapse: threads, mentions, direct chats, encryption, restarts."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from nio import AsyncClient, MegolmEvent, RoomMessageNotice

from bot import prompts
from bot.config import MatrixSettings
from tests.bot.channels.matrix_harness import Bot, Official, TcpProxy, eventually
from tests.synapse import Synapse, free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(120)]

log = logging.getLogger(__name__)


class World:
    def __init__(self, synapse: Synapse, tmp: Path) -> None:
        self.synapse = synapse
        self.tmp = tmp
        tag = uuid.uuid4().hex[:8]
        self.bot_id = synapse.register(f"bot-{tag}")
        self.official_id = synapse.register(f"ambtenaar-{tag}")
        self.bots: list[Bot] = []
        self.officials: list[Official] = []

    def bot(self, **kw: object) -> Bot:
        bot = Bot(self.synapse.url, self.bot_id, self.tmp / "bot", **kw)  # type: ignore[arg-type]
        self.bots.append(bot)
        return bot

    async def official(self, user_id: str | None = None) -> Official:
        user_id = user_id or self.official_id
        official = Official(self.synapse.url, user_id, self.tmp / f"official-{user_id}")
        await official.start()
        self.officials.append(official)
        return official


@pytest.fixture
async def world(synapse: Synapse, tmp_path: Path) -> AsyncIterator[World]:
    w = World(synapse, tmp_path)
    yield w
    for bot in w.bots:
        await bot.stop()
    for official in w.officials:
        await official.stop()


@pytest.fixture
def quiet_period() -> Iterator[float]:
    yield 1.5


async def answered(official: Official, question_id: str) -> RoomMessageNotice:
    replies = await eventually(lambda: official.replies_to(question_id), what=f"an answer to {question_id}")
    reply = replies[0]
    assert isinstance(reply, RoomMessageNotice), reply
    return reply


async def test_room_mention_gets_threaded_cited_answer(world: World, quiet_period: float) -> None:
    bot = world.bot()
    await bot.start()
    official = await world.official()
    room = await official.room(world.bot_id)
    ignored = await official.say(room, "Gewoon een praatje in de ruimte")
    question = await official.say(room, f"{world.bot_id}: Wat is een MIA?", mention=world.bot_id)
    reply = await answered(official, question)
    rel = reply.source["content"]["m.relates_to"]
    assert rel["rel_type"] == "m.thread" and rel["event_id"] == question and rel["is_falling_back"] is True
    assert rel["m.in_reply_to"]["event_id"] == question
    html = reply.source["content"]["formatted_body"]
    assert '<a href="https://example.org/mia?a=1&amp;b=2">MIA &amp; co</a>, Stap 1, p. 3' in html
    assert "Bronnen" in reply.body and "[1]" in reply.body
    assert bot.answerer.calls[0][0] == "Wat is een MIA?"
    # a follow-up in the thread carries the earlier question as context
    thread = {"m.relates_to": {"rel_type": "m.thread", "event_id": question}}
    follow = await official.say(room, "!vraag En wie voert die uit?", **thread)
    await answered(official, follow)
    assert bot.answerer.calls[1] == ("En wie voert die uit?", bot.answerer.calls[0][1], "Wat is een MIA?")
    await asyncio.sleep(quiet_period)
    assert official.replies_to(ignored) == []
    assert len(bot.answerer.calls) == 2


async def test_vraag_command_in_room_and_too_long_notice(world: World) -> None:
    bot = world.bot()
    await bot.start()
    official = await world.official()
    room = await official.room(world.bot_id)
    question = await official.say(room, "!vraag Wat doet het OMO?")
    await answered(official, question)
    long = await official.say(room, "!vraag " + "x" * 5000)
    notice = await answered(official, long)
    assert notice.body == prompts.render("too_long.nl.j2", length=5007, limit=4000)
    assert len(bot.answerer.calls) == 1


async def test_direct_chat_needs_no_mention(world: World) -> None:
    bot = world.bot()
    await bot.start()
    official = await world.official()
    room = await official.room(world.bot_id, direct=True)
    question = await official.say(room, "Wat is een MIA?")
    await answered(official, question)


async def test_two_instances_answer_each_question_once(world: World, quiet_period: float) -> None:
    shared = f"sqlite+aiosqlite:///{world.tmp / 'shared.db'}"
    for name in ("instance-a", "instance-b"):
        bot = Bot(world.synapse.url, world.bot_id, world.tmp / name, database_url=shared)
        world.bots.append(bot)
        await bot.start()
    official = await world.official()
    room = await official.room(world.bot_id, direct=True)
    questions = [await official.say(room, f"Vraag {i}: wat is een MIA?") for i in range(3)]
    for question in questions:
        await answered(official, question)
    await asyncio.sleep(quiet_period)
    assert [len(official.replies_to(q)) for q in questions] == [1, 1, 1]
    assert sum(len(bot.answerer.calls) for bot in world.bots) == 3


async def test_encrypted_room_is_answered_encrypted(world: World) -> None:
    bot = world.bot()
    await bot.start()
    official = await world.official()
    room = await official.room(world.bot_id, direct=True, encrypted=True)
    question = await official.say(room, "Wat is een MIA?")
    reply = await answered(official, question)
    assert reply.decrypted and "Bronnen" in reply.body
    assert not [e for _, e in official.events if isinstance(e, MegolmEvent)]


async def test_reaction_feedback_is_stored(world: World) -> None:
    bot = world.bot()
    await bot.start()
    official = await world.official()
    room = await official.room(world.bot_id, direct=True)
    question = await official.say(room, "Wat is een MIA?")
    reply = await answered(official, question)
    content = {"m.relates_to": {"rel_type": "m.annotation", "event_id": reply.event_id, "key": "👍️"}}
    await official.client.room_send(room, "m.reaction", content, ignore_unverified_devices=True)
    assert bot.answers is not None
    record = await bot.answers.find(message_id=reply.event_id)
    assert record is not None and record.thread_id == question and record.doc_ids == ("mia.md", "agenda.md")
    answers = bot.answers
    votes = await eventually(lambda: answers.feedback_for(record.answer_id), what="feedback")
    assert votes == [(world.official_id, True)]


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
async def test_restart_answers_what_was_sent_while_down_once(
    world: World, quiet_period: float, database: str, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue("postgres").new_database() if database == "postgresql" else None
    bot = world.bot(database_url=url)
    await bot.start()
    official = await world.official()
    room = await official.room(world.bot_id, direct=True)
    first = await official.say(room, "Eerste vraag")
    await answered(official, first)
    device = json.loads((bot.data_dir / "matrix" / "session.json").read_text())["device_id"]
    await bot.stop()
    while_down = [await official.say(room, f"Vraag {i} terwijl de bot uit staat") for i in range(3)]
    again = world.bot(database_url=url)
    await again.start()
    for question in while_down:
        await answered(official, question)
    second = await official.say(room, "Tweede vraag")
    await answered(official, second)
    await asyncio.sleep(quiet_period)
    assert [len(official.replies_to(q)) for q in [first, *while_down, second]] == [1, 1, 1, 1, 1]
    assert sorted(c[0] for c in again.answerer.calls) == sorted(
        ["Tweede vraag", *(f"Vraag {i} terwijl de bot uit staat" for i in range(3))]
    )
    assert again.channel is not None and again.channel.client.device_id == device


async def test_more_questions_while_down_than_one_sync_holds_are_all_answered(
    world: World, quiet_period: float, caplog: pytest.LogCaptureFixture
) -> None:
    bot = world.bot()
    await bot.start()
    official = await world.official()
    room = await official.room(world.bot_id, direct=True)
    await bot.stop()
    while_down = [await official.say(room, f"Vraag {i} terwijl de bot uit staat") for i in range(15)]
    again = world.bot()
    with caplog.at_level(logging.INFO, logger="bot.channels.matrix"):
        await again.start()
        for question in while_down:
            await answered(official, question)
    await asyncio.sleep(quiet_period)
    assert "back-filled" in caplog.text  # Synapse returns 10 events per room and sync: the rest came from /messages
    assert [len(official.replies_to(q)) for q in while_down] == [1] * 15


async def test_first_start_and_old_messages_are_not_answered(
    world: World, quiet_period: float, caplog: pytest.LogCaptureFixture
) -> None:
    official = await world.official()
    room = await official.client.room_create(is_direct=True, invite=[world.bot_id])
    before_first_start = await official.say(room.room_id, "Vraag van voor de eerste start")  # type: ignore[union-attr]
    bot = world.bot(catch_up_max_age=timedelta(seconds=1))
    await bot.start()
    await official.client.join(room.room_id)  # type: ignore[union-attr]
    dm = room.room_id  # type: ignore[union-attr]
    await eventually(lambda: dm in bot.channel.client.rooms if bot.channel else False, what="the bot to join")
    first = await official.say(dm, "Eerste vraag")
    await answered(official, first)
    await asyncio.sleep(quiet_period)  # its handler finishes: one stopped midway is delivered again after a restart
    await bot.stop()
    too_old = [await official.say(dm, f"Oude vraag {i}") for i in range(2)]
    await asyncio.sleep(1.5)  # older than catch_up_max_age by the time the bot is back
    again = world.bot(catch_up_max_age=timedelta(seconds=1))
    with caplog.at_level(logging.INFO, logger="bot.channels.matrix"):
        await again.start()
        fresh = await official.say(dm, "Nieuwe vraag")
        await answered(official, fresh)
    await asyncio.sleep(quiet_period)
    assert official.replies_to(before_first_start) == []
    assert [official.replies_to(q) for q in too_old] == [[], []]
    skipped = [r.getMessage() for r in caplog.records if "older than matrix.catch_up_max_age" in r.getMessage()]
    assert len(skipped) == 1 and "skipped 2 events" in skipped[0]


async def test_burst_of_30_in_one_direct_chat_is_answered_once_each(world: World, quiet_period: float) -> None:
    bot = world.bot()
    await bot.start()
    official = await world.official()
    room = await official.room(world.bot_id, direct=True)
    questions = await asyncio.gather(*(official.say(room, f"Vraag {i}: wat is een MIA?") for i in range(30)))
    for question in questions:
        await answered(official, question)
    await asyncio.sleep(quiet_period)
    assert [len(official.replies_to(q)) for q in questions] == [1] * 30
    assert len(bot.answerer.calls) == 30


def bot_replies(official: Official, bot_id: str, question_id: str) -> list[RoomMessageNotice]:
    return [e for e in official.replies_to(question_id) if isinstance(e, RoomMessageNotice) and e.sender == bot_id]


def edit(question_id: str, text: str, **new: object) -> dict[str, object]:
    return {
        "m.new_content": {"msgtype": "m.text", "body": text, **new},
        "m.relates_to": {"rel_type": "m.replace", "event_id": question_id},
    }


async def test_edited_question_is_answered_in_the_original_thread(world: World, quiet_period: float) -> None:
    bot = world.bot()
    await bot.start()
    official = await world.official()
    dm = await official.room(world.bot_id, direct=True)
    question = await official.say(dm, "Wat is een MIA?")
    await answered(official, question)
    await official.say(dm, "* Wat is de agenda?", **edit(question, "Wat is de agenda?"))
    first, second = await eventually(
        lambda: bot_replies(official, world.bot_id, question)[1:] and bot_replies(official, world.bot_id, question),
        what="an answer to the edit",
    )
    note = prompts.render("answer_edited.nl.j2")
    assert (
        note not in first.body and second.body.startswith(note) and note in second.source["content"]["formatted_body"]
    )
    rel = second.source["content"]["m.relates_to"]
    assert rel["event_id"] == question and rel["m.in_reply_to"]["event_id"] == question
    assert [c[0] for c in bot.answerer.calls] == ["Wat is een MIA?", "Wat is de agenda?"]

    # in a shared room: chatter edited into a question in a thread is answered in that thread, without the note
    room = await official.room(world.bot_id)
    root = await official.say(room, "!vraag Wat is een MIA?")
    await answered(official, root)
    chatter = await official.say(
        room, "Even iets anders", **{"m.relates_to": {"rel_type": "m.thread", "event_id": root}}
    )
    mention = {"m.mentions": {"user_ids": [world.bot_id]}}
    await official.say(room, "* vraag", **edit(chatter, f"{world.bot_id}: Wie maakt de agenda?", **mention))
    (reply,) = await eventually(lambda: bot_replies(official, world.bot_id, chatter), what="an answer to the edit")
    assert not reply.body.startswith(note)
    rel = reply.source["content"]["m.relates_to"]
    assert rel["rel_type"] == "m.thread" and rel["event_id"] == root and rel["m.in_reply_to"]["event_id"] == chatter
    assert bot.answerer.calls[-1][0] == "Wie maakt de agenda?"
    # an "edit" by someone else than the sender is no edit
    other = await world.official(world.synapse.register(f"collega-{uuid.uuid4().hex[:8]}"))
    await official.client.room_invite(room, other.client.user_id)
    await other.client.join(room)
    await eventually(lambda: room in other.client.rooms, what="the colleague in the room")
    await other.say(room, "* vraag", **edit(root, f"{world.bot_id}: Wat is vals?", **mention))
    await asyncio.sleep(quiet_period)
    assert len(bot.answerer.calls) == 4
    assert len(bot_replies(official, world.bot_id, root)) == 2  # the root's own answer and the edited chatter's


async def test_only_a_real_mention_is_answered_in_a_room(world: World, quiet_period: float) -> None:
    profile = AsyncClient(world.synapse.url, world.bot_id)
    await profile.login("wachtwoord")
    await profile.set_displayname("Onrust")
    await profile.close()
    bot = world.bot()
    await bot.start()
    official = await world.official()
    room = await official.room(world.bot_id)
    chatter = [
        await official.say(room, text)
        for text in ("Er is onrust in de wijk", "onrustkaart bijgewerkt", "Onrustkaart: nieuwe versie")
    ]
    by_name = await official.say(room, "Onrust: wat is een MIA?")
    pill = await official.say(
        room,
        "Onrust wie maakt de agenda?",
        format="org.matrix.custom.html",
        formatted_body=f'<a href="https://matrix.to/#/{world.bot_id}">Onrust</a> wie maakt de agenda?',
    )
    await answered(official, by_name)
    await answered(official, pill)
    await asyncio.sleep(quiet_period)
    assert [official.replies_to(q) for q in chatter] == [[], [], []]
    assert sorted(c[0] for c in bot.answerer.calls) == ["wat is een MIA?", "wie maakt de agenda?"]


async def test_invite_from_disallowed_user_is_declined(world: World) -> None:
    bot = world.bot(allowed_users=[world.official_id], allowed_servers=["elders.example"])
    await bot.start()
    stranger_id = world.synapse.register(f"vreemde-{uuid.uuid4().hex[:8]}")
    stranger = await world.official(stranger_id)
    resp = await stranger.client.room_create(invite=[world.bot_id])
    room_id = resp.room_id  # type: ignore[union-attr]

    async def declined() -> bool:
        state = await stranger.client.room_get_state_event(room_id, "m.room.member", world.bot_id)
        return getattr(state, "content", {}).get("membership") == "leave"

    await eventually(declined, what="the invite to be declined")
    official = await world.official()
    room = await official.room(world.bot_id)  # the allowed user is still served
    question = await official.say(room, "!vraag Wat is een MIA?")
    await answered(official, question)


async def test_homeserver_down_at_start_is_retried(world: World) -> None:
    proxy = TcpProxy(free_port(), world.synapse.port)
    bot = world.bot()
    bot.homeserver = f"http://127.0.0.1:{proxy.port}"
    await bot.start(wait=False)
    await asyncio.sleep(1.5)  # several failed attempts
    assert bot.channel is not None and not bot.channel.ready.is_set()
    await proxy.start()
    try:
        await bot.wait_ready()
        official = await world.official()
        room = await official.room(world.bot_id, direct=True)
        question = await official.say(room, "Wat is een MIA?")
        await answered(official, question)
    finally:
        await bot.stop()
        await proxy.stop()


async def test_homeserver_outage_ends_with_an_answer_soon_after_its_return(world: World) -> None:
    """With the default backoff cap the question asked during an outage is answered once the homeserver is back.

    The delay from its return to the answer is logged: it is measured here, not asserted (bounded by the cap).
    """
    proxy = TcpProxy(free_port(), world.synapse.port)
    await proxy.start()
    bot = world.bot(max_backoff_s=MatrixSettings().max_backoff_s)
    bot.homeserver = f"http://127.0.0.1:{proxy.port}"
    try:
        await bot.start()
        official = await world.official()
        room = await official.room(world.bot_id, direct=True)
        await answered(official, await official.say(room, "Wat is een MIA?"))
        await proxy.stop()
        question = await official.say(room, "Vraag tijdens de storing")  # the official reaches Synapse directly
        await asyncio.sleep(6)  # long enough for the backoff to reach its cap
        assert official.replies_to(question) == []
        await proxy.start()
        back = time.monotonic()
        await answered(official, question)
        log.info("matrix outage: answered %.2f s after the homeserver came back", time.monotonic() - back)
    finally:
        await bot.stop()
        await proxy.stop()
