"""The Teams channel over real HTTP: activities in, cards and messages out at a fake Bot Connector."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from microsoft_agents.hosting.core.authorization.authentication_constants import AuthenticationConstants
from microsoft_agents.hosting.core.authorization.jwt.jwt_token_validator import JwtTokenValidator
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.state import AnswerStore, ConversationRecord, ConversationStore
from bot.channels.teams import TeamsChannel
from bot.channels.teams_keys import SigningKeys, install
from bot.cli import main
from bot.config import TeamsSettings, load_settings
from bot.core.answering import Answerer
from bot.core.conversation import Conversation
from bot.core.messages import ConversationRef, MessageHandler, TextReply
from bot.core.models import Chunk, DocId, DocumentInfo, Passage, chunk_id_for
from bot.errors import ChannelError
from tests.bot.channels.teams_harness import (
    BOT_ID,
    FakeConnector,
    message_activity,
    running_bot,
    running_connector,
)
from tests.fakes import FakeAnswerer, StaticSources

pytestmark = [pytest.mark.integration]

APP_ID = "5f0e2b8c-3d4a-4e6f-9a1b-2c3d4e5f6a7b"
KNOWLEDGE = Path(__file__).resolve().parents[3] / "knowledge"
ANONYMOUS = TeamsSettings(enabled=True, allow_anonymous=True, request_timeout_s=5)


def _passage(doc_id: str, text: str, title: str, url: str | None, version: str, **where: Any) -> Passage:
    info = DocumentInfo(DocId(doc_id), title, url=url, version=version)
    return Passage(Chunk(chunk_id_for(info.doc_id, text, 0), info, text, 0, **where), 0.9, 0.9)


PASSAGES = [
    _passage(
        "agenda.md",
        "De Agenda Maatschappelijke Onrust helpt gemeenten.",
        "Agenda Maatschappelijke Onrust",
        "https://vng.nl/agenda",
        "2024-05-01",
        section="Inleiding",
        page=2,
    ),
    _passage("mia.md", "De MIA weegt de impact af.", "MIA", None, "2025-01"),
]


@pytest.fixture
def engine(sqlite_engine: AsyncEngine) -> AsyncEngine:
    """This suite is about Teams, not the database: SQLite only."""
    return sqlite_engine


@pytest.fixture
async def connector() -> AsyncIterator[FakeConnector]:
    async with running_connector() as connector:
        yield connector


def core(engine: AsyncEngine, answerer: Answerer) -> Any:
    """The real conversation core over the real state store, answering with `answerer`."""

    def make(channel: TeamsChannel) -> MessageHandler:
        conversation = Conversation(
            answerer,
            AnswerStore(engine),
            ConversationStore(engine),
            StaticSources(),
            {"teams": channel},
            typing_after_s=0,  # "typing..." before every answer, so these tests see the Teams typing activity
        )
        return conversation.handle

    return make


def card_of(activity: dict[str, Any]) -> dict[str, Any]:
    (attachment,) = activity["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    content: dict[str, Any] = attachment["content"]
    return content


async def test_personal_question_gets_a_card_with_citations(engine: AsyncEngine, connector: FakeConnector) -> None:
    answerer = FakeAnswerer(PASSAGES)
    async with running_bot(ANONYMOUS, ConversationStore(engine), core(engine, answerer)) as bot:
        status = await bot.post(message_activity(connector.url, "Wat is de agenda?", activity_id="111"))
        assert status == 202
        (posted,) = await connector.wait_for_messages(1)
        for _ in range(100):  # the core stores the Teams activity id `send` returned, just after the post
            records = await AnswerStore(engine).find(message_id="bot-activity-2")  # typing was bot-activity-1
            if records is not None:
                break
            await asyncio.sleep(0.02)
    assert answerer.calls[0][0] == "Wat is de agenda?"
    assert posted.conversation_id == "a:personal-chat-1"
    assert posted.reply_to == "111"  # {serviceUrl}v3/conversations/{id}/activities/{replyToId}
    assert posted.activity["replyToId"] == "111"
    assert posted.activity["recipient"]["id"] == "29:user-1"
    assert posted.activity["from"]["id"] == BOT_ID
    card = card_of(posted.activity)
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.5"
    texts = [block["text"] for block in card["body"]]
    assert texts[0] == "Antwoord op de vraag. [1] [2]"
    assert "Bronnen" in texts
    assert "[1] [Agenda Maatschappelijke Onrust](https://vng.nl/agenda), Inleiding, p. 2 (versie 2024-05-01)" in texts
    assert "[2] MIA (versie 2025-01)" in texts
    actions = {a["title"]: a for a in card["actions"]}
    assert set(actions) == {"Nuttig", "Niet nuttig", "Vraag het OMO"}
    assert all(a["type"] == "Action.Submit" for a in actions.values())
    answer_id = actions["Nuttig"]["data"]["answer_id"]
    assert actions["Nuttig"]["data"] == {"action": "feedback", "answer_id": answer_id, "positive": True}
    assert actions["Niet nuttig"]["data"] == {"action": "feedback", "answer_id": answer_id, "positive": False}
    assert actions["Vraag het OMO"]["data"] == {"action": "omo", "answer_id": answer_id}
    assert any(p.activity["type"] == "typing" for p in connector.posted)
    assert records is not None and records.answer_id == answer_id


async def test_a_real_answer_from_a_shipped_document_becomes_a_card_with_its_public_source(
    engine: AsyncEngine, connector: FakeConnector, tmp_path: Path
) -> None:
    from bot.services import build_answerer, open_services

    document = KNOWLEDGE / "noodbevel-artikel-175.md"
    data_dir = tmp_path / "data"
    assert await asyncio.to_thread(main, ["-q", "--data-dir", str(data_dir), "ingest", str(document)]) == 0
    async with open_services(load_settings(environ={}, data_dir=data_dir)) as services:
        answerer = build_answerer(services)
        async with running_bot(ANONYMOUS, ConversationStore(engine), core(engine, answerer)) as bot:
            await bot.post(message_activity(connector.url, "Wat is een noodbevel?", activity_id="121"))
            (posted,) = await connector.wait_for_messages(1)
    texts = [block["text"] for block in card_of(posted.activity)["body"]]
    assert "artikel 175" in texts[0] and texts[0].endswith("[1]")
    assert "Bronnen" in texts
    (source,) = [t for t in texts if t.startswith("[1] ")]
    assert "(https://www.burgemeesters.nl/bevoegdheden/noodbevel)" in source  # the document's public source


async def test_channel_message_needs_a_mention_and_the_mention_is_stripped(
    engine: AsyncEngine, connector: FakeConnector
) -> None:
    answerer = FakeAnswerer(PASSAGES)
    async with running_bot(ANONYMOUS, ConversationStore(engine), core(engine, answerer)) as bot:
        quiet = message_activity(
            connector.url, "collega's onder elkaar", conversation_type="channel", activity_id="201"
        )
        assert await bot.post(quiet) == 202
        group = message_activity(
            connector.url,
            "ook niet",
            conversation_type="groupChat",
            conversation_id="19:g@thread.v2",
            activity_id="202",
        )
        assert await bot.post(group) == 202
        asked = message_activity(
            connector.url, "Wat is de MIA?", conversation_type="channel", activity_id="203", mention=True
        )
        assert await bot.post(asked) == 202
        posted = await connector.wait_for_messages(1)
        await asyncio.sleep(0.2)  # time for a wrong reply to the unmentioned messages to show up
    assert len(connector.messages()) == 1
    assert posted[0].reply_to == "203"
    assert posted[0].conversation_id == "19:abc@thread.tacv2;messageid=1700000000000"
    assert [call[0] for call in answerer.calls] == ["Wat is de MIA?"]


async def test_card_submit_stores_feedback_and_omo_button_answers(
    engine: AsyncEngine, connector: FakeConnector
) -> None:
    answers = AnswerStore(engine)
    async with running_bot(ANONYMOUS, ConversationStore(engine), core(engine, FakeAnswerer(PASSAGES))) as bot:
        await bot.post(message_activity(connector.url, "Wat is de agenda?", activity_id="301"))
        (answer,) = await connector.wait_for_messages(1)
        actions = {a["title"]: a["data"] for a in card_of(answer.activity)["actions"]}
        answer_id = actions["Niet nuttig"]["answer_id"]
        submit = message_activity(connector.url, activity_id="302", value=actions["Niet nuttig"])
        assert "text" not in submit
        assert await bot.post(submit) == 202
        for _ in range(100):
            if await answers.feedback_for(answer_id):
                break
            await asyncio.sleep(0.02)
        assert await answers.feedback_for(answer_id) == [("0f3c7a3e-0000-4000-8000-000000000001", False)]
        await bot.post(message_activity(connector.url, activity_id="303", value=actions["Vraag het OMO"]))
        messages = await connector.wait_for_messages(2)
    omo = messages[1].activity
    assert omo["text"] and "attachments" not in omo  # a TextReply is a plain message
    assert messages[1].reply_to == "303"


async def test_proactive_send_from_a_fresh_instance_uses_the_stored_reference(
    engine: AsyncEngine, connector: FakeConnector
) -> None:
    async with running_bot(ANONYMOUS, ConversationStore(engine), core(engine, FakeAnswerer(PASSAGES))) as bot:
        await bot.post(message_activity(connector.url, "Wat is de agenda?", activity_id="401"))
        await connector.wait_for_messages(1)
    other = TeamsChannel(ANONYMOUS, ConversationStore(engine))  # another instance: nothing in memory
    message_id = await other.send(ConversationRef("teams", "a:personal-chat-1"), TextReply("Dagelijkse samenvatting"))
    (_, proactive) = await connector.wait_for_messages(2)
    assert message_id == "bot-activity-3"  # the id the connector gave (typing, answer card, this)
    assert proactive.conversation_id == "a:personal-chat-1"
    assert proactive.reply_to is None  # a new message in the conversation, not a reply
    assert proactive.activity["text"] == "Dagelijkse samenvatting"
    assert proactive.activity["recipient"]["id"] == "29:user-1"


async def test_send_to_an_unknown_conversation_is_a_channel_error(engine: AsyncEngine) -> None:
    channel = TeamsChannel(ANONYMOUS, ConversationStore(engine))
    with pytest.raises(ChannelError):
        await channel.send(ConversationRef("teams", "a:never-seen"), TextReply("hallo"))


@pytest.fixture
def jwks_at(connector: FakeConnector) -> Iterator[rsa.RSAPrivateKey]:
    """Point the Bot Framework key-set URL at the fake connector, which serves one real key (and counts fetches)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    connector.jwks = {"keys": [{**jwk, "kid": "onrust-test", "use": "sig", "alg": "RS256"}]}
    saved = JwtTokenValidator._jwk_client_manager
    uri = AuthenticationConstants.PUBLIC_ABS_JWKS_URL
    install(SigningKeys(timeout_s=5, uri_overrides={uri: connector.url + "jwks"}))
    yield key
    JwtTokenValidator._jwk_client_manager = saved


