"""Which slot of a projection is live, and how far each slot has read the event log."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, select, update
from sqlalchemy.dialects import postgresql, sqlite

from shipflow.projections.tables import (
    SLOT_TABLES,
    SLOTS,
    SlotTables,
    projection_slots,
    projection_tracking,
)


def _insert(conn: Connection, table, **values):  # noqa: ANN001, ANN202
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).values(**values).on_conflict_do_nothing()


def ensure_registered(conn: Connection, name: str) -> None:
    """Create the bookkeeping rows of a projection the first time it is seen."""
    conn.execute(_insert(conn, projection_slots, name=name, active_slot="a",
                         switched_at=datetime.now(UTC)))
    for slot in SLOTS:
        conn.execute(_insert(conn, projection_tracking, name=name, slot=slot, position=0,
                             updated_at=datetime.now(UTC)))


def active_slot(conn: Connection, name: str) -> str:
    slot = conn.execute(select(projection_slots.c.active_slot)
                        .where(projection_slots.c.name == name)).scalar()
    return slot or "a"


def active_tables(conn: Connection, name: str) -> SlotTables:
    return SLOT_TABLES[active_slot(conn, name)]


def position(conn: Connection, name: str, slot: str) -> int:
    pos = conn.execute(select(projection_tracking.c.position).where(
        projection_tracking.c.name == name, projection_tracking.c.slot == slot)).scalar()
    return int(pos or 0)


def advance(conn: Connection, name: str, slot: str, start: int, end: int) -> bool:
    """Move the slot's position from ``start`` to ``end`` if nobody else moved it (CAS)."""
    result = conn.execute(update(projection_tracking).where(
        projection_tracking.c.name == name, projection_tracking.c.slot == slot,
        projection_tracking.c.position == start).values(position=end,
                                                        updated_at=datetime.now(UTC)))
    return result.rowcount == 1


def reset(conn: Connection, name: str, slot: str) -> None:
    conn.execute(update(projection_tracking).where(
        projection_tracking.c.name == name, projection_tracking.c.slot == slot)
        .values(position=0, updated_at=datetime.now(UTC)))


def switch(conn: Connection, name: str, slot: str) -> None:
    conn.execute(update(projection_slots).where(projection_slots.c.name == name)
                 .values(active_slot=slot, switched_at=datetime.now(UTC)))
