"""Dialogue state in the database: a restart resumes a guided dialogue at the same question.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "dialogues",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("step", sa.String(24), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("prompt_message_id", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_dialogues"),
        sa.UniqueConstraint("user_id", "chat_id", name="uq_dialogues_user_id"),
    )
    op.create_index("ix_dialogues_user_id", "dialogues", ["user_id"])
    op.create_index("ix_dialogues_expires_at", "dialogues", ["expires_at"])


def downgrade() -> None:
    op.drop_table("dialogues")