def _token(key: rsa.RSAPrivateKey, kid: str | None = "onrust-test") -> str:
    now = int(time.time())
    claims = {"iss": "https://api.botframework.com", "aud": APP_ID, "iat": now, "nbf": now, "exp": now + 600}
    headers = {"kid": kid} if kid else {}
    return jwt.encode(claims, key, algorithm="RS256", headers=headers)


async def test_with_an_app_id_bad_tokens_get_401(
    engine: AsyncEngine, connector: FakeConnector, jwks_at: rsa.RSAPrivateKey, caplog: pytest.LogCaptureFixture
) -> None:
    settings = TeamsSettings(enabled=True, app_id=APP_ID, allow_anonymous=True)  # app_id wins: auth is on
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    async with running_bot(settings, ConversationStore(engine), core(engine, FakeAnswerer(PASSAGES))) as bot:
        assert not bot.channel.anonymous
        activity = message_activity(connector.url, "Wat is de agenda?")
        caplog.set_level(logging.WARNING)
        assert await bot.post(activity) == 401  # missing
        assert await bot.post(activity, token="garbage") == 401
        assert await bot.post(activity, token="a.b.c") == 401
        assert await bot.post(activity, token=_token(forger)) == 401  # right kid, wrong key
        assert "InvalidSignatureError" in caplog.text
        assert await bot.post(activity, token=_token(forger, kid=None)) == 401  # no kid: the SDK raises KeyError
        assert await bot.post(activity, token=_token(forger, kid="unknown")) == 401
        assert await bot.post({"not": "an activity"}) == 401  # auth comes before the shape check
    assert connector.posted == []


