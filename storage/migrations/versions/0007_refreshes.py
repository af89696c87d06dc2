"""Coalesced edits of messages that follow a state (an announcement's counts).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "refreshes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("due_at", TZ, nullable=False),
        sa.Column("claimed_at", TZ, nullable=True),
        sa.Column("edited_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_refreshes"),
        sa.UniqueConstraint("chat_id", "message_id", name="uq_refreshes_chat_id"),
    )
    op.create_index("ix_refreshes_due", "refreshes", ["status", "due_at"])


def downgrade() -> None:
    op.drop_index("ix_refreshes_due", "refreshes")
    op.drop_table("refreshes")
