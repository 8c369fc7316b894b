"""The ``sla`` view's table: one row per timer of a shipment (slots ``a`` and ``b``)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Boolean, Column, Connection, Index, String, Table

from shipflow.database import UtcDateTime, metadata
from shipflow.projections.engine import slots

NAME = "sla"


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
class SlaTables:
    slot: str
    sla_timers: Table


TABLES = slots.by_slot(lambda slot: SlaTables(slot, _sla_timers(slot)))


def active(conn: Connection) -> SlaTables:
    """The live slot's table, read on the caller's connection."""
    return TABLES[slots.active_slot(conn, NAME)]
