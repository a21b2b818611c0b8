"""OMO escalation over the Teams HTTP endpoint: card button, form submit, the OMO channel's card buttons."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.cases import SqlCaseStore
from bot.adapters.escalation_support import SqlAnswerLookup, StatePrivateChats
from bot.adapters.outbox import OutboxWorker
from bot.adapters.state import AnswerStore, ConversationStore
from bot.channels.teams import TeamsChannel
from bot.config import TeamsSettings
from bot.core.conversation import Conversation
from bot.core.escalation import CaseRef, CaseState
from bot.core.escalation_service import EscalationService
from bot.core.messages import Channel, MessageHandler
from tests.bot.channels.teams_harness import FakeConnector, Posted, message_activity, running_bot, running_connector
from tests.fakes import FakeAnswerer, StaticSources

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

PERSONAL = "a:personal-chat-1"
OMO = "19:omo@thread.tacv2"
OTHER = "19:algemeen@thread.tacv2"  # a team channel of the municipality that is not the OMO's


@pytest.fixture
def db(sqlite_engine: AsyncEngine) -> AsyncEngine:
    return sqlite_engine


def card(posted: Posted) -> dict[str, Any]:
    attachments = posted.activity.get("attachments") or []
    assert attachments, posted.activity
    content: dict[str, Any] = attachments[0]["content"]
    return content


def card_text(posted: Posted) -> str:
    if posted.activity.get("attachments"):
        return str(card(posted)["body"][0]["text"])
    return str(posted.activity.get("text", ""))


async def wait_in(connector: FakeConnector, conversation: str, containing: str) -> Posted:
    async with asyncio.timeout(10):
        while True:
            for p in connector.messages():
                if p.conversation_id == conversation and containing in card_text(p):
                    return p
            await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def worker(db: AsyncEngine, channels: dict[str, Channel]) -> AsyncIterator[OutboxWorker]:
    outbox = OutboxWorker(db, channels, poll_s=0.1)
    task = asyncio.create_task(outbox.run())
    try:
        yield outbox
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_button_form_notification_and_team_buttons(db: AsyncEngine) -> None:
    settings = TeamsSettings(enabled=True, allow_anonymous=True, request_timeout_s=5)
    channels: dict[str, Channel] = {}
    conversations = ConversationStore(db)

    def make(channel: TeamsChannel) -> MessageHandler:
        channels["teams"] = channel
        service = EscalationService(
            SqlCaseStore(db), SqlAnswerLookup(db), StatePrivateChats(conversations, {}), channels, {"teams": OMO}
        )
        return Conversation(
            FakeAnswerer([]),
            AnswerStore(db),
            conversations,
            StaticSources(),
            channels,
            escalation=service.handle,
        ).handle

    team = {"conversation_type": "channel", "conversation_id": OMO, "user_id": "29:omo-1"}
    async with (
        running_connector() as connector,
        running_bot(settings, conversations, make) as bot,
        worker(db, channels),
    ):
        assert await bot.post(message_activity(connector.url, "!omo lijst", mention=True, **team)) == 202  # type: ignore[arg-type]
        await wait_in(connector, OMO, "geen open verzoeken")

        assert await bot.post(message_activity(connector.url, "Ik wil graag hulp van het OMO", activity_id="1")) == 202
        offer = card(await wait_in(connector, PERSONAL, "Wil je dat ik je vraag doorzet"))
        (start,) = [a["data"] for a in offer["actions"] if a["title"] == "Ja, zet mijn vraag door"]
        assert await bot.post(message_activity(connector.url, value=start, activity_id="1b")) == 202
        form_post = await wait_in(connector, PERSONAL, "Vul de velden in")
        form = card(form_post)
        inputs = {item["id"]: item for item in form["body"][1:]}
        assert inputs["kind"]["type"] == "Input.ChoiceSet" and inputs["description"]["isMultiline"] is True
        submit = form["actions"][0]["data"]

        bad = {
            **submit,
            "municipality": "Ede",
            "kind": "opvang",
            "urgency": "normaal",
            "description": " ",
            "contact": "x",
        }
        assert await bot.post(message_activity(connector.url, value=bad, activity_id="2")) == 202
        await wait_in(connector, PERSONAL, "niet ingevuld")
        assert await SqlCaseStore(db).list_cases() == []

        good = {**bad, "description": "Spanning rond de nieuwe opvanglocatie."}
        assert await bot.post(message_activity(connector.url, value=good, activity_id="3")) == 202
        notice = await wait_in(connector, OMO, "Nieuw verzoek OMO-")
        ref = card_text(notice).split()[2]
        await wait_in(connector, PERSONAL, f"referentie {ref}")
        buttons = {a["title"]: a["data"] for a in card(notice)["actions"]}
        assert set(buttons) == {"Oppakken", "Antwoord sturen", "Afsluiten"}
        assert "Spanning rond de nieuwe opvanglocatie" in str(card(notice))  # the details the OMO needs

        # While the case is open, someone in another team channel asks for the list of cases.
        other = {"conversation_type": "channel", "conversation_id": OTHER, "user_id": "29:collega-2"}
        assert await bot.post(message_activity(connector.url, "!omo lijst", mention=True, **other)) == 202  # type: ignore[arg-type]
        await wait_in(connector, OTHER, "alleen in de ruimte van het OMO")

        for title, text, expect in (
            ("Oppakken", "", "is opgepakt door"),
            ("Antwoord sturen", "We komen langs.", "We komen langs."),
            ("Afsluiten", "Afgerond", "is afgesloten"),
        ):
            value = {**buttons[title], "text": text}
            assert await bot.post(message_activity(connector.url, value=value, activity_id=title, **team)) == 202  # type: ignore[arg-type]
            await wait_in(connector, PERSONAL, expect)
    case = await SqlCaseStore(db).get(CaseRef(ref))
    assert case is not None and case.state is CaseState.CLOSED
    outside = [p for p in connector.messages() if p.conversation_id not in (PERSONAL, OMO)]
    assert {p.conversation_id for p in outside} == {OTHER}  # the other channel was answered, ...
    for posted in outside:  # ... without a word of the case
        assert all(detail not in str(posted.activity) for detail in (ref, "Spanning", "Ede", "opvang"))
