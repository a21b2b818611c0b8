"""OpenID Connect sign-in against a real (small) OIDC provider on loopback: roles from the ID token's claim."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from bot.adapters.accounts import Role, UserStore
from bot.adapters.console_store import AuditLog
from bot.app import SERVICES
from tests.bot.console.oidc_provider import Provider, running_provider
from tests.bot.console.test_console_access import running

pytestmark = pytest.mark.integration


def settings_env(provider: Provider) -> dict[str, str]:
    return {
        "ONRUST_CONSOLE__OIDC_ISSUER": provider.issuer,
        "ONRUST_CONSOLE__OIDC_CLIENT_ID": provider.client_id,
        "ONRUST_CONSOLE__OIDC_CLIENT_SECRET": provider.client_secret,
        "ONRUST_CONSOLE__OIDC_ROLES": '{"Onrust.Editor": "editor", "Onrust.OMO": "omo"}',
    }


def client() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20), cookie_jar=aiohttp.CookieJar(unsafe=True))


async def test_sign_in_through_the_provider_maps_the_role(tmp_path: Path) -> None:
    async with running_provider() as provider, running(tmp_path, settings_env(provider)) as (url, app):
        provider.claims = {"preferred_username": "Eva@Gemeente.nl", "roles": ["Onrust.Viewer", "Onrust.OMO"]}
        async with client() as http:
            async with http.get(f"{url}/console/login") as resp:  # on without local accounts
                assert resp.status == 200 and "organisatie-account" in await resp.text()
            async with http.get(f"{url}/console/oidc/start") as resp:
                assert resp.status == 200 and str(resp.url) == f"{url}/console/cases"
                assert "OMO-zaken" in await resp.text()
        users = await UserStore(app[SERVICES].engine).list()
        assert [(u.name, u.role) for u in users] == [("eva@gemeente.nl", Role.OMO)]
        assert await UserStore(app[SERVICES].engine).verify("eva@gemeente.nl", "!oidc") is None  # no password


async def test_the_provider_cannot_sign_in_the_wrong_token_or_an_unmapped_role(tmp_path: Path) -> None:
    async with running_provider() as provider, running(tmp_path, settings_env(provider)) as (url, app):
        async with client() as http:
            provider.claims = {"preferred_username": "piet", "roles": ["Onrust.Viewer"]}
            async with http.get(f"{url}/console/oidc/start") as resp:
                assert resp.status == 403 and "geen rol voor de console" in await resp.text()
            provider.claims, provider.audience = {"preferred_username": "piet", "roles": ["Onrust.OMO"]}, "other-app"
            async with http.get(f"{url}/console/oidc/start") as resp:
                assert resp.status == 403
            async with http.get(f"{url}/console/oidc/callback?code=x&state=guessed") as resp:
                assert resp.status == 403
            async with http.get(f"{url}/console/cases", allow_redirects=False) as resp:
                assert resp.status == 303
        reasons = [e.detail or "" for e in await AuditLog(app[SERVICES].engine).entries()]
        assert reasons[0] == "oidc: state mismatch" and reasons[2] == "oidc: no mapped role for piet"
        assert reasons[1].startswith("oidc: invalid id_token") and "aud" in reasons[1]
        assert await UserStore(app[SERVICES].engine).count() == 0


async def test_an_unreachable_provider_is_a_clear_refusal(tmp_path: Path) -> None:
    async with running_provider() as provider:
        env = settings_env(provider)
    async with (
        running(tmp_path, env) as (url, _app),  # the provider has stopped
        client() as http,
        http.get(f"{url}/console/oidc/start") as resp,
    ):
        assert resp.status == 502 and "niet gelukt" in await resp.text()
