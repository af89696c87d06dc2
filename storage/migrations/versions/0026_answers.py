"""The decision-maker's answer, on the clock: the department's addressees, who a proposal went
to and by when its answer is expected, the answers given through the link, and the mail that
carries the links (sent after the commit, like every message).

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "addressees",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_addressees"),
        sa.UniqueConstraint("name", name="uq_addressees_name"),
    )
    with op.batch_alter_table("proposals") as batch:
        batch.add_column(sa.Column("addressee_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("addressee_name", sa.String(120), nullable=True))
        batch.add_column(sa.Column("transmitted_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("answer_due", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("overdue_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_foreign_key(
            "fk_proposals_addressee_id_addressees", "addressees", ["addressee_id"], ["id"], ondelete="SET NULL"
        )
        batch.create_index("ix_proposals_answer_due", ["answer_due"])
    op.create_table(
        "proposal_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("addressee_name", sa.String(120), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("text", sa.String(300), nullable=True),
        sa.Column("until", sa.Date(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("is_update", sa.Boolean(), nullable=False),
        sa.Column("in_time", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["proposal_id"], ["proposals.id"], name="fk_proposal_answers_proposal_id_proposals", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_proposal_answers"),
    )
    op.create_index("ix_proposal_answers_proposal_id", "proposal_answers", ["proposal_id"])
    op.create_table(
        "mails",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("to_address", sa.String(254), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.String(64), nullable=True),
        sa.Column("proposal_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["proposal_id"], ["proposals.id"], name="fk_mails_proposal_id_proposals", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_mails"),
    )
    op.create_index("ix_mails_status_due_at", "mails", ["status", "due_at"])
    op.create_index("ix_mails_proposal_id", "mails", ["proposal_id"])


def downgrade() -> None:
    op.drop_index("ix_mails_proposal_id", table_name="mails")
    op.drop_index("ix_mails_status_due_at", table_name="mails")
    op.drop_table("mails")
    op.drop_index("ix_proposal_answers_proposal_id", table_name="proposal_answers")
    op.drop_table("proposal_answers")
    with op.batch_alter_table("proposals") as batch:
        batch.drop_index("ix_proposals_answer_due")
        batch.drop_constraint("fk_proposals_addressee_id_addressees", type_="foreignkey")
        for column in ("overdue_at", "answered_at", "answer_due", "transmitted_at", "addressee_name", "addressee_id"):
            batch.drop_column(column)
    op.drop_table("addressees")