async def test_forged_tokens_cause_no_key_fetches(
    engine: AsyncEngine, connector: FakeConnector, jwks_at: rsa.RSAPrivateKey
) -> None:
    settings = TeamsSettings(enabled=True, app_id=APP_ID)
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    activity = message_activity(connector.url, "Wat is de agenda?")
    async with running_bot(settings, ConversationStore(engine), core(engine, FakeAnswerer(PASSAGES))) as bot:
        assert await bot.post(activity, token=_token(forger)) == 401  # the first token: the key set is fetched
        assert connector.jwks_fetches == 1
        for i in range(20):
            assert await bot.post(activity, token=_token(forger, kid=f"onbekend-{i}")) == 401
        assert await bot.post(activity, token=_token(forger)) == 401
        assert await bot.post(activity, token=_token(forger, kid=None)) == 401
        assert await bot.post(activity, token="garbage") == 401
        assert connector.jwks_fetches == 1
    assert connector.posted == []


async def test_signing_keys_are_refreshed_at_most_once_per_interval(
    connector: FakeConnector, jwks_at: rsa.RSAPrivateKey
) -> None:
    now = [0.0]
    url = AuthenticationConstants.PUBLIC_ABS_JWKS_URL
    keys = SigningKeys(
        timeout_s=5,
        max_age_s=3600,
        min_interval_s=300,
        clock=lambda: now[0],
        uri_overrides={url: connector.url + "jwks"},
    )
    assert (await keys.get_signing_key(url, {"kid": "onrust-test"})).key_id == "onrust-test"
    for kid in ("nieuw", "nieuw", "onrust-test"):
        with contextlib.suppress(ValueError):
            await keys.get_signing_key(url, {"kid": kid})
    assert connector.jwks_fetches == 1  # an unknown kid within the interval: refused without a fetch
    now[0] = 301.0
    with pytest.raises(ValueError, match="unknown signing key"):
        await keys.get_signing_key(url, {"kid": "nieuw"})  # a rotated key may appear: one fetch
    await keys.get_signing_key(url, {"kid": "onrust-test"})
    assert connector.jwks_fetches == 2
    now[0] = 301.0 + 3601
    await keys.get_signing_key(url, {"kid": "onrust-test"})  # the set is older than max_age: fetched again
    assert connector.jwks_fetches == 3


