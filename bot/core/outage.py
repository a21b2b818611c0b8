"""Riding out a state-database outage: a call that fails because the database is unreachable is retried.

`OutageRetry(is_outage, limit_s)` is made when a message arrives; every storage call for that message
goes through it. A call failing with an error `is_outage` recognises is retried with jittered backoff
(at most `cap_s` between tries, so a question is answered within seconds of the database's return)
until `limit_s` after the retry was made; then it raises `StoreError`. Other errors pass through at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from bot.core.backoff import backoff_delays
from bot.errors import StoreError

__all__ = ["OutageRetry"]

log = logging.getLogger(__name__)

T = TypeVar("T")


class OutageRetry:
    """Retries storage calls through an outage, until `limit_s` seconds after it was made (see module doc)."""

    def __init__(
        self,
        is_outage: Callable[[BaseException], bool],
        limit_s: float,
        *,
        base_s: float = 0.5,
        cap_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._is_outage = is_outage
        self._clock = clock
        self._deadline = clock() + limit_s
        self._base_s = base_s
        self._cap_s = cap_s
        self.waited = False
        """True once a call had to wait for the database (its claim may have gone stale meanwhile)."""

    async def __call__(self, call: Callable[[], Awaitable[T]]) -> T:
        """The result of `call()`, retried while the database is unreachable. Raises `StoreError` at the deadline."""
        delays = backoff_delays(self._base_s, self._cap_s)
        while True:
            try:
                return await call()
            except Exception as exc:
                if not self._is_outage(exc):
                    raise
                left = self._deadline - self._clock()
                if left <= 0:
                    raise StoreError(f"the state database stayed unreachable: {type(exc).__name__}") from exc
                delay = min(next(delays), left)
                log.warning("state database unreachable (%s); retrying in %.1f s", type(exc).__name__, delay)
                self.waited = True
                await asyncio.sleep(delay)
