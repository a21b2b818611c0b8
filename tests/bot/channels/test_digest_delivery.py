"""The digest end to end on both channels: subscribe with `!digest aan`, run the job at an injected
morning, and the outbox delivers it: into a real Synapse room, and to the fake Teams connector."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from nio import RoomMessageNotice
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.digest_store import DigestStore
from bot.adapters.outbox import OutboxWorker
from bot.adapters.state import AnswerStore, ConversationStore, IngestLog, KeyValueStore
from bot.channels.matrix import MatrixChannel
from bot.channels.teams import TeamsChannel
from bot.config import MatrixSettings, TeamsSettings
from bot.core.conversation import Conversation
from bot.core.digest_service import DigestPolicy, DigestService
from bot.core.messages import Channel, MessageHandler
from bot.core.models import Access, IngestAction, IngestEvent
from tests.bot.channels.matrix_harness import Official, eventually
from tests.bot.channels.teams_harness import message_activity, running_bot, running_connector
from tests.fakes import FakeAnswerer, StaticSources
from tests.synapse import Synapse

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

AMS = ZoneInfo("Europe/Amsterdam")


def next_working_morning() -> datetime:
    """08:31 in Amsterdam on the next working day after today: a moment the digest is due."""
    day = datetime.now(AMS).date() + timedelta(days=1)
    while day.isoweekday() > 5:
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, 8, 31, tzinfo=AMS).astimezone(UTC)


@pytest.fixture
async def db(sqlite_engine: AsyncEngine) -> AsyncEngine:
    """A state database whose ingest log has one new document to report."""
    await IngestLog(sqlite_engine).append(
        [
            IngestEvent(
                "run",
                datetime.now(UTC),
                IngestAction.ADDED,
                "draaiboek",
                title="Draaiboek demonstraties",
                url="https://kb.example/draaiboek",
                access=Access.OPENBAAR,
            )
        ]
    )
    return sqlite_engine


def digests(engine: AsyncEngine) -> DigestService:
    return DigestService(DigestStore(engine), IngestLog(engine), None, DigestPolicy())


def core(engine: AsyncEngine, channels: dict[str, Channel]) -> MessageHandler:
    return Conversation(
        FakeAnswerer([]),
        AnswerStore(engine),
        ConversationStore(engine),
        StaticSources(),
        channels,
        digests=digests(engine),
    ).handle


@contextlib.asynccontextmanager
async def outbox_worker(
    engine: AsyncEngine, channels: dict[str, Channel], now: datetime
) -> AsyncIterator[OutboxWorker]:
    """An outbox worker whose clock stands at the injected morning, as the digest job's does."""
    worker = OutboxWorker(engine, channels, poll_s=0.1, clock=lambda: now)
    task = asyncio.create_task(worker.run())
    try:
        yield worker
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


@pytest.mark.slow
async def test_matrix_room_gets_its_digest(synapse: Synapse, tmp_path: Path, db: AsyncEngine) -> None:
    tag = uuid.uuid4().hex[:8]
    bot_id = synapse.register(f"bot-{tag}")
    official_id = synapse.register(f"ambtenaar-{tag}")
    cfg = MatrixSettings(
        homeserver=synapse.url,
        user_id=bot_id,
        password=SecretStr("wachtwoord"),
        sync_timeout_ms=2000,
        request_timeout_s=10,
        max_backoff_s=0.5,
    )
    channel = MatrixChannel(cfg, tmp_path / "matrix", KeyValueStore(db))
    channels: dict[str, Channel] = {"matrix": channel}
    bot = asyncio.create_task(channel.run(core(db, channels)))
    official = Official(synapse.url, official_id, tmp_path / "official")
    try:
        await asyncio.wait_for(channel.ready.wait(), 30)
        await official.start()
        room = await official.room(bot_id)
        command = await official.say(room, "!digest aan")
        (confirmation,) = await eventually(lambda: official.replies_to(command), what="the !digest confirmation")
        assert "Het dagelijks overzicht staat aan" in confirmation.body
        morning = next_working_morning()
        async with outbox_worker(db, channels, morning):
            assert await digests(db).tick(morning) == 1

            def digest_seen() -> list[RoomMessageNotice]:
                return [
                    e
                    for r, e in official.events
                    if r == room and isinstance(e, RoomMessageNotice) and e.body.startswith("Goedemorgen!")
                ]

            (message,) = await eventually(digest_seen, what="the digest in the room")
        assert "- Draaiboek demonstraties — https://kb.example/draaiboek" in message.body
        assert "m.relates_to" not in message.source["content"]  # into the room, not a thread
        assert await digests(db).tick(morning + timedelta(hours=2)) == 0  # once a day
    finally:
        bot.cancel()
        await asyncio.gather(bot, return_exceptions=True)
        await official.stop()


async def test_teams_conversation_gets_its_digest_proactively(db: AsyncEngine) -> None:
    settings = TeamsSettings(enabled=True, allow_anonymous=True, request_timeout_s=5)
    channels: dict[str, Channel] = {}

    def make(channel: TeamsChannel) -> MessageHandler:
        channels["teams"] = channel
        return core(db, channels)

    async with running_connector() as connector, running_bot(settings, ConversationStore(db), make) as bot:
        assert await bot.post(message_activity(connector.url, "!digest aan", activity_id="501")) == 202
        (confirmation,) = await connector.wait_for_messages(1)
        assert confirmation.reply_to == "501"
        morning = next_working_morning()
        async with outbox_worker(db, channels, morning):
            assert await digests(db).tick(morning) == 1
            messages = await connector.wait_for_messages(2)
    digest = messages[1]
    assert digest.conversation_id == "a:personal-chat-1" and digest.reply_to is None  # proactive, not a reply
    text = digest.activity["text"]
    assert text.startswith("Goedemorgen!") and "Draaiboek demonstraties" in text
