"""Delivery rules and shape checks for incoming Teams activities (pure, no HTTP)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from microsoft_agents.activity import Activity

from bot.channels.teams_inbound import ActivityShapeError, check_activity, thread_root, to_incoming
from bot.core.messages import Feedback, StartIntake
from tests.bot.channels.teams_harness import BOT_ID, message_activity

pytestmark = [pytest.mark.unit]

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
URL = "https://smba.trafficmanager.net/emea/"


def incoming(body: dict[str, Any]) -> Any:
    check_activity(body)
    return to_incoming(Activity.model_validate(body), NOW)


def test_personal_message_is_delivered_whole() -> None:
    msg = incoming(message_activity(URL, "Wat is de MIA?", activity_id="9"))
    assert msg.text == "Wat is de MIA?" and msg.is_private
    assert msg.ref.channel == "teams" and msg.ref.reply_to == "9" and msg.ref.thread_id is None
    assert msg.sender == "0f3c7a3e-0000-4000-8000-000000000001"  # the AAD object id, stable across chats
    assert msg.sender_name == "Ambtenaar Jansen"


def test_channel_rules() -> None:
    assert incoming(message_activity(URL, "onder collega's", conversation_type="channel")) is None
    mentioned = incoming(message_activity(URL, "Wat is de MIA?", conversation_type="channel", mention=True))
    assert mentioned.text == "Wat is de MIA?" and not mentioned.is_private
    assert mentioned.ref.thread_id == "1700000000000"  # the root of the channel thread
    command = incoming(message_activity(URL, "!bronnen", conversation_type="groupChat"))
    assert command.text == "!bronnen"
    assert incoming(message_activity(URL, "", conversation_type="channel", mention=True)) is None


def test_own_and_other_bots_messages_are_ignored() -> None:
    own = message_activity(URL, "echo", user_id=BOT_ID)
    assert incoming(own) is None
    other = message_activity(URL, "hallo")
    other["from"]["role"] = "bot"
    assert incoming(other) is None
    update = message_activity(URL, "x")
    update["type"] = "conversationUpdate"
    assert incoming(update) is None


def test_card_submits_become_feedback_or_actions() -> None:
    vote = incoming(message_activity(URL, value={"action": "feedback", "answer_id": "a1", "positive": False}))
    assert vote.feedback == Feedback(positive=False, answer_id="a1") and vote.text == ""
    as_text = incoming(message_activity(URL, value={"action": "feedback", "answer_id": "a1", "positive": "true"}))
    assert as_text.feedback == Feedback(positive=True, answer_id="a1")
    omo = incoming(message_activity(URL, conversation_type="channel", value={"action": "omo", "answer_id": "a1"}))
    assert omo.action == StartIntake("a1")
    assert incoming(message_activity(URL, value={"action": "feedback", "positive": True})) is None  # no answer id
    assert incoming(message_activity(URL, value={"something": "else"})) is None


@pytest.mark.parametrize(
    "change",
    [
        {"type": None},
        {"serviceUrl": "ftp://x"},
        {"conversation": {}},
        {"recipient": None},
        {"from": "29:user"},
    ],
)
def test_shape_errors_name_the_field(change: dict[str, Any]) -> None:
    body = {**message_activity(URL, "x"), **change}
    with pytest.raises(ActivityShapeError, match=next(iter(change)).split(".")[0]):
        check_activity(body)


def test_thread_root() -> None:
    assert thread_root("19:abc@thread.tacv2;messageid=1700000000000") == "1700000000000"
    assert thread_root("a:personal") is None
