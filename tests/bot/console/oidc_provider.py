"""A small OpenID Connect provider for the console's SSO tests: discovery, authorize, token and JWKS endpoints.

It speaks the protocol as Microsoft Entra ID does for the authorization-code flow: `/authorize` signs the
configured user in at once and redirects back with a code; `/token` answers with an RS256 ID token
carrying `preferred_username`, `roles` and the request's nonce.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from tests.synapse import free_port

__all__ = ["Provider", "running_provider"]


@dataclass
class Provider:
    issuer: str
    client_id: str = "onrust-console"
    client_secret: str = "geheim"
    claims: dict[str, Any] = field(default_factory=dict)  # the signed-in user's claims
    audience: str | None = None  # another audience than the client id: a token for someone else
    keys: KeySet = field(default_factory=lambda: KeySet([RSAKey.generate_key(2048, parameters={"kid": "k1"})]))
    _codes: dict[str, str] = field(default_factory=dict)  # code -> nonce

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/.well-known/openid-configuration", self._discovery)
        app.router.add_get("/authorize", self._authorize)
        app.router.add_post("/token", self._token)
        app.router.add_get("/jwks", self._jwks)
        return app

    async def _discovery(self, _request: web.Request) -> web.Response:
        return web.json_response(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "id_token_signing_alg_values_supported": ["RS256"],
            }
        )

    async def _authorize(self, request: web.Request) -> web.Response:
        query = request.query
        assert query["client_id"] == self.client_id and query["response_type"] == "code"
        code = secrets.token_urlsafe(16)
        self._codes[code] = query["nonce"]
        raise web.HTTPFound(f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}")

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        nonce = self._codes.pop(str(form["code"]), None)
        if nonce is None:
            return web.json_response({"error": "invalid_grant"}, status=400)
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": self.audience or self.client_id,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            **self.claims,
        }
        id_token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, self.keys)
        return web.json_response(
            {"access_token": "at", "token_type": "Bearer", "expires_in": 300, "id_token": id_token}
        )

    async def _jwks(self, _request: web.Request) -> web.Response:
        return web.json_response(self.keys.as_dict(private=False))


@asynccontextmanager
async def running_provider() -> AsyncIterator[Provider]:
    port = free_port()
    provider = Provider(f"http://127.0.0.1:{port}")
    runner = web.AppRunner(provider.app())
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield provider
    finally:
        await runner.cleanup()
