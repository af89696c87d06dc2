"""Membership terms, the supported exit, and the group line for arrivals and departures.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("memberships") as batch:
        batch.add_column(sa.Column("returned_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("term_ends_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("stay_wish", sa.String(8), nullable=True))
        batch.add_column(sa.Column("farewell_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("news_event_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("groups") as batch:
        batch.add_column(sa.Column("listed", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("groups") as batch:
        batch.drop_column("listed")
    with op.batch_alter_table("memberships") as batch:
        for column in ("news_event_id", "farewell_at", "stay_wish", "term_ends_at", "returned_at"):
            batch.drop_column(column)
