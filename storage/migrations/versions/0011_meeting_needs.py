"""A meal at a meeting, and members' needs to come (childcare, a dietary need).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("meetings") as batch:
        batch.add_column(sa.Column("meal", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "meeting_needs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("children", sa.Integer(), nullable=False),
        sa.Column("diet", sa.String(16), nullable=True),
        sa.Column("updated_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name="fk_meeting_needs_meeting_id_meetings", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name="fk_meeting_needs_person_id_people", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_meeting_needs"),
        sa.UniqueConstraint("meeting_id", "person_id", name="uq_meeting_needs_meeting_id"),
    )
    op.create_index("ix_meeting_needs_person_id", "meeting_needs", ["person_id"])


def downgrade() -> None:
    op.drop_index("ix_meeting_needs_person_id", "meeting_needs")
    op.drop_table("meeting_needs")
    with op.batch_alter_table("meetings") as batch:
        batch.drop_column("meal")
