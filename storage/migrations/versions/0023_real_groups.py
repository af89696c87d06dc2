"""Groups as Telegram really has them: the forum topic for Relais' own messages, the member count
Telegram gives, and whether the facilitators were told the bot lacks a right. A poll's message id
may be unknown (it was in the basic group a supergroup replaced). A followed message keeps what it
carried besides its state (`refreshes.tail`). Processes sharing a database reserve each group's
sends in one place (`group_sends`), to keep within 20 a minute together.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

COLUMNS = {
    "topic_id": sa.BigInteger,
    "seen_topic_id": sa.BigInteger,
    "topic_warned_at": lambda: sa.DateTime(timezone=True),
    "member_count": sa.Integer,
    "member_count_at": lambda: sa.DateTime(timezone=True),
    "rights_warned_at": lambda: sa.DateTime(timezone=True),
}


def upgrade() -> None:
    with op.batch_alter_table("groups") as batch:
        for name, kind in COLUMNS.items():
            batch.add_column(sa.Column(name, kind(), nullable=True))
    with op.batch_alter_table("polls") as batch:
        batch.alter_column("message_id", existing_type=sa.BigInteger(), nullable=True)
    with op.batch_alter_table("refreshes") as batch:
        batch.add_column(sa.Column("tail", sa.Text(), nullable=True))
    op.create_table(
        "group_sends",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_group_sends"),
    )
    op.create_index("ix_group_sends_chat_at", "group_sends", ["chat_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_group_sends_chat_at", "group_sends")
    op.drop_table("group_sends")
    with op.batch_alter_table("refreshes") as batch:
        batch.drop_column("tail")
    op.execute("UPDATE polls SET message_id = 0 WHERE message_id IS NULL")
    with op.batch_alter_table("polls") as batch:
        batch.alter_column("message_id", existing_type=sa.BigInteger(), nullable=False)
    with op.batch_alter_table("groups") as batch:
        for name in reversed(COLUMNS):
            batch.drop_column(name)
