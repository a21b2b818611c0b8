"""Named sets as rows (`kv_members`): Matrix keeps its direct chats here, one row per room.

Before, the set was a JSON list under `matrix.direct.<user id>` in `kv`, read, changed and rewritten
whole, so two instances adding a room at once could lose one. The lists move into rows here.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import json
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_SETS = "matrix.direct.%"  # the keys that held a JSON list of members


def _kv() -> sa.TableClause:
    return sa.table(
        "kv",
        sa.column("key", sa.String),
        sa.column("value", sa.Text),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )


def upgrade() -> None:
    members = op.create_table(
        "kv_members",
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("member", sa.String(512), primary_key=True),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
    )
    kv = _kv()
    conn = op.get_bind()
    rows = conn.execute(sa.select(kv.c.key, kv.c.value, kv.c.updated_at).where(kv.c.key.like(_SETS))).all()
    moved = [
        {"key": key, "member": str(member), "added_at": updated_at}
        for key, value, updated_at in rows
        for member in sorted(set(json.loads(value or "[]")))
    ]
    if moved:
        op.bulk_insert(members, moved)
    conn.execute(sa.delete(kv).where(kv.c.key.like(_SETS)))


def downgrade() -> None:
    members = sa.table(
        "kv_members",
        sa.column("key", sa.String),
        sa.column("member", sa.String),
        sa.column("added_at", sa.DateTime(timezone=True)),
    )
    kv = _kv()
    conn = op.get_bind()
    grouped: dict[str, tuple[list[str], datetime]] = {}
    for key, member, added_at in conn.execute(sa.select(members.c.key, members.c.member, members.c.added_at)):
        listed, _ = grouped.get(key, ([], added_at))
        grouped[key] = ([*listed, member], added_at)
    for key, (listed, at) in grouped.items():
        conn.execute(sa.insert(kv).values(key=key, value=json.dumps(sorted(listed)), updated_at=at))
    op.drop_table("kv_members")
