"""Read-model tables (SQLAlchemy Core), created by Alembic migrations.

Every view has two physical copies, slot ``a`` and slot ``b``: readers use the active slot
while a rebuild fills the other, then the active slot switches in one transaction
(blue/green), so nobody reads a half-built view.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)

SLOTS = ("a", "b")

metadata = MetaData()


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out, on SQLite (which stores naive text) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime written to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# --- bookkeeping ---------------------------------------------------------------------------

projection_slots = Table(
    "projection_slots", metadata,
    Column("name", String(40), primary_key=True),
    Column("active_slot", String(1), nullable=False),
    Column("switched_at", UtcDateTime()),
)

projection_tracking = Table(
    "projection_tracking", metadata,
    Column("name", String(40), primary_key=True),
    Column("slot", String(1), primary_key=True),
    Column("position", BigInteger, nullable=False),  # last notification id applied
    Column("updated_at", UtcDateTime()),
)


# --- views, per slot -----------------------------------------------------------------------


def _shipments(slot: str) -> Table:
    return Table(
        f"shipments_{slot}", metadata,
        Column("shipment_id", String(36), primary_key=True),
        Column("version", Integer, nullable=False),
        Column("status", String(20), nullable=False),
        Column("customer_id", String(100), nullable=False),
        Column("cs_owner", String(100), nullable=False),
        Column("office", String(10), nullable=False),
        Column("pol", String(5), nullable=False),
        Column("pod", String(5)),
        Column("carrier", String(100)),
        Column("carrier_booking_no", String(100)),
        Column("vessel", String(100)),
        Column("voyage", String(40)),
        Column("etd", UtcDateTime()),
        Column("etd_actual", Boolean, nullable=False, default=False),
        Column("eta", UtcDateTime()),
        Column("eta_actual", Boolean, nullable=False, default=False),
        Column("containers", Text, nullable=False, default=""),
        Column("bl_number", String(100)),
        Column("open_exceptions", Integer, nullable=False, default=0),
        Column("sailing_outcome", String(10)),
        Column("booked_at", UtcDateTime(), nullable=False),
        Column("updated_at", UtcDateTime(), nullable=False),
        Column("summary", JSON, nullable=False),
        Index(f"ix_shipments_{slot}_booked", "booked_at", "shipment_id"),
        Index(f"ix_shipments_{slot}_customer", "customer_id"),
        Index(f"ix_shipments_{slot}_status", "status"),
        Index(f"ix_shipments_{slot}_eta", "eta"),
    )


def _shipment_refs(slot: str) -> Table:
    return Table(
        f"shipment_refs_{slot}", metadata,
        Column("shipment_id", String(36), primary_key=True),
        Column("kind", String(20), primary_key=True),  # po, customer_ref, booking, bl, container
        Column("value", String(200), primary_key=True),  # upper-cased
        Index(f"ix_shipment_refs_{slot}_value", "value"),
    )


def _bl_drafts(slot: str) -> Table:
    return Table(
        f"bl_drafts_{slot}", metadata,
        Column("shipment_id", String(36), primary_key=True),
        Column("version", Integer, nullable=False),  # current draft version
        Column("status", String(10), nullable=False),  # DRAFT, APPROVED, ISSUED
        Column("approved_version", Integer),
        Column("document", JSON, nullable=False),
        Column("updated_at", UtcDateTime(), nullable=False),
    )


def _bl_draft_versions(slot: str) -> Table:
    return Table(
        f"bl_draft_versions_{slot}", metadata,
        Column("shipment_id", String(36), primary_key=True),
        Column("version", Integer, primary_key=True),
        Column("document", JSON, nullable=False),
        Column("caused_by", String(60), nullable=False),  # event type
        Column("event_version", Integer, nullable=False),  # the shipment's version then
        Column("actor", String(200), nullable=False),
        Column("recorded_at", UtcDateTime(), nullable=False),
    )


def _sla_timers(slot: str) -> Table:
    return Table(
        f"sla_timers_{slot}", metadata,
        Column("shipment_id", String(36), primary_key=True),
        Column("timer", String(60), primary_key=True),  # key, unique per shipment
        Column("kind", String(40), nullable=False),
        Column("office", String(10), nullable=False),
        Column("customer_id", String(100), nullable=False),
        Column("cs_owner", String(100), nullable=False),
        Column("state", String(10), nullable=False),  # open, met, breached, cancelled
        Column("started_at", UtcDateTime(), nullable=False),
        Column("due_at", UtcDateTime(), nullable=False),
        Column("met_at", UtcDateTime()),
        Column("breached_at", UtcDateTime()),
        Column("late", Boolean, nullable=False, default=False),
        Index(f"ix_sla_timers_{slot}_due", "state", "due_at"),
        Index(f"ix_sla_timers_{slot}_office", "office", "state"),
    )


@dataclass(frozen=True)
class SlotTables:
    slot: str
    shipments: Table
    shipment_refs: Table
    bl_drafts: Table
    bl_draft_versions: Table
    sla_timers: Table


SLOT_TABLES: dict[str, SlotTables] = {
    slot: SlotTables(slot, _shipments(slot), _shipment_refs(slot), _bl_drafts(slot),
                     _bl_draft_versions(slot), _sla_timers(slot))
    for slot in SLOTS
}


def other_slot(slot: str) -> str:
    return "b" if slot == "a" else "a"
