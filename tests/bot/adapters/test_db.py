"""Telling a database outage from a refused query (`is_unreachable`), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.db import create_engine, is_unreachable, ping
from bot.adapters.tables import kv

pytestmark = pytest.mark.integration


async def refusal(engine: AsyncEngine, sql: str | None) -> DBAPIError:
    with pytest.raises(DBAPIError) as caught:
        async with engine.begin() as conn:
            if sql is None:
                for _ in range(2):
                    await conn.execute(insert(kv).values(key="k", value="v", updated_at=text("CURRENT_TIMESTAMP")))
            else:
                await conn.execute(text(sql))
    return caught.value


async def test_a_refused_query_is_no_outage(engine: AsyncEngine) -> None:
    await ping(engine)
    assert not is_unreachable(await refusal(engine, None))  # a duplicate key
    assert not is_unreachable(await refusal(engine, "SELECT * FROM no_such_table"))
    assert not is_unreachable(ValueError("bad value"))


async def test_an_unreachable_server_is_an_outage() -> None:
    engine = create_engine("postgresql+asyncpg://onrust@127.0.0.1:9/none", timeout_s=2)  # port 9: nobody listens
    try:
        with pytest.raises(Exception) as caught:
            await ping(engine)
        assert is_unreachable(caught.value)
    finally:
        await engine.dispose()
