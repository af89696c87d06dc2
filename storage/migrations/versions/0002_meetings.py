"""Meetings, series, answers, attendance, scheduled events and deliveries.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("groups") as batch:
        batch.add_column(sa.Column("reminder_offsets", sa.String(64), nullable=True))
        batch.add_column(sa.Column("next_meeting_number", sa.Integer(), nullable=False, server_default="1"))
    op.create_table(
        "meeting_series",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("nth", sa.Integer(), nullable=True),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.Column("minute", sa.Integer(), nullable=False),
        sa.Column("place", sa.String(200), nullable=False),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("stopped_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_meeting_series"),
        sa.ForeignKeyConstraint(["group_id"], ["groups.id"], name="fk_meeting_series_group_id_groups", ondelete="CASCADE"),
    )
    op.create_index("ix_meeting_series_group_id", "meeting_series", ["group_id"])
    op.create_table(
        "meetings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("series_id", sa.Integer(), nullable=True),
        sa.Column("starts_at", TZ, nullable=False),
        sa.Column("place", sa.String(200), nullable=False),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("agenda", sa.Text(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("announcement_message_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("cancelled_at", TZ, nullable=True),
        sa.Column("attendance_rate", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_meetings"),
        sa.ForeignKeyConstraint(["group_id"], ["groups.id"], name="fk_meetings_group_id_groups", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["series_id"], ["meeting_series.id"], name="fk_meetings_series_id_meeting_series", ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["created_by_id"], ["people.id"], name="fk_meetings_created_by_id_people", ondelete="SET NULL"),
        sa.UniqueConstraint("group_id", "number", name="uq_meetings_group_id"),
    )
    op.create_index("ix_meetings_group_id", "meetings", ["group_id"])
    op.create_index("ix_meetings_starts_at", "meetings", ["starts_at"])
    for table, extra in (("rsvps", [sa.Column("answer", sa.String(8), nullable=False), sa.Column("reason", sa.String(16), nullable=True),
                                     sa.Column("answered_at", TZ, nullable=False)]),
                         ("attendance", [sa.Column("present", sa.Boolean(), nullable=False)])):
        op.create_table(
            table,
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("meeting_id", sa.Integer(), nullable=False),
            sa.Column("person_id", sa.Integer(), nullable=False),
            *extra,
            sa.PrimaryKeyConstraint("id", name=f"pk_{table}"),
            sa.ForeignKeyConstraint(["meeting_id"], ["meetings.id"], name=f"fk_{table}_meeting_id_meetings", ondelete="CASCADE"),
            sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=f"fk_{table}_person_id_people", ondelete="CASCADE"),
            sa.UniqueConstraint("meeting_id", "person_id", name=f"uq_{table}_meeting_id"),
        )
        op.create_index(f"ix_{table}_meeting_id", table, ["meeting_id"])
        op.create_index(f"ix_{table}_person_id", table, ["person_id"])
    op.create_table(
        "scheduled_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("offset_minutes", sa.Integer(), nullable=False),
        sa.Column("due_at", TZ, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("done_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_scheduled_events"),
        sa.ForeignKeyConstraint(["meeting_id"], ["meetings.id"], name="fk_scheduled_events_meeting_id_meetings", ondelete="CASCADE"),
        sa.UniqueConstraint("meeting_id", "kind", "offset_minutes", name="uq_scheduled_events_meeting_id"),
    )
    op.create_index("ix_scheduled_events_meeting_id", "scheduled_events", ["meeting_id"])
    op.create_index("ix_scheduled_events_due", "scheduled_events", ["status", "due_at"])
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(24), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("not_before", TZ, nullable=False),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("claimed_at", TZ, nullable=True),
        sa.Column("sent_at", TZ, nullable=True),
        sa.Column("error", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_deliveries"),
        sa.ForeignKeyConstraint(["event_id"], ["scheduled_events.id"], name="fk_deliveries_event_id_scheduled_events", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["meeting_id"], ["meetings.id"], name="fk_deliveries_meeting_id_meetings", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name="fk_deliveries_person_id_people", ondelete="CASCADE"),
        sa.UniqueConstraint("event_id", "recipient", name="uq_deliveries_event_id"),
    )
    op.create_index("ix_deliveries_event_id", "deliveries", ["event_id"])
    op.create_index("ix_deliveries_meeting_id", "deliveries", ["meeting_id"])
    op.create_index("ix_deliveries_ready", "deliveries", ["status", "priority", "not_before"])


def downgrade() -> None:
    for table in ("deliveries", "scheduled_events", "attendance", "rsvps", "meetings", "meeting_series"):
        op.drop_table(table)
    with op.batch_alter_table("groups") as batch:
        batch.drop_column("next_meeting_number")
        batch.drop_column("reminder_offsets")
