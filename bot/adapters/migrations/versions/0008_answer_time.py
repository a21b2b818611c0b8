"""How long each answer took: milliseconds from starting on the question to the answer being ready.

Answers recorded before this revision have none (NULL); the console's overview leaves them out.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("answers", sa.Column("answer_ms", sa.Integer()))


def downgrade() -> None:
    with op.batch_alter_table("answers") as batch:
        batch.drop_column("answer_ms")
