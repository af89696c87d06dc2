"""The territory a group is filed under, for the department's view to filter by.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("groups") as batch:
        batch.add_column(sa.Column("territory", sa.String(80), nullable=True))
        batch.create_index("ix_groups_territory", ["territory"])


def downgrade() -> None:
    with op.batch_alter_table("groups") as batch:
        batch.drop_index("ix_groups_territory")
        batch.drop_column("territory")
