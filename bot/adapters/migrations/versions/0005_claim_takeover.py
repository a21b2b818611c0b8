"""Claims that outlive their owner: each claim names its instance, carries a heartbeat and the message.

Claims made before this revision have no message to answer from: they are marked done.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("handled_messages", sa.Column("owner", sa.String(64)))
    op.add_column("handled_messages", sa.Column("heartbeat_at", sa.DateTime(timezone=True)))
    op.add_column("handled_messages", sa.Column("done_at", sa.DateTime(timezone=True)))
    op.add_column("handled_messages", sa.Column("message", sa.JSON()))
    op.execute("UPDATE handled_messages SET done_at = at")
    op.create_index("ix_handled_messages_open", "handled_messages", ["done_at", "heartbeat_at"])


def downgrade() -> None:
    op.drop_index("ix_handled_messages_open", table_name="handled_messages")
    with op.batch_alter_table("handled_messages") as batch:
        for column in ("message", "done_at", "heartbeat_at", "owner"):
            batch.drop_column(column)
