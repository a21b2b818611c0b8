"""Signing in and out of the console: the local form (rate-limited, CSRF by a double-submit cookie), OpenID
Connect (`bot.console.oidc`), and the session cookie both end in.
"""

from __future__ import annotations

import hmac
import logging
import secrets

from aiohttp import web

from bot.adapters.accounts import Role, User
from bot.config import ConsoleSettings
from bot.console.oidc import OIDC_COOKIE, OidcRefused, identify, oidc_configured, redirect_uri, start_url
from bot.console.web import CONSOLE, SESSION_COOKIE, SIGNIN_CSRF_COOKIE, page, session_of
from bot.core.clock import utc

__all__ = ["routes"]

log = logging.getLogger(__name__)

routes = web.RouteTableDef()


def _secure(request: web.Request, settings: ConsoleSettings) -> bool:
    return settings.secure_cookies or request.secure


async def _signin_form(request: web.Request, *, error: str | None = None, status: int = 200) -> web.Response:
    csrf = secrets.token_urlsafe(32)
    settings = request.app[CONSOLE].settings
    response = page(request, "login.html.j2", status=status, csrf=csrf, error=error, oidc=oidc_configured(settings))
    response.set_cookie(
        SIGNIN_CSRF_COOKIE, csrf, path="/console", httponly=True, samesite="Lax", secure=_secure(request, settings)
    )
    return response


@routes.get("/login")
async def _signin_page(request: web.Request) -> web.StreamResponse:
    return await _signin_form(request)


@routes.post("/login")
async def _signin(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE]
    form = await request.post()
    expected = request.cookies.get(SIGNIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(str(form.get("csrf", "")), expected):
        return page(request, "error.html.j2", status=403, error="csrf")
    name, password = str(form.get("name", "")).strip().lower()[:64], str(form.get("password", ""))
    address, now = request.remote or "unknown", utc()
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
    console, now = request.app[CONSOLE], utc()
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


@routes.get("/oidc/start")
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


@routes.get("/oidc/callback")
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
        await console.audit.record("-", "signin_failed", utc(), detail=f"oidc: {exc.reason}")
        return await _signin_form(request, error="oidc", status=403)
    await console.users.provision(user, utc())
    await console.audit.record(user.name, "signin", utc(), detail="oidc")
    return await _start_session(request, user)


@routes.post("/logout")
async def _signout(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE]
    await console.sessions.end(request.cookies[SESSION_COOKIE])
    await console.record(request, "signout")
    response = web.HTTPSeeOther("/console/login")
    response.del_cookie(SESSION_COOKIE, path="/console")
    raise response


@routes.get("/")
async def _home(request: web.Request) -> web.StreamResponse:
    role = session_of(request).user.role
    raise web.HTTPSeeOther("/console/gaps" if role is Role.EDITOR else "/console/cases")
