"""Members' cost claims (défraiement): receipts and flat allowances.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "cost_claims",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("file_id", sa.String(255), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("decided_at", TZ, nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name="fk_cost_claims_meeting_id_meetings", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["group_id"], ["groups.id"], name="fk_cost_claims_group_id_groups", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name="fk_cost_claims_person_id_people", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["people.id"], name="fk_cost_claims_decided_by_id_people", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_cost_claims"),
    )
    op.create_index("ix_cost_claims_meeting_id", "cost_claims", ["meeting_id"])
    op.create_index("ix_cost_claims_group_id", "cost_claims", ["group_id"])
    op.create_index("ix_cost_claims_person_id", "cost_claims", ["person_id"])
    op.create_index("ix_cost_claims_created_at", "cost_claims", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_cost_claims_created_at", "cost_claims")
    op.drop_index("ix_cost_claims_person_id", "cost_claims")
    op.drop_index("ix_cost_claims_group_id", "cost_claims")
    op.drop_index("ix_cost_claims_meeting_id", "cost_claims")
    op.drop_table("cost_claims")
