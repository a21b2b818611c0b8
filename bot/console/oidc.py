"""Optional OpenID Connect sign-in for the console (Microsoft Entra ID or any OIDC provider), with Authlib.

The authorization-code flow: `/console/oidc/start` sends the browser to the provider with a fresh
`state` and `nonce`, kept in an HttpOnly cookie (not in memory, so another instance can finish the
flow); `/console/oidc/callback` checks the state, exchanges the code for tokens, verifies the ID
token (signature from the provider's JWKS, issuer, audience, expiry, nonce) and maps the role claim
to a console role (`console.oidc_roles`). The account is created or its role refreshed in the state
database, then a normal console session starts. A token without a mapped role is refused.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx2  # what Authlib speaks HTTP with (it falls back to httpx only when httpx2 is missing)
from aiohttp import web
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from bot.adapters.accounts import Role, User, valid_name
from bot.config import ConsoleSettings
from bot.core.clock import utc

__all__ = ["OIDC_COOKIE", "OidcRefused", "identify", "oidc_configured", "redirect_uri", "start_url"]

log = logging.getLogger(__name__)

OIDC_COOKIE = "onrust_console_oidc"
_PRIORITY = (Role.ADMIN, Role.OMO, Role.EDITOR)  # a user with several mapped roles gets the widest


class OidcRefused(Exception):
    """The provider's answer does not sign anyone in; `reason` says why (for the log and the page)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def oidc_configured(settings: ConsoleSettings) -> bool:
    return bool(settings.oidc_issuer and settings.oidc_client_id)


def _client(settings: ConsoleSettings, redirect_uri: str) -> AsyncOAuth2Client:
    secret = settings.oidc_client_secret.get_secret_value() if settings.oidc_client_secret else None
    return AsyncOAuth2Client(
        client_id=settings.oidc_client_id,
        client_secret=secret,
        scope="openid profile email",
        redirect_uri=redirect_uri,
        timeout=settings.oidc_timeout_s,
    )


@asynccontextmanager
async def _provider_errors() -> AsyncIterator[None]:
    """An unreachable provider, an HTTP error or an OAuth error answer becomes `OidcRefused`."""
    try:
        yield
    except (httpx2.HTTPError, AuthlibBaseError, KeyError, ValueError) as exc:
        raise OidcRefused(f"provider error: {exc!r}") from exc


async def _discover(client: AsyncOAuth2Client, settings: ConsoleSettings) -> dict[str, Any]:
    issuer = str(settings.oidc_issuer).rstrip("/")
    resp = await client.request("GET", f"{issuer}/.well-known/openid-configuration", withhold_token=True)
    resp.raise_for_status()
    config: dict[str, Any] = resp.json()
    return config


async def start_url(settings: ConsoleSettings, redirect_uri: str) -> tuple[str, str]:
    """(the provider's authorization URL, the cookie value that must come back with the callback); raises
    `OidcRefused` when the provider cannot be reached."""
    state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    async with _provider_errors(), _client(settings, redirect_uri) as client:
        config = await _discover(client, settings)
        url, _ = client.create_authorization_url(config["authorization_endpoint"], state=state, nonce=nonce)
    return url, f"{state}.{nonce}"


async def identify(settings: ConsoleSettings, redirect_uri: str, query: dict[str, str], cookie: str) -> User:
    """The user the provider's callback signs in; raises `OidcRefused` for anything short of a valid ID token
    with a mapped role."""
    state, _, nonce = cookie.partition(".")
    if not state or not nonce or not hmac.compare_digest(query.get("state", ""), state):
        raise OidcRefused("state mismatch")
    if "code" not in query:
        raise OidcRefused(f"no code: {query.get('error', 'unknown error')}")
    async with _provider_errors(), _client(settings, redirect_uri) as client:
        config = await _discover(client, settings)
        token = await client.fetch_token(config["token_endpoint"], code=query["code"])
        keys = (await client.request("GET", config["jwks_uri"], withhold_token=True)).json()
    if "id_token" not in token:
        raise OidcRefused("no id_token")
    try:
        decoded = jwt.decode(token["id_token"], KeySet.import_key_set(keys))
        jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": config["issuer"]},
            aud={"essential": True, "value": str(settings.oidc_client_id)},
            exp={"essential": True},
            nonce={"essential": True, "value": nonce},
        ).validate(decoded.claims)
    except (JoseError, ValueError) as exc:
        raise OidcRefused(f"invalid id_token: {exc}") from exc
    claims = decoded.claims
    name = str(claims.get(settings.oidc_name_claim) or "").strip().lower()
    if not valid_name(name):
        raise OidcRefused(f"unusable {settings.oidc_name_claim} claim")
    granted = claims.get(settings.oidc_role_claim) or []
    granted = [granted] if isinstance(granted, str) else list(granted)
    roles = {Role(settings.oidc_roles[g]) for g in granted if g in settings.oidc_roles}
    role = next((r for r in _PRIORITY if r in roles), None)
    if role is None:
        raise OidcRefused(f"no mapped role for {name}")
    return User(name, role, utc())


def redirect_uri(request: web.Request, settings: ConsoleSettings) -> str:
    base = settings.public_url.rstrip("/") if settings.public_url else str(request.url.origin())
    return f"{base}/console/oidc/callback"
