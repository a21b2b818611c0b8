"""Fixtures shared by the whole test suite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.synapse import Synapse


@pytest.fixture(scope="session")
def synapse() -> Iterator[Synapse]:
    """A real Synapse on loopback for the whole session (fails, never skips, if it cannot start)."""
    server = Synapse()
    server.start()
    try:
        yield server
    finally:
        server.stop()
