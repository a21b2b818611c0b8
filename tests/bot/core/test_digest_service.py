"""The digest job and `!digest` over the real state store (SQLite and PostgreSQL), clock set by time-machine.

Covers: the schedule (08:30 local on working days, across DST), catch-up after downtime, no repeat
after a restart on the same day, the window since the previous digest, scrubbed knowledge gaps for
editors' rooms, empty digests, delivery through the outbox, and `!digest aan|uit` in the core.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time
from typing import Any

import pytest
import time_machine
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.digest_store import OUTBOX_KIND, DigestStore
from bot.adapters.outbox import OutboxWorker, decode_reply
from bot.adapters.state import AnswerStore, IngestLog
from bot.adapters.tables import outbox
from bot.core.conversation import Conversation
from bot.core.digest import OpenCase
from bot.core.digest_service import DigestPolicy, DigestService
from bot.core.messages import Action, ConversationRef, IncomingMessage, SetDigest, TextReply, UserId
from bot.core.models import Access, IngestAction, IngestEvent
from bot.core.ports import AnswerEntry, AnswerId
from tests.fakes import FakeAnswerer, FakeChannel, MemoryAnswerLog, MemoryConversationLog, StaticSources

pytestmark = pytest.mark.integration

ROOM = ConversationRef("fake", "!room:example.org")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc,arg-type]


class Cases:
    def __init__(self, cases: Sequence[OpenCase] = ()) -> None:
        self.cases = list(cases)

    async def open_cases(self) -> list[OpenCase]:
        return list(self.cases)


def service(engine: AsyncEngine, *, cases: Cases | None = None, **policy: Any) -> DigestService:
    """A fresh service on the same database: what a restarted (or second) bot instance has."""
    return DigestService(
        DigestStore(engine),
        IngestLog(engine),
        cases,
        DigestPolicy(**policy),
        omo_rooms={("fake", "!omo:example.org")},
        editor_rooms={"!redactie:example.org"},
    )


async def queued(engine: AsyncEngine) -> list[tuple[str, str]]:
    """(conversation id, text) of every digest row in the outbox, in order."""
    async with engine.connect() as conn:
        rows = (await conn.execute(select(outbox).where(outbox.c.kind == OUTBOX_KIND).order_by(outbox.c.id))).all()
    return [(r.conversation_id, decode_reply(r.payload).text) for r in rows]


async def subscribe(engine: AsyncEngine, ref: ConversationRef, at: datetime, send_time: time | None = None) -> None:
    svc = service(engine)
    await DigestStore(engine).subscribe(
        ref.channel, ref.conversation_id, send_time, svc.audience(ref.channel, ref.conversation_id), at
    )


async def ingest(engine: AsyncEngine, at: datetime, action: IngestAction, doc: str) -> None:
    event = IngestEvent("run", at, action, doc, title=doc, url=f"https://kb.example/{doc}", access=Access.OPENBAAR)
    await IngestLog(engine).append([event])


async def test_catch_up_after_downtime_and_no_repeat_after_restart(engine: AsyncEngine) -> None:
    await subscribe(engine, ROOM, utc(2026, 3, 27, 9, 0))  # Friday, after that day's slot
    await ingest(engine, utc(2026, 3, 28, 12, 0), IngestAction.ADDED, "Draaiboek demonstraties")
    # Saturday and Sunday: nothing; Monday 30 March (CEST) before 08:30 local: nothing yet
    for now in (utc(2026, 3, 28, 9, 0), utc(2026, 3, 29, 9, 0), utc(2026, 3, 30, 6, 29)):
        with time_machine.travel(now, tick=False):
            assert await service(engine).tick() == 0
    assert await queued(engine) == []
    # the bot was down at 08:30 and comes back at 10:15: the missed digest goes out once
    with time_machine.travel(utc(2026, 3, 30, 8, 15), tick=False):
        assert await service(engine).tick() == 1
        assert await service(engine).tick() == 0  # restarted again the same day: nothing new
    with time_machine.travel(utc(2026, 3, 30, 21, 0), tick=False):
        assert await service(engine).tick() == 0
    ((conv, text),) = await queued(engine)
    assert conv == ROOM.conversation_id
    assert "maandag 30 maart 2026" in text and "- Draaiboek demonstraties — https://kb.example/" in text
    # Tuesday 08:30 local: the next one, covering only what happened since Monday's
    await ingest(engine, utc(2026, 3, 30, 15, 0), IngestAction.UPDATED, "MIA")
    with time_machine.travel(utc(2026, 3, 31, 6, 30), tick=False):
        assert await service(engine).tick() == 1
    text = (await queued(engine))[1][1]
    assert "Gewijzigd (1):\n- MIA" in text and "Draaiboek" not in text


async def test_own_time_and_winter_time(engine: AsyncEngine) -> None:
    await subscribe(engine, ROOM, utc(2026, 1, 1), send_time=time(7, 45))
    with time_machine.travel(utc(2026, 1, 5, 6, 44), tick=False):  # Monday 07:44 CET
        assert await service(engine).tick() == 0
    with time_machine.travel(utc(2026, 1, 5, 6, 45), tick=False):
        assert await service(engine).tick() == 1


async def test_empty_digest_is_a_short_line_or_nothing(engine: AsyncEngine) -> None:
    await subscribe(engine, ROOM, utc(2026, 1, 1))
    with time_machine.travel(utc(2026, 1, 5, 8, 0), tick=False):
        assert await service(engine, send_when_empty=False).tick() == 1  # claimed, nothing queued
        assert await service(engine).tick() == 0
    assert await queued(engine) == []
    with time_machine.travel(utc(2026, 1, 6, 8, 0), tick=False):
        assert await service(engine).tick() == 1
    assert await queued(engine) == [
        (ROOM.conversation_id, "Overzicht van dinsdag 6 januari 2026: niets nieuws sinds het vorige overzicht.")
    ]


async def test_omo_and_editor_rooms_get_their_sections_gaps_scrubbed(engine: AsyncEngine) -> None:
    omo = ConversationRef("fake", "!omo:example.org")
    editors = ConversationRef("fake", "!redactie:example.org")
    for ref in (omo, editors, ROOM):
        await subscribe(engine, ref, utc(2026, 1, 1))
    answers = AnswerStore(engine)
    await answers.record(
        AnswerEntry(
            AnswerId("a1"),
            "fake",
            "!x",
            None,
            "Mag ik jan@gemeente.nl of 0612345678 bellen?",
            (),
            False,
            utc(2026, 1, 4, 10),
        )
    )
    await answers.record(
        AnswerEntry(AnswerId("a2"), "fake", "!x", None, "Wat is een MIA?", ("mia",), True, utc(2026, 1, 4, 11))
    )
    await answers.add_feedback("a2", "@piet:example.org", False, utc(2026, 1, 4, 12))
    cases = Cases([OpenCase("OMO-2026-0001", "hoog", 0, utc(2026, 1, 3, 8), "Demonstratie bij azc")])
    with time_machine.travel(utc(2026, 1, 5, 8, 0), tick=False):
        assert await service(engine, cases=cases).tick() == 3
    texts = dict(await queued(engine))
    assert "Demonstratie bij azc (zaak OMO-2026-0001, open sinds 2 dagen)" in texts[omo.conversation_id]
    gaps = texts[editors.conversation_id]
    assert "Mag ik [e-mail] of [telefoonnummer] bellen? (niet beantwoord)" in gaps and "Wat is een MIA? (👎)" in gaps
    assert "jan@" not in gaps and "0612345678" not in gaps and "Demonstratie" not in gaps
    assert "MIA" not in texts[ROOM.conversation_id] and "Demonstratie" not in texts[ROOM.conversation_id]


async def test_long_digest_is_queued_in_parts_and_delivered_in_order(engine: AsyncEngine) -> None:
    await subscribe(engine, ROOM, utc(2026, 1, 1))
    for i in range(60):
        await ingest(engine, utc(2026, 1, 4, 12, i), IngestAction.ADDED, f"Document {i:02d}")
    with time_machine.travel(utc(2026, 1, 5, 8, 0), tick=False):
        assert await service(engine, max_message_chars=500).tick() == 1
    parts = [text for _, text in await queued(engine)]
    assert len(parts) > 3 and all(len(p) <= 500 for p in parts)
    channel = FakeChannel()
    worker = OutboxWorker(engine, {"fake": channel})
    while await worker.deliver_due():
        pass
    sent = [reply.text for _, reply in channel.sent if isinstance(reply, TextReply)]
    assert sent == parts
    assert all(f"Document {i:02d}" in "\n".join(sent) for i in range(60))


async def test_send_now_forces_a_digest_and_moves_the_window(engine: AsyncEngine) -> None:
    await subscribe(engine, ROOM, utc(2026, 1, 1))
    with time_machine.travel(utc(2026, 1, 5, 8, 0), tick=False):
        assert await service(engine).tick() == 1
    with time_machine.travel(utc(2026, 1, 5, 9, 0), tick=False):
        assert await service(engine).send_now("fake", ROOM.conversation_id) == 1
        assert await service(engine).send_now(conversation_id="!other") == 0
        assert await service(engine).tick() == 0
    assert len(await queued(engine)) == 2


def conversation(svc: DigestService, channel: FakeChannel) -> Conversation:
    return Conversation(
        FakeAnswerer([]),
        MemoryAnswerLog(),
        MemoryConversationLog(),
        StaticSources(),
        {"fake": channel},
        digests=svc,
    )


def message(text: str = "", action: Action | None = None) -> IncomingMessage:
    return IncomingMessage(ROOM, "$m", UserId("@jan:example.org"), text, False, utc(2026, 1, 5), action=action)


async def test_digest_command_turns_on_changes_time_and_off(engine: AsyncEngine) -> None:
    channel = FakeChannel()
    svc = service(engine)
    conv = conversation(svc, channel)
    store = DigestStore(engine)
    with time_machine.travel(utc(2026, 1, 5, 12, 0), tick=False):
        await conv.handle(message("!digest"))
        await conv.handle(message("!digest aan"))
        sub = await store.get("fake", ROOM.conversation_id)
        assert sub is not None and sub.send_time is None
        await conv.handle(message("!digest aan 7.45"))
        sub = await store.get("fake", ROOM.conversation_id)
        assert sub is not None and sub.send_time == time(7, 45)
        await conv.handle(message("!digest aan 25:00"))
        await conv.handle(message("!digest uit"))
        assert await store.get("fake", ROOM.conversation_id) is None
        await conv.handle(message(action=SetDigest(on=True)))  # the Teams card button
        assert await store.get("fake", ROOM.conversation_id) is not None
    replies = [r for _, r in channel.sent]
    assert all(isinstance(r, TextReply) for r in replies)
    texts = [r.text for r in replies if isinstance(r, TextReply)]
    assert texts[0].startswith("Het dagelijks overzicht staat uit")
    assert "om 08:30" in texts[1] and "om 07:45" in texts[2]
    assert texts[3].startswith("Gebruik: !digest aan")
    assert texts[4].startswith("Het dagelijks overzicht staat uit voor dit gesprek. Weer aanzetten")
    buttons = [r.buttons for r in replies if isinstance(r, TextReply)]
    assert buttons[1][0].action == SetDigest(on=False)
    assert buttons[4][0].action == SetDigest(on=True)


async def test_resubscribing_after_todays_digest_sends_nothing_more_today(engine: AsyncEngine) -> None:
    channel = FakeChannel()
    conv = conversation(service(engine), channel)
    await subscribe(engine, ROOM, utc(2026, 1, 1))
    with time_machine.travel(utc(2026, 1, 5, 8, 0), tick=False):
        assert await service(engine).tick() == 1
        await conv.handle(message("!digest uit"))
        await conv.handle(message("!digest aan 10:00"))
    with time_machine.travel(utc(2026, 1, 5, 9, 30), tick=False):
        assert await service(engine).tick() == 0
    assert len(await queued(engine)) == 1
