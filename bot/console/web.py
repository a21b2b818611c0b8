"""The console's aiohttp sub-application: sign-in, sessions, CSRF, roles, page rendering and static files.

Every request passes `_guard`: with no account the console answers 503 ("off"); without a valid
session a page or form redirects to the sign-in page; a handler tagged with `allow(...)` refuses other
roles with 403; a POST without the session's CSRF token gets 403. A multipart form must send its
`csrf` field first: the guard reads it and hands the rest of the stream to the handler
(`multipart_rest`), so large uploads are never buffered whole. Pages come from `prompts/console/`.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from aiohttp import BodyPartReader, MultipartReader, web
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from bot.adapters.accounts import Role, Session, SessionStore, SignInLimiter, User, UserStore
from bot.adapters.console_store import AuditLog
from bot.config import ConsoleSettings
from bot.console.oidc import OIDC_COOKIE, OidcRefused, identify, oidc_configured, redirect_uri, start_url
from bot.prompts import PROMPTS_DIR

if TYPE_CHECKING:
    from bot.app import Services
    from bot.core.escalation_service import EscalationService

__all__ = [
    "CONSOLE",
    "Console",
    "Handler",
    "allow",
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
    return max(int((datetime.now(UTC) - moment).total_seconds() // 60), 0)


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
        await self.audit.record(session_of(request).user.name, action, datetime.now(UTC), target, detail)


CONSOLE = web.AppKey("console", Console)


def allow(*roles: Role) -> Callable[[Handler], Handler]:
    """Tag a handler with the roles that may use it (admins always may); `_guard` enforces it."""

    def tag(handler: Handler) -> Handler:
        handler.roles = frozenset((*roles, Role.ADMIN))  # type: ignore[attr-defined]
        return handler

    return tag


def session_of(request: web.Request) -> Session:
    return request[_SESSION]


def multipart_rest(request: web.Request) -> MultipartReader:
    """The multipart stream of a guarded upload, after its `csrf` field."""
    return request[_MULTIPART]


def page(request: web.Request, template: str, *, status: int = 200, **values: Any) -> web.Response:
    """Render `prompts/console/<template>` with the session (if any) and `values`."""
    session = request.get(_SESSION)
    html = _templates.get_template(template).render(
        session=session, user=session.user if session else None, path=request.path, **values
    )
    return web.Response(text=html, status=status, content_type="text/html", headers=_HEADERS)


def _secure(request: web.Request, settings: ConsoleSettings) -> bool:
    return settings.secure_cookies or request.secure


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
async def _guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith("/console/static/"):
        return await handler(request)
    console = request.app[CONSOLE]
    if await console.users.count() == 0 and not oidc_configured(console.settings):
        return page(request, "off.html.j2", status=503)
    if request.path in _PUBLIC:
        return await handler(request)
    token = request.cookies.get(SESSION_COOKIE)
    session = await console.sessions.get(token, datetime.now(UTC)) if token else None
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


# -- sign-in and sign-out ---------------------------------------------------------------------------


async def _signin_form(request: web.Request, *, error: str | None = None, status: int = 200) -> web.Response:
    csrf = secrets.token_urlsafe(32)
    settings = request.app[CONSOLE].settings
    response = page(request, "login.html.j2", status=status, csrf=csrf, error=error, oidc=oidc_configured(settings))
    response.set_cookie(
        SIGNIN_CSRF_COOKIE, csrf, path="/console", httponly=True, samesite="Lax", secure=_secure(request, settings)
    )
    return response


async def _signin_page(request: web.Request) -> web.StreamResponse:
    return await _signin_form(request)


async def _signin(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE]
    form = await request.post()
    expected = request.cookies.get(SIGNIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(str(form.get("csrf", "")), expected):
        return page(request, "error.html.j2", status=403, error="csrf")
    name, password = str(form.get("name", "")).strip().lower()[:64], str(form.get("password", ""))
    address, now = request.remote or "unknown", datetime.now(UTC)
    if await console.limiter.blocked(name, address, now):
        log.warning("console: sign-in for %r from %s refused: too many failures", name, address)
        return await _signin_form(request, error="blocked", status=429)
    user = await console.users.verify(name, password)
    if user is None:
        await console.limiter.failed(name, address, now)
        await console.audit.record(name or "-", "signin_failed", now, detail=address)
        log.info("console: failed sign-in for %r from %s", name, address)
        return await _signin_form(request, error="wrong", status=401)
    await console.limiter.succeeded(name, address)
    await console.audit.record(user.name, "signin", now, detail=address)
    return await _start_session(request, user)


async def _start_session(request: web.Request, user: User) -> web.StreamResponse:
    """A new session cookie for `user` and a redirect into the console."""
    console, now = request.app[CONSOLE], datetime.now(UTC)
    token, session = await console.sessions.create(user, now)
    log.info("console: %s signed in (%s)", user.name, user.role.value)
    response = web.HTTPSeeOther("/console/")
    response.set_cookie(
        SESSION_COOKIE,
        token,
        path="/console",
        httponly=True,
        samesite="Lax",
        secure=_secure(request, console.settings),
        max_age=int((session.expires_at - now).total_seconds()),
    )
    response.del_cookie(SIGNIN_CSRF_COOKIE, path="/console")
    response.del_cookie(OIDC_COOKIE, path="/console")
    raise response


async def _oidc_start(request: web.Request) -> web.StreamResponse:
    settings = request.app[CONSOLE].settings
    if not oidc_configured(settings):
        return page(request, "error.html.j2", status=404, error="not_found")
    try:
        url, cookie = await start_url(settings, redirect_uri(request, settings))
    except OidcRefused as exc:
        log.error("console: OpenID Connect provider %s: %s", settings.oidc_issuer, exc.reason)
        return await _signin_form(request, error="oidc", status=502)
    response = web.HTTPFound(url)
    response.set_cookie(
        OIDC_COOKIE,
        cookie,
        path="/console",
        httponly=True,
        samesite="Lax",
        secure=_secure(request, settings),
        max_age=600,
    )
    raise response


async def _oidc_callback(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE]
    if not oidc_configured(console.settings):
        return page(request, "error.html.j2", status=404, error="not_found")
    try:
        user = await identify(
            console.settings,
            redirect_uri(request, console.settings),
            dict(request.query),
            request.cookies.get(OIDC_COOKIE, ""),
        )
    except OidcRefused as exc:
        log.warning("console: OpenID Connect sign-in refused: %s", exc.reason)
        await console.audit.record("-", "signin_failed", datetime.now(UTC), detail=f"oidc: {exc.reason}")
        return await _signin_form(request, error="oidc", status=403)
    await console.users.provision(user, datetime.now(UTC))
    await console.audit.record(user.name, "signin", datetime.now(UTC), detail="oidc")
    return await _start_session(request, user)


async def _signout(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE]
    await console.sessions.end(request.cookies[SESSION_COOKIE])
    await console.record(request, "signout")
    response = web.HTTPSeeOther("/console/login")
    response.del_cookie(SESSION_COOKIE, path="/console")
    raise response


async def _home(request: web.Request) -> web.StreamResponse:
    role = session_of(request).user.role
    raise web.HTTPSeeOther("/console/gaps" if role is Role.EDITOR else "/console/cases")


def console_routes(
    settings: ConsoleSettings,
    services: Callable[[], Services],
    escalation: Callable[[], EscalationService],
    routes: Iterable[web.AbstractRouteDef],
) -> web.Application:
    """The sub-application to mount at `/console`; `services` and `escalation` are read when the app starts."""
    app = web.Application(middlewares=[_guard])

    async def startup(app: web.Application) -> None:
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
    app.router.add_get("/", _home)
    app.router.add_get("/login", _signin_page)
    app.router.add_post("/login", _signin)
    app.router.add_post("/logout", _signout)
    app.router.add_get("/oidc/start", _oidc_start)
    app.router.add_get("/oidc/callback", _oidc_callback)
    app.router.add_static("/static", STATIC_DIR)
    app.add_routes(routes)
    return app
