"""Daily digest: one subscription per conversation, with its time, kind flags and the last day sent.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "digest_subscriptions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("conversation_id", sa.String(512), nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("send_time", sa.String(5)),
        sa.Column("omo", sa.Boolean, nullable=False),
        sa.Column("editors", sa.Boolean, nullable=False),
        sa.Column("subscribed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_sent_date", sa.Date),
        sa.Column("last_sent_at", sa.DateTime(timezone=True)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("channel", "conversation_id", name="uq_digest_subscriptions_conversation"),
    )


def downgrade() -> None:
    op.drop_table("digest_subscriptions")
