"""Carpooling: departure points, ride offers, requests and refusals.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str, ondelete: str = "CASCADE") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=f"fk_{table}_{column}_{target}", ondelete=ondelete)


def upgrade() -> None:
    op.create_table(
        "places",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(60), nullable=False),
        sa.Column("name_key", sa.String(60), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_places"),
        _fk("places", "group_id", "groups"),
        sa.UniqueConstraint("group_id", "name_key", name="uq_places_group_id"),
    )
    op.create_index("ix_places_group_id", "places", ["group_id"])
    op.create_table(
        "ride_offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("driver_id", sa.Integer(), nullable=False),
        sa.Column("place_id", sa.Integer(), nullable=False),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("departs_at", TZ, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ride_offers"),
        _fk("ride_offers", "meeting_id", "meetings"), _fk("ride_offers", "driver_id", "people"), _fk("ride_offers", "place_id", "places"),
    )
    op.create_index("ix_ride_offers_meeting_id", "ride_offers", ["meeting_id"])
    op.create_index("ix_ride_offers_driver_id", "ride_offers", ["driver_id"])
    op.create_table(
        "ride_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("place_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("matched_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_ride_requests"),
        _fk("ride_requests", "meeting_id", "meetings"), _fk("ride_requests", "person_id", "people"),
        _fk("ride_requests", "place_id", "places"), _fk("ride_requests", "offer_id", "ride_offers", "SET NULL"),
    )
    for column in ("meeting_id", "person_id", "offer_id"):
        op.create_index(f"ix_ride_requests_{column}", "ride_requests", [column])
    op.create_table(
        "ride_refusals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ride_refusals"),
        _fk("ride_refusals", "request_id", "ride_requests"), _fk("ride_refusals", "offer_id", "ride_offers"),
        sa.UniqueConstraint("request_id", "offer_id", name="uq_ride_refusals_request_id"),
    )
    op.create_index("ix_ride_refusals_request_id", "ride_refusals", ["request_id"])
    op.create_index("ix_ride_refusals_offer_id", "ride_refusals", ["offer_id"])


def downgrade() -> None:
    for table in ("ride_refusals", "ride_requests", "ride_offers", "places"):
        op.drop_table(table)
