"""The group's charter, and who has read it.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("groups") as batch:
        batch.add_column(sa.Column("charter", sa.Text(), nullable=True))
    op.create_table(
        "charter_readings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name="fk_charter_readings_group_id_groups", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name="fk_charter_readings_person_id_people", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_charter_readings"),
        sa.UniqueConstraint("group_id", "person_id", name="uq_charter_readings_group_id"),
    )
    op.create_index("ix_charter_readings_person_id", "charter_readings", ["person_id"])


def downgrade() -> None:
    op.drop_index("ix_charter_readings_person_id", "charter_readings")
    op.drop_table("charter_readings")
    with op.batch_alter_table("groups") as batch:
        batch.drop_column("charter")
