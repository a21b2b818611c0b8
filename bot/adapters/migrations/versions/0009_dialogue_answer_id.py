"""The answer an intake dialogue started from gets its own column (`intake_dialogues.answer_id`).

Before, it rode inside the dialogue's `data` under a hidden `_answer_id` key, next to the official's
answers. Rows in progress keep their answer: the key moves into the column and leaves `data`.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_HIDDEN = "_answer_id"  # the key the answer id used to ride under in `data`


def _dialogues(*extra: sa.ColumnClause[object]) -> sa.TableClause:
    return sa.table("intake_dialogues", sa.column("channel"), sa.column("user_id"), sa.column("data", sa.JSON), *extra)


def upgrade() -> None:
    op.add_column("intake_dialogues", sa.Column("answer_id", sa.String(64)))
    table = _dialogues(sa.column("answer_id"))
    conn = op.get_bind()
    for channel, user_id, data in conn.execute(sa.select(table.c.channel, table.c.user_id, table.c.data)).all():
        if _HIDDEN not in data:
            continue
        answers = {k: v for k, v in data.items() if k != _HIDDEN}
        key = (table.c.channel == channel) & (table.c.user_id == user_id)
        conn.execute(sa.update(table).where(key).values(data=answers, answer_id=data[_HIDDEN]))


def downgrade() -> None:
    table = _dialogues(sa.column("answer_id"))
    conn = op.get_bind()
    rows = conn.execute(sa.select(table.c.channel, table.c.user_id, table.c.data, table.c.answer_id)).all()
    for channel, user_id, data, answer_id in rows:
        key = (table.c.channel == channel) & (table.c.user_id == user_id)
        conn.execute(sa.update(table).where(key).values(data={**data, _HIDDEN: answer_id}))
    with op.batch_alter_table("intake_dialogues") as batch:
        batch.drop_column("answer_id")
