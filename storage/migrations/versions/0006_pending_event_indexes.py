"""Indexes that find one meeting's, or one group's, pending events without walking all of them.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # (meeting_id, status, due_at) and (group_id, status, due_at) serve the reloads after /reunion,
    # /deplacer and /rappels; the single-column indexes they replace are their prefixes.
    op.drop_index("ix_scheduled_events_meeting_id", "scheduled_events")
    op.drop_index("ix_scheduled_events_group_id", "scheduled_events")
    op.create_index("ix_scheduled_events_meeting_pending", "scheduled_events", ["meeting_id", "status", "due_at"])
    op.create_index("ix_scheduled_events_group_pending", "scheduled_events", ["group_id", "status", "due_at"])


def downgrade() -> None:
    op.drop_index("ix_scheduled_events_group_pending", "scheduled_events")
    op.drop_index("ix_scheduled_events_meeting_pending", "scheduled_events")
    op.create_index("ix_scheduled_events_group_id", "scheduled_events", ["group_id"])
    op.create_index("ix_scheduled_events_meeting_id", "scheduled_events", ["meeting_id"])
