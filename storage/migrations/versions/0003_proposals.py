"""Proposals and their follow-up, polls, priority rounds, action items; scheduled events and
deliveries no longer need a meeting.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer(), nullable=False)


def _fk(table: str, column: str, target: str, ondelete: str = "CASCADE") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=f"fk_{table}_{column}_{target}", ondelete=ondelete)


def _indexes(table: str, *columns: str) -> None:
    for column in columns:
        op.create_index(f"ix_{table}_{column}", table, [column])


def upgrade() -> None:
    with op.batch_alter_table("groups") as batch:
        batch.add_column(sa.Column("next_proposal_number", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("quorum_percent", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("scheduled_events") as batch:
        batch.alter_column("meeting_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("group_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("subject_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_scheduled_events_group_id_groups", "groups", ["group_id"], ["id"], ondelete="CASCADE")
        batch.create_unique_constraint("uq_scheduled_events_subject", ["kind", "subject_id", "offset_minutes"])
        batch.create_index("ix_scheduled_events_group_id", ["group_id"])
    with op.batch_alter_table("deliveries") as batch:
        batch.alter_column("meeting_id", existing_type=sa.Integer(), nullable=True)

    op.create_table(
        "proposals", _id(),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("state_note", sa.String(300), nullable=True),
        sa.Column("progress", sa.Integer(), nullable=True),
        sa.Column("merged_into_id", sa.Integer(), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("state_changed_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_proposals"),
        _fk("proposals", "group_id", "groups"), _fk("proposals", "author_id", "people", "SET NULL"),
        _fk("proposals", "merged_into_id", "proposals", "SET NULL"),
        sa.UniqueConstraint("group_id", "number", name="uq_proposals_group_id"),
    )
    _indexes("proposals", "group_id", "author_id")
    op.create_table(
        "proposal_changes", _id(),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("note", sa.String(300), nullable=True),
        sa.Column("progress", sa.Integer(), nullable=True),
        sa.Column("by_id", sa.Integer(), nullable=True),
        sa.Column("at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_proposal_changes"),
        _fk("proposal_changes", "proposal_id", "proposals"), _fk("proposal_changes", "by_id", "people", "SET NULL"),
    )
    _indexes("proposal_changes", "proposal_id", "at")
    op.create_table(
        "proposal_followers", _id(),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_proposal_followers"),
        _fk("proposal_followers", "proposal_id", "proposals"), _fk("proposal_followers", "person_id", "people"),
        sa.UniqueConstraint("proposal_id", "person_id", name="uq_proposal_followers_proposal_id"),
    )
    _indexes("proposal_followers", "proposal_id", "person_id")
    op.create_table(
        "polls", _id(),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("telegram_poll_id", sa.String(64), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("question", sa.String(300), nullable=False),
        sa.Column("options", sa.Text(), nullable=False),
        sa.Column("counts", sa.Text(), nullable=False),
        sa.Column("voters", sa.Integer(), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("closes_at", TZ, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(24), nullable=True),
        sa.Column("closed_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_polls"),
        _fk("polls", "group_id", "groups"), _fk("polls", "proposal_id", "proposals", "SET NULL"),
        _fk("polls", "created_by_id", "people", "SET NULL"),
        sa.UniqueConstraint("telegram_poll_id", name="uq_polls_telegram_poll_id"),
    )
    _indexes("polls", "group_id", "proposal_id")
    op.create_table(
        "poll_votes", _id(),
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("option_ids", sa.String(64), nullable=False),
        sa.Column("voted_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_poll_votes"),
        _fk("poll_votes", "poll_id", "polls"), _fk("poll_votes", "person_id", "people"),
        sa.UniqueConstraint("poll_id", "person_id", name="uq_poll_votes_poll_id"),
    )
    _indexes("poll_votes", "poll_id", "person_id")
    op.create_table(
        "priority_rounds", _id(),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("max_picks", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("closes_at", TZ, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("closed_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_priority_rounds"),
        _fk("priority_rounds", "group_id", "groups"), _fk("priority_rounds", "created_by_id", "people", "SET NULL"),
    )
    _indexes("priority_rounds", "group_id")
    op.create_table(
        "priority_picks", _id(),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_priority_picks"),
        _fk("priority_picks", "round_id", "priority_rounds"), _fk("priority_picks", "person_id", "people"),
        _fk("priority_picks", "proposal_id", "proposals"),
        sa.UniqueConstraint("round_id", "person_id", "proposal_id", name="uq_priority_picks_round_id"),
    )
    _indexes("priority_picks", "round_id", "person_id", "proposal_id")
    op.create_table(
        "action_items", _id(),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.String(300), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("done_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_action_items"),
        _fk("action_items", "group_id", "groups"), _fk("action_items", "owner_id", "people", "SET NULL"),
        _fk("action_items", "created_by_id", "people", "SET NULL"),
    )
    _indexes("action_items", "group_id", "owner_id")


def downgrade() -> None:
    for table in ("action_items", "priority_picks", "priority_rounds", "poll_votes", "polls", "proposal_followers",
                  "proposal_changes", "proposals"):
        op.drop_table(table)
    with op.batch_alter_table("scheduled_events") as batch:
        batch.drop_index("ix_scheduled_events_group_id")
        batch.drop_constraint("uq_scheduled_events_subject", type_="unique")
        batch.drop_constraint("fk_scheduled_events_group_id_groups", type_="foreignkey")
        batch.drop_column("subject_id")
        batch.drop_column("group_id")
    with op.batch_alter_table("groups") as batch:
        batch.drop_column("quorum_percent")
        batch.drop_column("next_proposal_number")
