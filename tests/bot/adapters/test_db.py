"""Telling a database outage from a refused query (`is_unreachable`); statement timeouts on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from importlib.resources import files
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import insert, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.db import _PG_MIGRATION_LOCK, HEAD, create_engine, is_unreachable, migrate, ping
from bot.adapters.tables import kv
from bot.errors import StoreError
from tests.conftest import Postgres

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


async def test_a_statement_beyond_the_timeout_fails_on_postgresql_with_an_operator_error(postgres: Postgres) -> None:
    engine = create_engine(postgres.new_database(), statement_timeout_s=0.5)
    try:
        with pytest.raises(StoreError, match=r"longer than state\.statement_timeout_s \(0\.5 s\)") as caught:
            async with engine.connect() as conn:
                await asyncio.wait_for(conn.execute(text("SELECT pg_sleep(30)")), timeout=20)  # guard: no hang
        assert not is_unreachable(caught.value)  # a slow query is no outage: it is not retried
        await ping(engine)  # the connection is fine afterwards
    finally:
        await engine.dispose()


async def test_a_migration_waiting_for_another_instance_is_not_cut_short_by_the_timeout(postgres: Postgres) -> None:
    url = postgres.new_database()
    other = create_engine(url)  # another instance, in the middle of its migration
    engine = create_engine(url, statement_timeout_s=0.5)
    try:
        async with other.connect() as holder:
            await holder.execute(text(f"SELECT pg_advisory_lock({_PG_MIGRATION_LOCK})"))
            migrating = asyncio.create_task(migrate(engine))  # waits for the lock longer than 0.5 s
            await asyncio.sleep(2)
            assert not migrating.done()
            await holder.execute(text(f"SELECT pg_advisory_unlock({_PG_MIGRATION_LOCK})"))
        await asyncio.wait_for(migrating, timeout=60)
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM kv"))).scalar_one() == 0
    finally:
        await engine.dispose()
        await other.dispose()


async def test_a_write_waiting_for_the_lock_beyond_the_timeout_fails_on_sqlite(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'state.db'}", statement_timeout_s=0.5)
    try:
        await migrate(engine)
        async with engine.connect() as holder:
            await holder.begin()
            await holder.execute(insert(kv).values(key="a", value="1", updated_at=text("CURRENT_TIMESTAMP")))
            with pytest.raises(OperationalError, match="database is locked") as caught:
                async with engine.begin() as conn:
                    write = conn.execute(insert(kv).values(key="b", value="2", updated_at=text("CURRENT_TIMESTAMP")))
                    await asyncio.wait_for(write, timeout=20)  # guard: no hang
            assert is_unreachable(caught.value)  # a locked file is waited out like an outage
            await holder.rollback()
    finally:
        await engine.dispose()


def test_the_head_read_from_the_file_names_is_alembics_head() -> None:
    config = Config()
    config.set_main_option("script_location", str(files("bot.adapters") / "migrations"))
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD


async def test_a_database_behind_the_head_is_upgraded_and_one_at_the_head_is_left_as_it_is(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'state.db'}")
    try:
        await migrate(engine, "0001")
        await migrate(engine)
        await migrate(engine)  # already at the head: nothing to do
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar_one() == HEAD
            assert (await conn.execute(text("SELECT count(*) FROM kv"))).scalar_one() == 0
    finally:
        await engine.dispose()
