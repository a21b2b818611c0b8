"""OMO escalation: answer text, cases with their audit trail, intake dialogues, reference counters, and the outbox.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The answer's own text, so a case can carry the answer that led to it.
    op.add_column("answers", sa.Column("text", sa.Text))
    op.create_table(
        "case_counters",
        sa.Column("year", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("last", sa.Integer, nullable=False),
    )
    op.create_table(
        "cases",
        sa.Column("ref", sa.String(20), primary_key=True),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("state", sa.String(16), nullable=False, index=True),
        sa.Column("urgency", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("municipality", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("contact", sa.Text, nullable=False),
        sa.Column("requester_channel", sa.String(16), nullable=False),
        sa.Column("requester_id", sa.Text, nullable=False),
        sa.Column("requester_name", sa.Text),
        sa.Column("private_conversation_id", sa.Text),
        sa.Column("origin_conversation_id", sa.Text),
        sa.Column("answer_id", sa.String(64)),
        sa.Column("attachment", sa.JSON, nullable=False),
        sa.Column("claimed_by", sa.Text),
        sa.Column("claimed_by_name", sa.Text),
        sa.Column("closing_note", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True)),
        sa.Column("closed_at", sa.DateTime(timezone=True), index=True),
        sa.Column("reminded_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("year", "seq", name="uq_cases_year_seq"),
    )
    op.create_table(
        "case_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("case_ref", sa.String(20), nullable=False, index=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("from_state", sa.String(16)),
        sa.Column("to_state", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text),
    )
    op.create_table(
        "intake_dialogues",
        sa.Column("channel", sa.String(16), primary_key=True),
        sa.Column("user_id", sa.String(255), primary_key=True),
        sa.Column("conversation_id", sa.Text, nullable=False),
        sa.Column("origin_conversation_id", sa.Text),
        sa.Column("step", sa.String(32), nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, index=True),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("conversation_id", sa.String(512), nullable=False),
        sa.Column("thread_id", sa.Text),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("case_ref", sa.String(20), index=True),
        sa.Column("dedupe_key", sa.String(255), unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("available_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("claimed_by", sa.String(64)),
        sa.Column("lease_until", sa.DateTime(timezone=True)),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.Column("failed_at", sa.DateTime(timezone=True)),
        sa.Column("last_error", sa.Text),
    )
    op.create_index("ix_outbox_pending", "outbox", ["sent_at", "failed_at", "available_at"])
    op.create_index("ix_outbox_conversation", "outbox", ["channel", "conversation_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_conversation", table_name="outbox")
    op.drop_index("ix_outbox_pending", table_name="outbox")
    for table in ("outbox", "intake_dialogues", "case_events", "cases", "case_counters"):
        op.drop_table(table)
    with op.batch_alter_table("answers") as batch:
        batch.drop_column("text")
