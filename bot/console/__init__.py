"""The web console under `/console` (issue 14): knowledge gaps and documents for editors, cases for the OMO team,
an overview for everyone.

`console_app` builds the aiohttp sub-application that `bot.app.build_app` mounts. `bot.console.web` holds
the guard (sessions, CSRF, roles) and page rendering, `signin` the local and OpenID Connect sign-in, and
`overview`, `cases`, `gaps` and `documents` one page each.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from aiohttp.web import Application  # not `web`: that name is this package's module

from bot.adapters.accounts import SessionStore, SignInLimiter, UserStore
from bot.adapters.console_store import AuditLog
from bot.config import ConsoleSettings
from bot.console import cases, documents, gaps, overview, signin
from bot.console.oidc import oidc_configured
from bot.console.web import CONSOLE, STATIC_DIR, Console, guard

if TYPE_CHECKING:
    from bot.core.escalation_service import EscalationService
    from bot.services import Services

__all__ = ["console_app"]

log = logging.getLogger(__name__)


def console_app(
    settings: ConsoleSettings, services: Callable[[], Services], escalation: Callable[[], EscalationService]
) -> Application:
    """The sub-application to mount at `/console`; `services` and `escalation` are read when the app starts."""
    app = Application(middlewares=[guard])

    async def startup(app: Application) -> None:
        running = services()
        engine = running.engine
        app[CONSOLE] = Console(
            settings=settings,
            services=running,
            escalation=escalation(),
            users=UserStore(engine),
            sessions=SessionStore(engine, timedelta(hours=settings.session_hours)),
            limiter=SignInLimiter(engine, settings.signin_max_failures, timedelta(seconds=settings.signin_window_s)),
            audit=AuditLog(engine),
        )
        accounts = await app[CONSOLE].users.count()
        if oidc_configured(settings):
            log.info("console: on at /console (%d local account(s), OpenID Connect %s)", accounts, settings.oidc_issuer)
        elif accounts:
            log.info("console: on at /console (%d account(s))", accounts)
        else:
            log.warning("console: off until an account exists (onrust users add NAME --role editor|omo|admin)")

    app.on_startup.append(startup)
    app.router.add_static("/static", STATIC_DIR)
    for module in (signin, overview, cases, gaps, documents):
        app.add_routes(module.routes)
    return app
