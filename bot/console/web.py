"""The console's aiohttp sub-application: sign-in, sessions, CSRF, roles, page rendering and static files.

Every request passes `guard`: with no account the console answers 503 ("off"); without a valid
session a page or form redirects to the sign-in page; a handler tagged with `allow(...)` refuses other
roles with 403; a POST without the session's CSRF token gets 403. A multipart form must send its
`csrf` field first: the guard reads it and hands the rest of the stream to the handler
(`multipart_rest`), so large uploads are never buffered whole. Pages come from `prompts/console/`.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from aiohttp import BodyPartReader, MultipartReader, web
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from bot.adapters.accounts import Role, Session, SessionStore, SignInLimiter, UserStore
from bot.adapters.console_store import AuditLog
from bot.config import ConsoleSettings
from bot.console.oidc import oidc_configured
from bot.core.clock import utc
from bot.prompts import PROMPTS_DIR

if TYPE_CHECKING:
    from bot.core.escalation_service import EscalationService
    from bot.services import Services

__all__ = [
    "CONSOLE",
    "SESSION_COOKIE",
    "SIGNIN_CSRF_COOKIE",
    "STATIC_DIR",
    "Console",
    "Handler",
    "allow",
    "guard",
    "multipart_rest",
    "page",
    "session_of",
]

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

SESSION_COOKIE = "onrust_console"
SIGNIN_CSRF_COOKIE = "onrust_console_signin"
STATIC_DIR = PROMPTS_DIR / "console" / "static"
_PUBLIC = frozenset({"/console/login", "/console/oidc/start", "/console/oidc/callback"})
_SESSION = web.RequestKey("console_session", Session)
_MULTIPART = web.RequestKey("console_multipart", MultipartReader)
_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

_templates = Environment(
    loader=FileSystemLoader(PROMPTS_DIR / "console"),
    undefined=StrictUndefined,
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _minutes_since(moment: datetime) -> int:
    return max(int((utc() - moment).total_seconds() // 60), 0)


_templates.filters["minutes_since"] = _minutes_since
_templates.filters["local"] = lambda moment: moment.astimezone().strftime("%d-%m-%Y %H:%M")


@dataclass(frozen=True, slots=True)
class Console:
    """What the console's handlers share; built when the app starts, from the running services."""

    settings: ConsoleSettings
    services: Services
    escalation: EscalationService
    users: UserStore
    sessions: SessionStore
    limiter: SignInLimiter
    audit: AuditLog

    async def record(
        self, request: web.Request, action: str, target: str | None = None, detail: str | None = None
    ) -> None:
        """An audit row for the signed-in user's action."""
        await self.audit.record(session_of(request).user.name, action, utc(), target, detail)


CONSOLE = web.AppKey("console", Console)


def allow(*roles: Role) -> Callable[[Handler], Handler]:
    """Tag a handler with the roles that may use it (admins always may); `guard` enforces it."""

    def tag(handler: Handler) -> Handler:
        handler.roles = frozenset((*roles, Role.ADMIN))  # type: ignore[attr-defined]
        return handler

    return tag


def session_of(request: web.Request) -> Session:
    return request[_SESSION]


def multipart_rest(request: web.Request) -> MultipartReader:
    """The multipart stream of a guarded upload, after its `csrf` field."""
    return request[_MULTIPART]


def page(request: web.Request, template: str, *, status: int = 200, **values: object) -> web.Response:
    """Render `prompts/console/<template>` with the session (if any) and `values`."""
    session = request.get(_SESSION)
    html = _templates.get_template(template).render(
        session=session, user=session.user if session else None, path=request.path, **values
    )
    return web.Response(text=html, status=status, content_type="text/html", headers=_HEADERS)


async def _csrf_ok(request: web.Request, expected: str) -> bool:
    if request.content_type == "multipart/form-data":
        reader = await request.multipart()
        first = await reader.next()
        if not isinstance(first, BodyPartReader) or first.name != "csrf":
            return False
        sent = (await first.text()).strip()
        request[_MULTIPART] = reader
    else:
        sent = str((await request.post()).get("csrf", ""))
    return bool(sent) and hmac.compare_digest(sent, expected)


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith("/console/static/"):
        return await handler(request)
    console = request.app[CONSOLE]
    if await console.users.count() == 0 and not oidc_configured(console.settings):
        return page(request, "off.html.j2", status=503)
    if request.path in _PUBLIC:
        return await handler(request)
    token = request.cookies.get(SESSION_COOKIE)
    session = await console.sessions.get(token, utc()) if token else None
    if session is None:
        raise web.HTTPSeeOther("/console/login")
    request[_SESSION] = session
    roles = getattr(handler, "roles", None)
    if roles is not None and session.user.role not in roles:
        return page(request, "error.html.j2", status=403, error="forbidden")
    if request.method == "POST" and not await _csrf_ok(request, session.csrf_token):
        log.warning("console: %s posted %s without a valid CSRF token", session.user.name, request.path)
        return page(request, "error.html.j2", status=403, error="csrf")
    return await handler(request)
