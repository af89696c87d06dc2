"""A series' end: a last day, or a number of meetings.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("meeting_series") as batch:
        batch.add_column(sa.Column("ends_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("max_meetings", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("meeting_series") as batch:
        batch.drop_column("max_meetings")
        batch.drop_column("ends_on")