async def test_a_body_that_is_not_json_gets_415(engine: AsyncEngine, connector: FakeConnector) -> None:
    activity = message_activity(connector.url, "Wat is de agenda?")
    async with running_bot(ANONYMOUS, ConversationStore(engine), core(engine, FakeAnswerer(PASSAGES))) as bot:
        assert await bot.post(activity, content_type="text/plain") == 415
        assert await bot.post(activity, content_type="application/x-www-form-urlencoded") == 415
        assert await bot.post(activity, content_type="application/json; charset=utf-8") == 202
        await connector.wait_for_messages(1)


async def test_anonymous_mode_answers_only_a_loopback_service_url(
    engine: AsyncEngine, connector: FakeConnector, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.channels.teams")
    remote = message_activity("https://smba.trafficmanager.net/emea/", "Wat is de agenda?", conversation_id="a:remote")
    conversations = ConversationStore(engine)
    stored = {"serviceUrl": "https://smba.trafficmanager.net/emea/", "conversation": {"id": "a:stored"}}
    await conversations.save(ConversationRecord("teams", "a:stored", True, None, stored), datetime.now(UTC))
    async with running_bot(ANONYMOUS, conversations, core(engine, FakeAnswerer(PASSAGES))) as bot:
        assert await bot.post(remote) == 403
        assert "not loopback" in caplog.text
        with pytest.raises(ChannelError, match="loopback"):
            await bot.channel.send(ConversationRef("teams", "a:stored"), TextReply("hallo"))
        assert await bot.post(message_activity(connector.url, "Wat is de agenda?")) == 202
        await connector.wait_for_messages(1)
    assert await conversations.get("teams", "a:remote") is None


async def test_malformed_activities_get_400_and_the_server_keeps_serving(
    engine: AsyncEngine, connector: FakeConnector
) -> None:
    good = message_activity(connector.url, "Wat is de agenda?", activity_id="601")
    broken: list[object] = [
        [good],
        "text",
        {k: v for k, v in good.items() if k != "type"},
        {k: v for k, v in good.items() if k != "conversation"},
        {**good, "conversation": {"conversationType": "personal"}},
        {**good, "conversation": "19:abc"},
        {k: v for k, v in good.items() if k != "serviceUrl"},
        {**good, "serviceUrl": "not a url"},
        {k: v for k, v in good.items() if k != "recipient"},
        {k: v for k, v in good.items() if k != "from"},
        {**good, "from": {"name": "no id"}},
        {**good, "entities": "mention"},
        {**good, "timestamp": "yesterday"},
    ]
    async with running_bot(ANONYMOUS, ConversationStore(engine), core(engine, FakeAnswerer(PASSAGES))) as bot:
        assert await bot.post(None, raw=b"{not json") == 400
        assert await bot.post(None, raw=b"\xff\xfe") == 400
        for body in broken:
            assert await bot.post(body) == 400, body
        assert await bot.post(good) == 202
        (posted,) = await connector.wait_for_messages(1)
    assert posted.reply_to == "601"


async def test_non_message_activities_are_accepted_and_remembered(
    engine: AsyncEngine, connector: FakeConnector
) -> None:
    update = message_activity(connector.url, conversation_id="a:installed")
    update["type"] = "conversationUpdate"
    update["membersAdded"] = [{"id": BOT_ID}]
    async with running_bot(ANONYMOUS, ConversationStore(engine), core(engine, FakeAnswerer(PASSAGES))) as bot:
        assert await bot.post(update) == 202
    record = await ConversationStore(engine).get("teams", "a:installed")
    assert record is not None and record.is_private
    assert record.reference["serviceUrl"] == connector.url
    assert connector.posted == []


async def test_anonymous_mode_warns_at_start(engine: AsyncEngine, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="bot.channels.teams")
    async with running_bot(ANONYMOUS, ConversationStore(engine), core(engine, FakeAnswerer(PASSAGES))) as bot:
        assert bot.channel.anonymous
        await asyncio.sleep(0.05)
    assert any(r.levelno == logging.WARNING and "ANONYMOUS" in r.getMessage() for r in caplog.records)


async def test_a_slow_or_refusing_connector_is_a_channel_error(engine: AsyncEngine, connector: FakeConnector) -> None:
    settings = TeamsSettings(enabled=True, allow_anonymous=True, request_timeout_s=0.3)
    async with running_bot(settings, ConversationStore(engine), core(engine, FakeAnswerer(PASSAGES))) as bot:
        connector.status = 503  # the core's answer and apology both fail; the turn itself was accepted
        assert await bot.post(message_activity(connector.url, "Wat is de agenda?", activity_id="701")) == 202
        await asyncio.sleep(0.2)
        ref = ConversationRef("teams", "a:personal-chat-1", reply_to="701")
        with pytest.raises(ChannelError) as refused:
            await bot.channel.send(ref, TextReply("hallo"))
        assert refused.value.status == 503
        connector.status, connector.delay_s = 201, 1.0
        started = time.perf_counter()
        with pytest.raises(ChannelError, match="timed out"):
            await bot.channel.send(ref, TextReply("hallo"))
        assert time.perf_counter() - started < 0.9


async def test_build_app_serves_the_teams_endpoint(tmp_path: Path, connector: FakeConnector) -> None:
    from aiohttp import ClientSession, ClientTimeout, web

    from bot.app import build_app
    from bot.services import Services

    environ = {"ONRUST_TEAMS__ENABLED": "true", "ONRUST_TEAMS__ALLOW_ANONYMOUS": "true"}
    settings = load_settings(environ=environ, data_dir=tmp_path)

    def answerer(services: Services) -> Answerer:
        return FakeAnswerer(PASSAGES)

    runner = web.AppRunner(build_app(settings, answerer_factory=answerer))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        async with ClientSession(timeout=ClientTimeout(total=10)) as http:
            async with http.post(f"{url}/api/messages", json=message_activity(connector.url, "Wat is de MIA?")) as resp:
                assert resp.status == 202
            (posted,) = await connector.wait_for_messages(1)
            assert card_of(posted.activity)["version"] == "1.5"
            async with http.get(f"{url}/healthz") as resp:
                assert (await resp.json())["channels"] == {"teams": "running"}
    finally:
        await runner.cleanup()
