"""The SQL toolkit of the state store: one upsert for SQLite and PostgreSQL, and aware datetimes.

`upsert` is the only "insert, or else update" in the tree. It is one statement,
`INSERT ... ON CONFLICT (key) DO UPDATE` (or `DO NOTHING`), in the dialect of the connection, so two
instances inserting the same key at the same moment can neither fail on the unique key nor lose a write:
the database decides which insert comes first and turns the other into the update.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, overload

from sqlalchemy import ColumnElement, CursorResult, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["aware", "upsert"]


async def upsert(
    conn: AsyncConnection,
    table: Table,
    values: Mapping[str, object],
    *,
    key: Sequence[str],
    update: Sequence[str] | Mapping[str, object] | None = None,
    returning: Sequence[ColumnElement[Any]] = (),  # Any: SQLAlchemy's column type parameter; any column will do
) -> CursorResult[Any]:  # Any: SQLAlchemy types the rows of a Core statement so (its own `execute` does too)
    """Insert the row `values`, or update the row that has the same `key` columns, in one statement.

    `update` says what an existing row gets: the named columns' new values from `values` (by default
    every column of `values` outside `key`), or a mapping of columns to values or expressions
    (`{"last": counters.c.last + 1}`); empty, the existing row is left as it is (insert if absent).
    `returning` columns come back for the inserted or updated row; with an empty `update` no row comes
    back when one existed.
    """
    dialect = conn.dialect.name
    if dialect == "postgresql":
        stmt: postgresql.Insert | sqlite.Insert = postgresql.insert(table).values(dict(values))
    elif dialect == "sqlite":
        stmt = sqlite.insert(table).values(dict(values))
    else:
        raise NotImplementedError(f"upsert supports SQLite and PostgreSQL, not {dialect}")
    if update is None:
        update = [column for column in values if column not in key]
    changes = dict(update) if isinstance(update, Mapping) else {column: stmt.excluded[column] for column in update}
    if changes:
        stmt = stmt.on_conflict_do_update(index_elements=list(key), set_=changes)
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(key))
    return await conn.execute(stmt.returning(*returning) if returning else stmt)


@overload
def aware(value: datetime) -> datetime: ...


@overload
def aware(value: None) -> None: ...


def aware(value: datetime | None) -> datetime | None:
    """A stored moment as an aware UTC datetime: SQLite returns naive ones, and everything stored is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)
