"""Bounded exponential backoff with full jitter, for loops that retry an idempotent call."""

from __future__ import annotations

import random
from collections.abc import Iterator

__all__ = ["backoff_delays"]


def backoff_delays(base_s: float = 0.5, cap_s: float = 60.0, rng: random.Random | None = None) -> Iterator[float]:
    """Endless delays in seconds: attempt n waits a uniform random time in [base/2, min(cap, base * 2**n)].

    The lower bound keeps a crash loop from spinning; the cap bounds the wait.
    """
    rand = rng or random.Random()
    attempt = 0
    while True:
        ceiling = min(cap_s, base_s * 2**attempt)
        yield rand.uniform(min(base_s / 2, ceiling), ceiling)
        attempt = min(attempt + 1, 62)
