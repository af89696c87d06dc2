"""/quand: candidate dates for a meeting, and the members' ticks.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "date_polls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("place", sa.String(200), nullable=False),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("closes_at", TZ, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=True),
        sa.Column("closed_at", TZ, nullable=True),
        sa.ForeignKeyConstraint(["group_id"], ["groups.id"], name="fk_date_polls_group_id_groups", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["people.id"], name="fk_date_polls_created_by_id_people", ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name="fk_date_polls_meeting_id_meetings", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_date_polls"),
    )
    op.create_index("ix_date_polls_group_id", "date_polls", ["group_id"])
    op.create_table(
        "date_options",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("date_poll_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(
            ["date_poll_id"], ["date_polls.id"], name="fk_date_options_date_poll_id_date_polls", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_date_options"),
    )
    op.create_index("ix_date_options_date_poll_id", "date_options", ["date_poll_id"])
    op.create_table(
        "date_ticks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("option_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("ticked_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(
            ["option_id"], ["date_options.id"], name="fk_date_ticks_option_id_date_options", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name="fk_date_ticks_person_id_people", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_date_ticks"),
        sa.UniqueConstraint("option_id", "person_id", name="uq_date_ticks_option_id"),
    )
    op.create_index("ix_date_ticks_person_id", "date_ticks", ["person_id"])


def downgrade() -> None:
    op.drop_index("ix_date_ticks_person_id", "date_ticks")
    op.drop_table("date_ticks")
    op.drop_index("ix_date_options_date_poll_id", "date_options")
    op.drop_table("date_options")
    op.drop_index("ix_date_polls_group_id", "date_polls")
    op.drop_table("date_polls")
