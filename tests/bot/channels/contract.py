"""The platform side of the channel contract suite: a user who talks to the bot on a real platform.

`Platform` is what `test_channel_contract.py` drives; each channel under test pairs its registry entry
(`bot.channels.registry.ChannelPlugin`) with a factory of its platform. Matrix runs on the real Synapse
(`tests/synapse.py`), Teams on its real aiohttp endpoint with recorded activities (`tests/fixtures/teams`)
and the fake Bot Connector of `teams_harness`. The toy channel of `toy_channel.py` brings its own.
"""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pytest
from aiohttp import ClientSession, ClientTimeout, web
from nio import RoomMessageNotice, RoomMessageText

from bot.channels.matrix import MatrixChannel
from bot.channels.registry import PLUGINS, ChannelPlugin
from bot.config import Settings, load_settings
from bot.core.messages import Channel
from tests.bot.channels.matrix_harness import Official, eventually
from tests.bot.channels.teams_harness import running_connector
from tests.synapse import REPO_ROOT, Synapse

__all__ = ["Case", "Platform", "real_cases"]

_RECORDED = REPO_ROOT / "tests" / "fixtures" / "teams"


class Platform(Protocol):
    """One user on the platform of the channel under test."""

    settings: Settings
    """Settings under which the channel's plugin builds a channel that talks to this platform."""
    user_id: str
    """The user's id as the channel reports it in `IncomingMessage.sender`."""

    async def serve(self, routes: web.Application, prefix: str) -> None:
        """Serve the plugin's HTTP routes where the platform posts to (no-op for a platform that does not)."""

    async def ready(self, channel: Channel) -> None:
        """Wait until the started channel delivers messages."""

    async def private_chat(self) -> str:
        """A one-to-one chat of the user with the bot; its conversation id."""

    async def shared_room(self) -> str:
        """A room the user and the bot (and maybe others) share; its conversation id."""

    async def say(self, conversation: str, text: str, *, mention: bool = False) -> None:
        """Post `text` as the user, @mentioning the bot if `mention`."""

    async def bot_said(self, conversation: str) -> list[tuple[str, list[str]]]:
        """What the bot posted in `conversation` so far: (text, button titles) per message, oldest first."""


PlatformFactory = Callable[[pytest.FixtureRequest, Path], AbstractAsyncContextManager[Platform]]
Case = tuple[ChannelPlugin, PlatformFactory]


# -- Matrix on the real Synapse -------------------------------------------------------------------


@dataclass
class MatrixPlatform:
    settings: Settings
    user_id: str
    bot_id: str
    official: Official

    async def serve(self, routes: web.Application, prefix: str) -> None:
        raise AssertionError("the Matrix channel serves no HTTP routes")

    async def ready(self, channel: Channel) -> None:
        assert isinstance(channel, MatrixChannel)
        await eventually(channel.ready.is_set, timeout=30, what="the first sync")

    async def private_chat(self) -> str:
        return await self.official.room(self.bot_id, direct=True)

    async def shared_room(self) -> str:
        return await self.official.room(self.bot_id)

    async def say(self, conversation: str, text: str, *, mention: bool = False) -> None:
        if mention:
            await self.official.say(conversation, f"{self.bot_id}: {text}", mention=self.bot_id)
        else:
            await self.official.say(conversation, text)

    async def bot_said(self, conversation: str) -> list[tuple[str, list[str]]]:
        return [
            (event.body, [])
            for room, event in self.official.events
            if room == conversation
            and isinstance(event, RoomMessageNotice | RoomMessageText)
            and event.sender == self.bot_id
        ]


