"""Members' questions about a meeting, and the facilitators' answers.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("asked_at", TZ, nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_by_id", sa.Integer(), nullable=True),
        sa.Column("answered_at", TZ, nullable=True),
        sa.ForeignKeyConstraint(["group_id"], ["groups.id"], name="fk_questions_group_id_groups", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name="fk_questions_meeting_id_meetings", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name="fk_questions_person_id_people", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["answered_by_id"], ["people.id"], name="fk_questions_answered_by_id_people", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_questions"),
    )
    op.create_index("ix_questions_group_id", "questions", ["group_id"])
    op.create_index("ix_questions_meeting_id", "questions", ["meeting_id"])
    op.create_index("ix_questions_person_id", "questions", ["person_id"])


def downgrade() -> None:
    op.drop_index("ix_questions_person_id", "questions")
    op.drop_index("ix_questions_meeting_id", "questions")
    op.drop_index("ix_questions_group_id", "questions")
    op.drop_table("questions")
