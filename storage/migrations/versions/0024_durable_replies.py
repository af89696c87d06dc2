"""Answers to updates are durable too: a notice row can name its chat and carry a whole Bot API
call (a reply quoting a command, an edit after a tap, a document, a poll) and what to record once
it is sent, so that a process dying between the commit and the send loses no answer.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

COLUMNS = {
    "chat_id": sa.BigInteger,
    "method": lambda: sa.String(40),
    "call": sa.JSON,
    "after": lambda: sa.String(32),
    "after_args": sa.JSON,
}


def upgrade() -> None:
    with op.batch_alter_table("notices") as batch:
        for name, kind in COLUMNS.items():
            batch.add_column(sa.Column(name, kind(), nullable=True))


def downgrade() -> None:
    op.execute("DELETE FROM notices WHERE chat_id IS NOT NULL")  # answers: nothing older can send them
    with op.batch_alter_table("notices") as batch:
        for name in reversed(COLUMNS):
            batch.drop_column(name)
