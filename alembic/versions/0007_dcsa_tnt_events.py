"""The "tnt_events" view: shipment histories as DCSA Track & Trace 2.2 events (slots a, b).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from shipflow.database import UtcDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

SLOTS = ("a", "b")


def upgrade() -> None:
    for s in SLOTS:
        op.create_table(
            f"tnt_shipments_{s}",
            sa.Column("shipment_id", sa.String(36), primary_key=True),
            sa.Column("customer_id", sa.String(100), nullable=False),
            sa.Column("booking_request_reference", sa.String(100)),
            sa.Column("carrier_booking_reference", sa.String(100)),
            sa.Column("transport_document_reference", sa.String(100)),
        )
        for col in ("customer_id", "booking_request_reference", "carrier_booking_reference",
                    "transport_document_reference"):
            op.create_index(f"ix_tnt_shipments_{s}_{col}", f"tnt_shipments_{s}", [col])
        op.create_table(
            f"tnt_events_{s}",
            sa.Column("shipment_id", sa.String(36), primary_key=True),
            sa.Column("seq", sa.Integer, primary_key=True),
            sa.Column("event_id", sa.String(36), nullable=False),
            sa.Column("event_type", sa.String(10), nullable=False),
            sa.Column("type_code", sa.String(4), nullable=False),
            sa.Column("document_type_code", sa.String(3)),
            sa.Column("equipment_reference", sa.String(15)),
            sa.Column("un_location_code", sa.String(5)),
            sa.Column("vessel_imo", sa.String(8)),
            sa.Column("voyage", sa.String(50)),
            sa.Column("transport_call_id", sa.String(100)),
            sa.Column("created_at", UtcDateTime(), nullable=False),
            sa.Column("document", sa.JSON, nullable=False),
        )
        op.create_index(f"ix_tnt_events_{s}_order", f"tnt_events_{s}",
                        ["created_at", "shipment_id", "seq"])


def downgrade() -> None:
    for s in SLOTS:
        op.drop_table(f"tnt_events_{s}")
        op.drop_table(f"tnt_shipments_{s}")
