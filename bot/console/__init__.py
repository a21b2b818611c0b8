"""The web console under `/console` (issue 14): knowledge gaps and documents for editors, cases for the OMO team.

`console_app` builds the aiohttp sub-application that `bot.app.build_app` mounts; see `bot.console.web`
for sign-in, sessions, CSRF and roles.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from aiohttp import web

from bot.config import ConsoleSettings
from bot.console import cases, documents, gaps
from bot.console.web import console_routes

if TYPE_CHECKING:
    from bot.app import Services
    from bot.core.escalation_service import EscalationService

__all__ = ["console_app"]


def console_app(
    settings: ConsoleSettings, services: Callable[[], Services], escalation: Callable[[], EscalationService]
) -> web.Application:
    """The console; `services` and `escalation` give the running app's objects once it has started."""
    return console_routes(settings, services, escalation, [*cases.routes, *gaps.routes, *documents.routes])
