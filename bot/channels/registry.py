"""Every chat channel `onrust serve` can run, registered here and nowhere else.

A `ChannelPlugin` names a channel and says how to build it from the settings and the shared stores
(None: not configured), which conversation is the OMO team's on it, and which HTTP routes it serves
(mounted before the app starts; they find the running channel through a lookup). Adding a channel is
one module under `bot/channels/` and one entry in `PLUGINS`. This module loads no chat SDK: each
plugin imports its channel when it is built, so `onrust digest --help` can list the names at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from bot.core.messages import Channel, ConversationId

if TYPE_CHECKING:
    from aiohttp import web

    from bot.adapters.state import ConversationStore, KeyValueStore
    from bot.config import Settings

__all__ = ["PLUGINS", "ChannelDeps", "ChannelLookup", "ChannelPlugin", "names", "omo_rooms"]

ChannelLookup = Callable[[], Channel | None]
"""The running channel of a plugin, or None before the app has started it."""


class ChannelDeps(Protocol):
    """What a channel may use besides its settings: `bot.services.Services` fits."""

    @property
    def settings(self) -> Settings: ...

    @property
    def kv(self) -> KeyValueStore: ...

    @property
    def conversations(self) -> ConversationStore: ...


def _no_room(settings: Settings) -> ConversationId | None:
    return None


def _no_routes(settings: Settings, lookup: ChannelLookup) -> Mapping[str, web.Application]:
    return {}


@dataclass(frozen=True, slots=True)
class ChannelPlugin:
    """One channel: `build` returns it, or None when its settings leave it off.

    `routes` maps a path prefix to a sub-application, mounted when the app is built.
    """

    name: str
    build: Callable[[ChannelDeps], Channel | None]
    omo_room: Callable[[Settings], ConversationId | None] = _no_room
    routes: Callable[[Settings, ChannelLookup], Mapping[str, web.Application]] = _no_routes


def _matrix(deps: ChannelDeps) -> Channel | None:
    """The Matrix channel if `matrix.homeserver` is set; its device and crypto store live in `<data_dir>/matrix`."""
    cfg = deps.settings.matrix
    if not cfg.homeserver:
        return None
    from bot.channels.matrix import MatrixChannel  # loads matrix-nio: only when the channel is wanted

    return MatrixChannel(cfg, deps.settings.data_dir / "matrix", deps.kv)


def _teams(deps: ChannelDeps) -> Channel | None:
    """The Teams channel if `teams.enabled`; it serves `POST /api/messages` (see `_teams_routes`)."""
    cfg = deps.settings.teams
    if not cfg.enabled:
        return None
    from bot.channels.teams import TeamsChannel  # loads the Agents SDK

    return TeamsChannel(cfg, deps.conversations)


def _teams_routes(settings: Settings, lookup: ChannelLookup) -> Mapping[str, web.Application]:
    if not settings.teams.enabled:
        return {}
    from bot.channels.teams import teams_routes

    return {"/api": teams_routes(settings.teams, lookup)}


PLUGINS: tuple[ChannelPlugin, ...] = (
    ChannelPlugin("matrix", _matrix, omo_room=lambda s: s.matrix.omo_room),
    ChannelPlugin("teams", _teams, omo_room=lambda s: s.teams.omo_conversation_id, routes=_teams_routes),
)


def names(plugins: Sequence[ChannelPlugin] = PLUGINS) -> tuple[str, ...]:
    """The registered channel names, in registration order."""
    return tuple(p.name for p in plugins)


def omo_rooms(settings: Settings, plugins: Sequence[ChannelPlugin] = PLUGINS) -> dict[str, ConversationId]:
    """The OMO team's own conversation per channel (`matrix.omo_room`, `teams.omo_conversation_id`), where set."""
    rooms = {p.name: p.omo_room(settings) for p in plugins}
    return {name: room for name, room in rooms.items() if room}
