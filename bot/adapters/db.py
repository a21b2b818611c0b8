"""The state database: an async SQLAlchemy engine (SQLite by default, PostgreSQL by URL) and its migrations."""

from __future__ import annotations

from importlib.resources import files

from sqlalchemy import Connection, event, text
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.errors import StoreError

__all__ = ["HEAD", "create_engine", "is_unreachable", "migrate", "ping"]

_VERSIONS = files("bot.adapters") / "migrations" / "versions"
# The newest revision: revision ids are the four digits that start each file's name (a test holds Alembic to it).
HEAD = max(p.name[:4] for p in _VERSIONS.iterdir() if p.name[:4].isdigit())

# Serialises migrations between bot instances sharing one PostgreSQL database.
_PG_MIGRATION_LOCK = 0x6F6E7275  # "onru"


def create_engine(url: str, timeout_s: float = 10.0, statement_timeout_s: float = 30.0) -> AsyncEngine:
    """An engine for `url` whose statements give up after `statement_timeout_s` (`state.statement_timeout_s`).

    PostgreSQL cancels a statement running longer (`statement_timeout`), raised as a `StoreError` that
    names the setting; `timeout_s` bounds connecting. SQLite gets WAL, and a statement waits at most
    `statement_timeout_s` for another connection's write lock (the busy timeout), so the CLI and the bot
    can share a file.
    """
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": statement_timeout_s})

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    settings = {"statement_timeout": str(max(1, round(statement_timeout_s * 1000)))}  # milliseconds
    engine = create_async_engine(
        url, pool_pre_ping=True, connect_args={"timeout": timeout_s, "server_settings": settings}
    )

    @event.listens_for(engine.sync_engine, "handle_error")
    def _timed_out(context: ExceptionContext) -> BaseException | None:
        if getattr(context.original_exception, "sqlstate", None) != _QUERY_CANCELED:
            return None
        error = StoreError(
            f"the state database cancelled a statement that ran longer than state.statement_timeout_s "
            f"({statement_timeout_s:g} s): {context.original_exception}"
        )
        error.__cause__ = context.sqlalchemy_exception
        return error

    return engine


_QUERY_CANCELED = "57014"  # statement_timeout, or a cancel request

# SQLSTATE classes of an unreachable server: 08 connection exceptions, 57P shutting down or starting up.
_UNREACHABLE_SQLSTATES = ("08", "57P")
_SQLITE_UNREACHABLE = ("database is locked", "unable to open database file", "disk i/o error")


def is_unreachable(exc: BaseException) -> bool:
    """True when `exc` means the database could not be reached or dropped the connection (worth a retry).

    A query the database refused (a constraint, a missing table) is not an outage.
    """
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, (OSError, TimeoutError, InterfaceError)):
            return True
        if isinstance(seen, DBAPIError):
            if seen.connection_invalidated:
                return True
            if isinstance(seen, OperationalError) and any(m in str(seen.orig).lower() for m in _SQLITE_UNREACHABLE):
                return True
        if str(getattr(seen, "sqlstate", None) or "").startswith(_UNREACHABLE_SQLSTATES):
            return True
        seen = getattr(seen, "orig", None) if isinstance(seen, DBAPIError) else seen.__cause__
    return False


async def ping(engine: AsyncEngine) -> None:
    """Run `SELECT 1`; raises whatever the driver raises when the database cannot answer."""
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


async def _current(engine: AsyncEngine) -> str | None:
    """The revision the database is at, or None when that cannot be read (no schema yet, or no answer)."""
    try:
        async with engine.connect() as conn:
            return (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar_one_or_none()
    except DBAPIError:
        return None  # the upgrade path below creates the schema, or reports the error


def _upgrade(connection: Connection, revision: str) -> None:
    from alembic import command  # imported only when there is something to do: 0.15 s at every start
    from alembic.config import Config

    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL statement_timeout = 0")  # a migration may rewrite a large table
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})")
    config = Config()
    config.set_main_option("script_location", str(files("bot.adapters") / "migrations"))
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def migrate(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the schema to `revision` (the newest by default); safe to run from several instances at once."""
    if revision == "head" and await _current(engine) == HEAD:
        return
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_upgrade, revision)
    except Exception as exc:
        raise StoreError(f"cannot migrate the state database ({engine.url.render_as_string()}): {exc}") from exc