@asynccontextmanager
async def matrix_platform(request: pytest.FixtureRequest, tmp: Path) -> AsyncIterator[Platform]:
    synapse: Synapse = request.getfixturevalue("synapse")  # started only when a Matrix case runs
    tag = tmp.name[-12:].replace("_", "-").lower()
    bot_id, user_id = synapse.register(f"bot-{tag}"), synapse.register(f"ambtenaar-{tag}")
    environ = {
        "ONRUST_MATRIX__HOMESERVER": synapse.url,
        "ONRUST_MATRIX__USER_ID": bot_id,
        "ONRUST_MATRIX__PASSWORD": "wachtwoord",
        "ONRUST_MATRIX__SYNC_TIMEOUT_MS": "1000",
        "ONRUST_MATRIX__REQUEST_TIMEOUT_S": "10",
    }
    official = Official(synapse.url, user_id, tmp / "official")
    await official.start()
    try:
        yield MatrixPlatform(load_settings(environ=environ, data_dir=tmp / "bot"), user_id, bot_id, official)
    finally:
        await official.stop()


# -- Teams on its real endpoint, recorded activities ----------------------------------------------


@dataclass
class TeamsPlatform:
    settings: Settings
    user_id: str
    connector_url: str
    posted: Callable[[], list[Any]]
    session: ClientSession
    url: str = ""
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1700000001000))
    _runners: tuple[web.AppRunner, ...] = ()

    async def serve(self, routes: web.Application, prefix: str) -> None:
        app = web.Application()
        app.add_subapp(prefix, routes)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        self._runners += (runner,)
        self.url = f"http://127.0.0.1:{runner.addresses[0][1]}"

    async def ready(self, channel: Channel) -> None:
        assert self.url, "the Teams routes are not served"

    async def private_chat(self) -> str:
        return str(_recorded("personal_message.json")["conversation"]["id"])

    async def shared_room(self) -> str:
        return str(_recorded("channel_message.json")["conversation"]["id"])

    async def say(self, conversation: str, text: str, *, mention: bool = False) -> None:
        private = conversation == await self.private_chat()
        activity = _recorded("personal_message.json" if private else "channel_message.json")
        activity |= {"serviceUrl": self.connector_url, "id": str(next(self._ids))}
        if mention:
            activity["text"] = f"<at>Onrust</at> {text}"
        else:
            activity["text"] = text
            activity.pop("entities", None)
        headers = {"Content-Type": "application/json"}
        async with self.session.post(f"{self.url}/api/messages", data=json.dumps(activity), headers=headers) as resp:
            assert resp.status == 202, await resp.text()

    async def bot_said(self, conversation: str) -> list[tuple[str, list[str]]]:
        said = []
        for posted in self.posted():
            if posted.conversation_id != conversation:
                continue
            activity = posted.activity
            cards = [a["content"] for a in activity.get("attachments") or ()]
            text = activity.get("text") or " ".join(
                b.get("text", "") for card in cards for b in card.get("body", ()) if b.get("type") == "TextBlock"
            )
            said.append((text, [a["title"] for card in cards for a in card.get("actions", ())]))
        return said

    async def close(self) -> None:
        for runner in self._runners:
            await runner.cleanup()


def _recorded(name: str) -> dict[str, Any]:
    return copy.deepcopy(json.loads((_RECORDED / name).read_text("utf-8")))


@asynccontextmanager
async def teams_platform(request: pytest.FixtureRequest, tmp: Path) -> AsyncIterator[Platform]:
    environ = {"ONRUST_TEAMS__ENABLED": "true", "ONRUST_TEAMS__ALLOW_ANONYMOUS": "true"}
    settings = load_settings(environ=environ, data_dir=tmp)
    user = _recorded("personal_message.json")["from"]["aadObjectId"]
    async with running_connector() as connector, ClientSession(timeout=ClientTimeout(total=10)) as session:
        platform = TeamsPlatform(settings, user, connector.url, connector.messages, session)
        try:
            yield platform
        finally:
            await platform.close()


_REAL: dict[str, PlatformFactory] = {"matrix": matrix_platform, "teams": teams_platform}


def real_cases() -> list[Case]:
    """Every registered channel with its platform; a registered channel without one fails here."""
    return [(plugin, _REAL[plugin.name]) for plugin in PLUGINS]
