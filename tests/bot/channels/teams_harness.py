"""Play Microsoft Teams over real HTTP: a fake Bot Connector that records what the bot posts, and activity builders.

`FakeConnector` is a tiny aiohttp app standing in for the activity's `serviceUrl` (and, for auth
tests, for the Bot Framework JWKS endpoint). `TeamsBot` runs a `TeamsChannel` on 127.0.0.1, port 0.
Used by `tests/bot/channels/test_teams.py` and `bench/teams_roundtrip.py`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import ClientSession, ClientTimeout, web

from bot.adapters.state import ConversationStore
from bot.channels.teams import MESSAGES_PATH, TeamsChannel
from bot.config import TeamsSettings
from bot.core.messages import MessageHandler

__all__ = [
    "BOT_ID",
    "FakeConnector",
    "Posted",
    "TeamsBot",
    "message_activity",
    "running_bot",
    "running_connector",
]

BOT_ID = "28:onrust-bot"
BOT_NAME = "Onrust"


@dataclass(frozen=True, slots=True)
class Posted:
    """One activity the bot posted to the connector."""

    conversation_id: str
    reply_to: str | None
    activity: dict[str, Any]


@dataclass
class FakeConnector:
    """The Bot Connector service: records POSTs to `/v3/conversations/{id}/activities[/{replyToId}]`.

    Like the real one, it refuses (401) a POST whose `Authorization` header is not `authorization`: none
    for a bot in anonymous mode, `Bearer <token>` for one with a configured app id and token.
    """

    posted: list[Posted] = field(default_factory=list)
    authorization: str | None = None
    jwks: dict[str, Any] = field(default_factory=lambda: {"keys": []})
    jwks_fetches: int = 0
    url: str = ""
    delay_s: float = 0.0
    status: int = 201
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v3/conversations/{conv}/activities", self._post)
        app.router.add_post("/v3/conversations/{conv}/activities/{reply_to}", self._post)
        app.router.add_get("/jwks", self._jwks)
        return app

    async def _post(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != self.authorization:
            return web.json_response({"error": {"code": "Unauthorized", "message": "bad credentials"}}, status=401)
        body = await request.json()
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.status >= 400:
            return web.json_response({"error": {"code": "Refused", "message": "no"}}, status=self.status)
        posted = Posted(
            conversation_id=request.match_info["conv"],
            reply_to=request.match_info.get("reply_to"),
            activity=body,
        )
        async with self._changed:
            self.posted.append(posted)
            self._changed.notify_all()
        return web.json_response({"id": f"bot-activity-{next(self._ids)}"}, status=self.status)

    async def _jwks(self, _request: web.Request) -> web.Response:
        self.jwks_fetches += 1
        return web.json_response(self.jwks)

    def messages(self) -> list[Posted]:
        """What was posted, typing indicators left out."""
        return [p for p in self.posted if p.activity.get("type") == "message"]

    async def wait_for_messages(self, count: int, within_s: float = 5.0) -> list[Posted]:
        """Block until at least `count` messages were posted; raise TimeoutError otherwise."""
        async with asyncio.timeout(within_s), self._changed:
            await self._changed.wait_for(lambda: len(self.messages()) >= count)
        return self.messages()


def message_activity(
    service_url: str,
    text: str = "",
    *,
    conversation_type: str = "personal",
    conversation_id: str | None = None,
    activity_id: str = "1700000000001",
    mention: bool = False,
    value: dict[str, Any] | None = None,
    user_id: str = "29:user-1",
    aad_object_id: str = "0f3c7a3e-0000-4000-8000-000000000001",
) -> dict[str, Any]:
    """A Teams-shaped message activity as Teams posts it (mention markup left in `text` when `mention`)."""
    if conversation_id is None:
        conversation_id = (
            "a:personal-chat-1" if conversation_type == "personal" else ("19:abc@thread.tacv2;messageid=1700000000000")
        )
    activity: dict[str, Any] = {
        "type": "message",
        "id": activity_id,
        "timestamp": datetime.now(UTC).isoformat(),
        "channelId": "msteams",
        "serviceUrl": service_url,
        "from": {"id": user_id, "name": "Ambtenaar Jansen", "aadObjectId": aad_object_id},
        "conversation": {
            "id": conversation_id,
            "conversationType": conversation_type,
            "tenantId": "72f988bf-0000-4000-8000-000000000000",
            "isGroup": conversation_type != "personal",
        },
        "recipient": {"id": BOT_ID, "name": BOT_NAME},
        "channelData": {"tenant": {"id": "72f988bf-0000-4000-8000-000000000000"}},
        "locale": "nl-NL",
        "textFormat": "plain",
    }
    if mention:
        activity["text"] = f"<at>{BOT_NAME}</at> {text}"
        activity["entities"] = [
            {"type": "mention", "text": f"<at>{BOT_NAME}</at>", "mentioned": {"id": BOT_ID, "name": BOT_NAME}}
        ]
    elif text:
        activity["text"] = text
    if value is not None:
        activity["value"] = value
    return activity


@dataclass
class TeamsBot:
    """A running bot endpoint plus a client to post to it."""

    channel: TeamsChannel
    url: str
    session: ClientSession

    async def post(
        self, body: object, token: str | None = None, raw: bytes | None = None, content_type: str = "application/json"
    ) -> int:
        """POST an activity (or raw bytes) to `/api/messages`; returns the HTTP status."""
        headers = {"Content-Type": content_type}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        data = raw if raw is not None else json.dumps(body).encode()
        async with self.session.post(self.url + MESSAGES_PATH, data=data, headers=headers) as response:
            await response.read()
            return response.status


async def _start(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}"


@asynccontextmanager
async def running_connector() -> AsyncIterator[FakeConnector]:
    connector = FakeConnector()
    runner, url = await _start(connector.app())
    connector.url = url + "/"
    try:
        yield connector
    finally:
        await runner.cleanup()


@asynccontextmanager
async def running_bot(
    settings: TeamsSettings,
    conversations: ConversationStore,
    make_handler: Callable[[TeamsChannel], MessageHandler],
) -> AsyncIterator[TeamsBot]:
    """Serve a `TeamsChannel` on 127.0.0.1:0 with `make_handler(channel)` as the core; stop it on exit."""
    channel = TeamsChannel(settings, conversations)
    app = web.Application()
    channel.mount(app)
    runner, url = await _start(app)
    task = asyncio.create_task(channel.run(make_handler(channel)))
    await asyncio.sleep(0)
    try:
        async with ClientSession(timeout=ClientTimeout(total=10)) as session:
            yield TeamsBot(channel=channel, url=url, session=session)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await runner.cleanup()
