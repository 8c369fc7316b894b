"""Which slot of a view is live, and how far each follower of the log has read it.

Every view has two physical copies of its tables, slot ``a`` and slot ``b``: readers use the
active slot while a rebuild fills the other, then the active slot switches in one
transaction (blue/green), so nobody reads a half-built view.

A follower's position moves by **compare-and-set** (:func:`compare_and_set`) in the same
transaction as what it wrote: a second follower that raced it loses the CAS, what it wrote
rolls back, and it retries from the new position — so every event is applied exactly once.
The projection runner (one transaction per view) and the webhook dispatcher both use it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy import BigInteger, Column, Connection, String, Table, select, update

from shipflow.database import UtcDateTime, insert, metadata

SLOTS = ("a", "b")

T = TypeVar("T")

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


class LostRace(Exception):
    """Another follower moved the position first; this batch must be rolled back."""


def by_slot(tables: Callable[[str], T]) -> Mapping[str, T]:
    """A view's tables in each slot (``tables(slot)`` defines them once per slot)."""
    return {slot: tables(slot) for slot in SLOTS}


def other_slot(slot: str) -> str:
    return "b" if slot == "a" else "a"


def compare_and_set(conn: Connection, table: Table, key: Mapping[str, str], start: int,
                    end: int) -> None:
    """Move the position in ``table``'s row ``key`` from ``start`` to ``end``, or raise
    :class:`LostRace` when somebody else moved it."""
    result = conn.execute(
        update(table).where(*(table.c[k] == v for k, v in key.items()),
                            table.c.position == start)
        .values(position=end, updated_at=datetime.now(UTC)))
    if result.rowcount != 1:
        raise LostRace(f"{table.name} {dict(key)} moved past {start}")


# --- a view's slots and positions ----------------------------------------------------------


def ensure_registered(conn: Connection, name: str) -> None:
    """Create the bookkeeping rows of a projection the first time it is seen."""
    now = datetime.now(UTC)
    conn.execute(insert(conn, projection_slots).values(
        name=name, active_slot="a", switched_at=now).on_conflict_do_nothing())
    for slot in SLOTS:
        conn.execute(insert(conn, projection_tracking).values(
            name=name, slot=slot, position=0, updated_at=now).on_conflict_do_nothing())


def active_slot(conn: Connection, name: str) -> str:
    slot = conn.execute(select(projection_slots.c.active_slot)
                        .where(projection_slots.c.name == name)).scalar()
    return slot or "a"


def position(conn: Connection, name: str, slot: str, for_update: bool = False) -> int:
    """``for_update``: and hold the row until the transaction ends (PostgreSQL; SQLite has
    one writer at a time anyway)."""
    query = select(projection_tracking.c.position).where(
        projection_tracking.c.name == name, projection_tracking.c.slot == slot)
    pos = conn.execute(query.with_for_update() if for_update else query).scalar()
    return int(pos or 0)


def advance(conn: Connection, name: str, slot: str, start: int, end: int) -> None:
    """Move the view's slot from ``start`` to ``end`` (:func:`compare_and_set`)."""
    compare_and_set(conn, projection_tracking, {"name": name, "slot": slot}, start, end)


def reset(conn: Connection, name: str, slot: str) -> None:
    conn.execute(update(projection_tracking).where(
        projection_tracking.c.name == name, projection_tracking.c.slot == slot)
        .values(position=0, updated_at=datetime.now(UTC)))


def switch(conn: Connection, name: str, slot: str) -> None:
    conn.execute(update(projection_slots).where(projection_slots.c.name == name)
                 .values(active_slot=slot, switched_at=datetime.now(UTC)))
