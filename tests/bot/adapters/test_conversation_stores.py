"""Message claims over SQLite and PostgreSQL (`engine` fixture): each message is handled once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.conversation_stores import StateMessageClaims

pytestmark = pytest.mark.integration


async def test_a_message_is_claimed_once(engine: AsyncEngine) -> None:
    claims = StateMessageClaims(engine)
    now = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
    assert await claims.claim("matrix", "!room", "$event", now) is True
    assert await claims.claim("matrix", "!room", "$event", now) is False
    assert await claims.claim("matrix", "!other", "$event", now) is True  # ids are per conversation
    assert await claims.claim("teams", "!room", "$event", now) is True
    assert await claims.forget_before(now + timedelta(seconds=1)) == 3
    assert await claims.claim("matrix", "!room", "$event", now) is True


async def test_two_instances_racing_for_one_message_handle_it_once(engine: AsyncEngine) -> None:
    now = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
    first, second = StateMessageClaims(engine), StateMessageClaims(engine)
    results = await asyncio.gather(
        *(c.claim("teams", "a:chat", f"act-{i % 5}", now) for i, c in enumerate([first, second] * 10))
    )
    assert sum(results) == 5
