"""The minutes of a meeting, and the opinions of those who came.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "minutes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("file_id", sa.String(255), nullable=True),
        sa.Column("file_name", sa.String(255), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("publish_at", TZ, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("published_at", TZ, nullable=True),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["meeting_id"], ["meetings.id"], name="fk_minutes_meeting_id_meetings", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["group_id"], ["groups.id"], name="fk_minutes_group_id_groups", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["people.id"], name="fk_minutes_created_by_id_people", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_minutes"),
        sa.UniqueConstraint("meeting_id", name="uq_minutes_meeting_id"),
    )
    op.create_index("ix_minutes_group_id", "minutes", ["group_id"])
    op.create_table(
        "minutes_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("minutes_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("agreed", sa.Boolean(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("at", TZ, nullable=False),
        sa.ForeignKeyConstraint(
            ["minutes_id"], ["minutes.id"], name="fk_minutes_reviews_minutes_id_minutes", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name="fk_minutes_reviews_person_id_people", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_minutes_reviews"),
        sa.UniqueConstraint("minutes_id", "person_id", name="uq_minutes_reviews_minutes_id"),
    )
    op.create_index("ix_minutes_reviews_person_id", "minutes_reviews", ["person_id"])


def downgrade() -> None:
    op.drop_index("ix_minutes_reviews_person_id", "minutes_reviews")
    op.drop_table("minutes_reviews")
    op.drop_index("ix_minutes_group_id", "minutes")
    op.drop_table("minutes")
