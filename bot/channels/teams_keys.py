"""The Bot Framework's token signing keys, cached with a bounded refresh, for the Agents SDK's JWT check.

The SDK asks its `JwtTokenValidator._jwk_client_manager` for the key named by a token's `kid`; its
own manager (a `PyJWKClient` per key URL, called in a thread) fetches the key set again whenever a
token names an unknown key and its cache is empty or the fetch failed, so forged tokens can make the
bot call out, each with a 30 s timeout. `SigningKeys` takes its place (`install`): the key set of
each URL is fetched with aiohttp under a timeout, kept for `max_age_s`, and fetched again — for
age, an unknown `kid` or after a failure — at most once per `min_interval_s`. A token naming a key
that is not in the set is refused without a fetch in between. The key URLs come from the SDK's fixed
list (Bot Framework, Entra for the configured tenant), never from the token.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping

import aiohttp
from jwt import PyJWK, PyJWKSet
from jwt.exceptions import PyJWKError, PyJWKSetError
from microsoft_agents.hosting.core.authorization.jwt.jwt_token_validator import JwtTokenValidator

__all__ = ["SigningKeys", "install"]

log = logging.getLogger(__name__)


class SigningKeys:
    """Signing keys per key-set URL; `get_signing_key` is the interface the SDK's validator calls.

    Raises `ValueError` for a token without a `kid` or naming a key the set does not hold (the SDK
    middleware answers 401). `uri_overrides` maps a key-set URL to another (a test's stand-in).
    """

    def __init__(
        self,
        *,
        timeout_s: float,
        max_age_s: float = 24 * 3600.0,
        min_interval_s: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
        uri_overrides: Mapping[str, str] | None = None,
    ) -> None:
        self._timeout_s = timeout_s
        self._max_age_s = max_age_s
        self._min_interval_s = min_interval_s
        self._clock = clock
        self._overrides = dict(uri_overrides or {})
        self._keys: dict[str, tuple[float, dict[str, PyJWK]]] = {}  # url -> (fetched at, keys by kid)
        self._attempted: dict[str, float] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def get_signing_key(self, jwks_uri: str, header: Mapping[str, object]) -> PyJWK:
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise ValueError("the token names no signing key")
        async with self._locks.setdefault(jwks_uri, asyncio.Lock()):
            keys = await self._current(jwks_uri, kid)
        key = keys.get(kid)
        if key is None:
            raise ValueError("the token names an unknown signing key")
        return key

    async def _current(self, url: str, kid: str) -> dict[str, PyJWK]:
        now = self._clock()
        fetched_at, keys = self._keys.get(url, (None, {}))
        wanted = fetched_at is None or now - fetched_at > self._max_age_s or kid not in keys
        last = self._attempted.get(url)
        if wanted and (last is None or now - last >= self._min_interval_s):
            self._attempted[url] = now
            try:
                keys = await self._fetch(self._overrides.get(url, url))
            except (aiohttp.ClientError, TimeoutError, ValueError, PyJWKError, PyJWKSetError) as exc:
                log.warning("teams: could not fetch signing keys from %s (%s)", url, type(exc).__name__)
            else:
                self._keys[url] = (now, keys)
                log.info("teams: fetched %d signing keys from %s", len(keys), url)
        return keys

    async def _fetch(self, url: str) -> dict[str, PyJWK]:
        timeout = aiohttp.ClientTimeout(total=self._timeout_s)
        async with aiohttp.ClientSession(timeout=timeout) as session, session.get(url) as response:
            response.raise_for_status()
            data = await response.json(content_type=None)
        if not isinstance(data, dict):
            raise ValueError("the key set is not a JSON object")
        return {k.key_id: k for k in PyJWKSet.from_dict(data).keys if k.key_id}


def install(keys: SigningKeys) -> None:
    """Make the SDK's JWT validator (every instance: the manager is a class attribute) use `keys`."""
    JwtTokenValidator._jwk_client_manager = keys  # type: ignore[assignment]
