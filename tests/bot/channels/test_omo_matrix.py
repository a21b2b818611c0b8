"""OMO escalation on a real Synapse: intake in a direct chat, the OMO room, the team's commands, an outage."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from nio import RoomMessageNotice
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.cases import SqlCaseStore
from bot.adapters.conversation_stores import StateMessageClaims
from bot.adapters.escalation_support import SqlAnswerLookup, StatePrivateChats
from bot.adapters.outbox import OutboxWorker
from bot.adapters.state import AnswerStore, ConversationStore, KeyValueStore
from bot.channels.matrix import MatrixChannel
from bot.config import MatrixSettings
from bot.core.conversation import Conversation
from bot.core.escalation_ports import StoredDialogue
from bot.core.escalation_service import EscalationService
from bot.core.intake import Dialogue, Step
from bot.core.messages import Channel, ConversationRef, IncomingMessage, UserId
from tests.bot.channels.matrix_harness import Official, TcpProxy, eventually, passages
from tests.fakes import StaticSources
from tests.synapse import Synapse, free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(180)]


@pytest.fixture
def db(sqlite_engine: AsyncEngine) -> AsyncEngine:
    return sqlite_engine


@contextlib.asynccontextmanager
async def running_bot(
    db: AsyncEngine, homeserver: str, bot_id: str, omo_room: str, store: Path
) -> AsyncIterator[tuple[MatrixChannel, EscalationService]]:
    cfg = MatrixSettings(
        homeserver=homeserver,
        user_id=bot_id,
        password=SecretStr("wachtwoord"),
        sync_timeout_ms=1000,
        request_timeout_s=5,
        max_backoff_s=0.5,
    )
    channel = MatrixChannel(cfg, store, KeyValueStore(db))
    channels: dict[str, Channel] = {"matrix": channel}
    worker = OutboxWorker(db, channels, poll_s=0.2, base_backoff_s=0.2, max_backoff_s=1.0)
    conversations = ConversationStore(db)
    service = EscalationService(
        SqlCaseStore(db),
        SqlAnswerLookup(db),
        StatePrivateChats(conversations, {"matrix": channel}),
        channels,
        {"matrix": omo_room},
        poke=worker.poke,
    )
    conversation = Conversation(
        passages(),
        AnswerStore(db),
        conversations,
        StaticSources(),
        channels,
        escalation=service.handle,
        claims=StateMessageClaims(db),
    )
    tasks = [asyncio.create_task(channel.run(conversation.handle)), asyncio.create_task(worker.run())]
    try:
        yield channel, service
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def notices(official: Official, room: str, containing: str) -> list[str]:
    return [
        e.body for r, e in official.events if r == room and isinstance(e, RoomMessageNotice) and containing in e.body
    ]


async def test_request_in_direct_chat_to_closure(synapse: Synapse, tmp_path: Path, db: AsyncEngine) -> None:
    tag = uuid.uuid4().hex[:8]
    bot_id = synapse.register(f"bot-{tag}")
    official = Official(synapse.url, synapse.register(f"ambtenaar-{tag}"), tmp_path / "official")
    omo = Official(synapse.url, synapse.register(f"omo-{tag}"), tmp_path / "omo")
    await official.start()
    await omo.start()
    omo_room = (await omo.client.room_create(invite=[bot_id])).room_id  # type: ignore[union-attr]
    try:
        async with running_bot(db, synapse.url, bot_id, omo_room, tmp_path / "bot") as (channel, _):
            await asyncio.wait_for(channel.ready.wait(), 30)
            await eventually(lambda: omo_room in channel.client.rooms, what="the bot in the OMO room")
            dm = await official.room(bot_id, direct=True)
            question = await official.say(dm, "Wat is de MIA?")
            await eventually(lambda: official.replies_to(question), what="the answer")
            steps = [
                ("Ik wil graag hulp van het OMO", "Wil je dat ik je vraag doorzet"),
                ("ja", "Over welke gemeente"),
                ("Utrecht", "Om wat voor situatie"),
                ("1", "Hoe dringend"),
                ("1", "Beschrijf de situatie"),
                ("Demonstratie bij het gemeentehuis.", "Hoe kan het OMO je bereiken"),
                ("06-12345678", "Klopt dit?"),
                ("ja", "referentie OMO-"),
            ]
            for text, expected in steps:
                await official.say(dm, text)
                await eventually(functools.partial(notices, official, dm, expected), what=f"reply {expected!r}")
            (confirmation,) = notices(official, dm, "referentie OMO-")
            ref = confirmation.split("referentie ")[1].split(".")[0]
            (notice,) = await eventually(lambda: notices(omo, omo_room, f"Nieuw verzoek {ref}"), what="OMO notice")
            assert "SPOED" in notice and "Wat is de MIA?" in notice and "06-12345678" in notice

            await omo.say(omo_room, f"!omo pak {ref}")
            await eventually(lambda: notices(official, dm, "is opgepakt door"), what="claim news in the DM")
            await omo.say(omo_room, f"!omo antwoord {ref} We bellen je om 10 uur.")
            await eventually(lambda: notices(official, dm, "We bellen je om 10 uur."), what="the answer in the DM")
            await omo.say(omo_room, f"!omo sluit {ref} Besproken")
            await eventually(lambda: notices(official, dm, "is afgesloten"), what="closure in the DM")
            await omo.say(omo_room, "!omo pak OMO-2000-0001")
            await eventually(lambda: notices(omo, omo_room, "ken geen verzoek"), what="unknown reference")
    finally:
        await official.stop()
        await omo.stop()


async def test_intake_answer_sent_while_the_bot_is_down_continues_the_dialogue(
    synapse: Synapse, tmp_path: Path, db: AsyncEngine
) -> None:
    tag = uuid.uuid4().hex[:8]
    bot_id = synapse.register(f"bot-{tag}")
    official = Official(synapse.url, synapse.register(f"ambtenaar-{tag}"), tmp_path / "official")
    await official.start()
    omo_room = (await official.client.room_create()).room_id  # type: ignore[union-attr]
    try:
        async with running_bot(db, synapse.url, bot_id, omo_room, tmp_path / "bot") as (channel, _):
            await asyncio.wait_for(channel.ready.wait(), 30)
            dm = await official.room(bot_id, direct=True)
            await official.say(dm, "Ik wil graag hulp van het OMO")
            await eventually(functools.partial(notices, official, dm, "Wil je dat ik"), what="the offer")
        await official.say(dm, "ja")  # while the bot is stopped
        async with running_bot(db, synapse.url, bot_id, omo_room, tmp_path / "bot") as (channel, _):
            await eventually(functools.partial(notices, official, dm, "Over welke gemeente"), what="the next step")
            await asyncio.sleep(1.5)
        assert len(notices(official, dm, "Over welke gemeente")) == 1
        assert len(notices(official, dm, "Wil je dat ik")) == 1
    finally:
        await official.stop()


async def test_case_created_while_homeserver_is_down_is_notified_once(
    synapse: Synapse, tmp_path: Path, db: AsyncEngine
) -> None:
    tag = uuid.uuid4().hex[:8]
    bot_id = synapse.register(f"bot-{tag}")
    omo = Official(synapse.url, synapse.register(f"omo-{tag}"), tmp_path / "omo")
    await omo.start()
    omo_room = (await omo.client.room_create(invite=[bot_id])).room_id  # type: ignore[union-attr]
    proxy = TcpProxy(free_port(), synapse.port)
    user = UserId(f"@ambtenaar-{tag}:localhost")
    try:
        async with running_bot(db, f"http://127.0.0.1:{proxy.port}", bot_id, omo_room, tmp_path / "bot") as (
            channel,
            service,
        ):
            answers = {
                "municipality": "Ede",
                "kind": "bedreiging",
                "urgency": "spoed",
                "description": "Bedreiging van de burgemeester.",
                "contact": "0318-1",
            }
            dialogue = StoredDialogue("matrix", user, "!dm", "!dm", None, Dialogue(Step.CONFIRM, answers))
            await SqlCaseStore(db).save_dialogue(dialogue, datetime.now(UTC))
            done = IncomingMessage(ConversationRef("matrix", "!dm"), "e", user, "ja", True, datetime.now(UTC))
            assert await service.handle(done)  # stored; the homeserver cannot be reached
            (case,) = await SqlCaseStore(db).list_cases()
            await asyncio.sleep(1.5)  # a few failed delivery attempts
            await proxy.start()
            await asyncio.wait_for(channel.ready.wait(), 30)
            await eventually(lambda: notices(omo, omo_room, f"Nieuw verzoek {case.ref}"), timeout=30, what="notice")
            await asyncio.sleep(2)
            assert len(notices(omo, omo_room, f"Nieuw verzoek {case.ref}")) == 1
    finally:
        await proxy.stop()
        await omo.stop()
