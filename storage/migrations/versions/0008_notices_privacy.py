"""Durable notices, reports held for facilitators who cannot be reached yet, paused reminders,
what a refreshed message shows, and the meeting an evaluation poll is about.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("markup", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("not_before", TZ, nullable=False),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("claimed_at", TZ, nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("error", sa.String(64), nullable=True),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name="fk_notices_group_id_groups", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name="fk_notices_person_id_people", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_notices"),
    )
    op.create_index("ix_notices_group_id", "notices", ["group_id"])
    op.create_index("ix_notices_person_id", "notices", ["person_id"])
    op.create_index("ix_notices_ready", "notices", ["status", "not_before"])
    op.create_table(
        "reach_outs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name="fk_reach_outs_group_id_groups", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name="fk_reach_outs_person_id_people", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_reach_outs"),
        sa.UniqueConstraint("group_id", "person_id", "kind", name="uq_reach_outs_group_id"),
    )
    op.create_index("ix_reach_outs_person_id", "reach_outs", ["person_id"])
    op.create_index("ix_deliveries_person", "deliveries", ["person_id", "status"])
    with op.batch_alter_table("refreshes") as batch:
        batch.add_column(sa.Column("shown", sa.String(64), nullable=True))
    with op.batch_alter_table("polls") as batch:
        batch.add_column(sa.Column("meeting_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_polls_meeting_id_meetings", "meetings", ["meeting_id"], ["id"], ondelete="CASCADE")
        batch.create_index("ix_polls_meeting_id", ["meeting_id"])
    with op.batch_alter_table("people") as batch:
        batch.add_column(sa.Column("private_paused", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("polls") as batch:
        batch.drop_index("ix_polls_meeting_id")
        batch.drop_constraint("fk_polls_meeting_id_meetings", type_="foreignkey")
        batch.drop_column("meeting_id")
    with op.batch_alter_table("refreshes") as batch:
        batch.drop_column("shown")
    with op.batch_alter_table("people") as batch:
        batch.drop_column("private_paused")
    op.drop_index("ix_deliveries_person", "deliveries")
    op.drop_index("ix_reach_outs_person_id", "reach_outs")
    op.drop_table("reach_outs")
    op.drop_index("ix_notices_ready", "notices")
    op.drop_index("ix_notices_person_id", "notices")
    op.drop_index("ix_notices_group_id", "notices")
    op.drop_table("notices")
