"""Read models: projection bookkeeping, shipment search, B/L drafts, SLA timers.

Every view table exists twice (slots a and b) for blue/green rebuilds.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from shipflow.database import UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SLOTS = ("a", "b")


def upgrade() -> None:
    op.create_table(
        "projection_slots",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("active_slot", sa.String(1), nullable=False),
        sa.Column("switched_at", UtcDateTime()),
    )
    op.create_table(
        "projection_tracking",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("slot", sa.String(1), primary_key=True),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("updated_at", UtcDateTime()),
    )
    for s in SLOTS:
        op.create_table(
            f"shipments_{s}",
            sa.Column("shipment_id", sa.String(36), primary_key=True),
            sa.Column("version", sa.Integer, nullable=False),
            sa.Column("status", sa.String(20), nullable=False),
            sa.Column("customer_id", sa.String(100), nullable=False),
            sa.Column("cs_owner", sa.String(100), nullable=False),
            sa.Column("office", sa.String(10), nullable=False),
            sa.Column("pol", sa.String(5), nullable=False),
            sa.Column("pod", sa.String(5)),
            sa.Column("carrier", sa.String(100)),
            sa.Column("carrier_booking_no", sa.String(100)),
            sa.Column("vessel", sa.String(100)),
            sa.Column("voyage", sa.String(40)),
            sa.Column("etd", UtcDateTime()),
            sa.Column("etd_actual", sa.Boolean, nullable=False),
            sa.Column("eta", UtcDateTime()),
            sa.Column("eta_actual", sa.Boolean, nullable=False),
            sa.Column("containers", sa.Text, nullable=False),
            sa.Column("bl_number", sa.String(100)),
            sa.Column("open_exceptions", sa.Integer, nullable=False),
            sa.Column("sailing_outcome", sa.String(10)),
            sa.Column("booked_at", UtcDateTime(), nullable=False),
            sa.Column("updated_at", UtcDateTime(), nullable=False),
            sa.Column("summary", sa.JSON, nullable=False),
        )
        op.create_index(f"ix_shipments_{s}_booked", f"shipments_{s}", ["booked_at", "shipment_id"])
        op.create_index(f"ix_shipments_{s}_customer", f"shipments_{s}", ["customer_id"])
        op.create_index(f"ix_shipments_{s}_status", f"shipments_{s}", ["status"])
        op.create_index(f"ix_shipments_{s}_eta", f"shipments_{s}", ["eta"])
        op.create_table(
            f"shipment_refs_{s}",
            sa.Column("shipment_id", sa.String(36), primary_key=True),
            sa.Column("kind", sa.String(20), primary_key=True),
            sa.Column("value", sa.String(200), primary_key=True),
        )
        op.create_index(f"ix_shipment_refs_{s}_value", f"shipment_refs_{s}", ["value"])
        op.create_table(
            f"bl_drafts_{s}",
            sa.Column("shipment_id", sa.String(36), primary_key=True),
            sa.Column("version", sa.Integer, nullable=False),
            sa.Column("status", sa.String(10), nullable=False),
            sa.Column("approved_version", sa.Integer),
            sa.Column("document", sa.JSON, nullable=False),
            sa.Column("updated_at", UtcDateTime(), nullable=False),
        )
        op.create_table(
            f"bl_draft_versions_{s}",
            sa.Column("shipment_id", sa.String(36), primary_key=True),
            sa.Column("version", sa.Integer, primary_key=True),
            sa.Column("document", sa.JSON, nullable=False),
            sa.Column("caused_by", sa.String(60), nullable=False),
            sa.Column("event_version", sa.Integer, nullable=False),
            sa.Column("actor", sa.String(200), nullable=False),
            sa.Column("recorded_at", UtcDateTime(), nullable=False),
        )
        op.create_table(
            f"sla_timers_{s}",
            sa.Column("shipment_id", sa.String(36), primary_key=True),
            sa.Column("timer", sa.String(60), primary_key=True),
            sa.Column("kind", sa.String(40), nullable=False),
            sa.Column("office", sa.String(10), nullable=False),
            sa.Column("customer_id", sa.String(100), nullable=False),
            sa.Column("cs_owner", sa.String(100), nullable=False),
            sa.Column("state", sa.String(10), nullable=False),
            sa.Column("started_at", UtcDateTime(), nullable=False),
            sa.Column("due_at", UtcDateTime(), nullable=False),
            sa.Column("met_at", UtcDateTime()),
            sa.Column("breached_at", UtcDateTime()),
            sa.Column("late", sa.Boolean, nullable=False),
        )
        op.create_index(f"ix_sla_timers_{s}_due", f"sla_timers_{s}", ["state", "due_at"])
        op.create_index(f"ix_sla_timers_{s}_office", f"sla_timers_{s}", ["office", "state"])


def downgrade() -> None:
    for s in SLOTS:
        for table in ("sla_timers", "bl_draft_versions", "bl_drafts", "shipment_refs",
                      "shipments"):
            op.drop_table(f"{table}_{s}")
    op.drop_table("projection_tracking")
    op.drop_table("projection_slots")
