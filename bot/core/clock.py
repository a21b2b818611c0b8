"""The clock of the whole tree: `utc()` is now as a timezone-aware UTC datetime.

Components that need the time take a `Clock` (default `utc`), so tests inject a fixed or moving one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

__all__ = ["Clock", "utc"]

Clock = Callable[[], datetime]
"""Returns now; timezone-aware."""


def utc() -> datetime:
    """Now, in UTC (timezone-aware)."""
    return datetime.now(UTC)
