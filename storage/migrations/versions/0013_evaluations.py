"""The evaluation sheet: "utile ?" and a free text for the next meeting, per member who came.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "evaluations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("useful", sa.String(8), nullable=True),
        sa.Column("hope", sa.Text(), nullable=True),
        sa.Column("signed", sa.Boolean(), nullable=False),
        sa.Column("answered_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name="fk_evaluations_meeting_id_meetings", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name="fk_evaluations_person_id_people", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_evaluations"),
        sa.UniqueConstraint("meeting_id", "person_id", name="uq_evaluations_meeting_id"),
    )
    op.create_index("ix_evaluations_person_id", "evaluations", ["person_id"])


def downgrade() -> None:
    op.drop_index("ix_evaluations_person_id", "evaluations")
    op.drop_table("evaluations")
