"""SMS for the members Telegram does not reach: their numbers (with consent), the SMS received
(once each), the number a group's SMS tells people to call, and when its facilitators were told
the month's SMS were spent.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sms_contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(16), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("consented_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name="fk_sms_contacts_group_id_groups", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name="fk_sms_contacts_person_id_people", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_sms_contacts"),
        sa.UniqueConstraint("group_id", "person_id", name="uq_sms_contacts_group_id"),
    )
    op.create_index("ix_sms_contacts_person_id", "sms_contacts", ["person_id"])
    op.create_index("ix_sms_contacts_number", "sms_contacts", ["number"])
    op.create_table(
        "sms_received",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_key", sa.String(64), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("called_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["sms_contacts.id"], name="fk_sms_received_contact_id_sms_contacts", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_sms_received"),
        sa.UniqueConstraint("event_key", name="uq_sms_received_event_key"),
    )
    op.create_index("ix_sms_received_contact_id", "sms_received", ["contact_id"])
    with op.batch_alter_table("groups") as batch:
        batch.add_column(sa.Column("sms_call_number", sa.String(16), nullable=True))
        batch.add_column(sa.Column("sms_limit_told_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("groups") as batch:
        batch.drop_column("sms_limit_told_at")
        batch.drop_column("sms_call_number")
    op.drop_index("ix_sms_received_contact_id", "sms_received")
    op.drop_table("sms_received")
    op.drop_index("ix_sms_contacts_number", "sms_contacts")
    op.drop_index("ix_sms_contacts_person_id", "sms_contacts")
    op.drop_table("sms_contacts")
