"""The ``sla_timers_{slot}`` rows (:mod:`.tables`): writing a shipment's timers, and the reads
the API and the ticker make (a shipment's timers, the desk's work queue, the next due time per
shipment)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from sqlalchemy import ColumnElement, Connection, and_, delete, func, or_, select, tuple_

from shipflow.database import upsert
from shipflow.projections.sla.tables import TABLES, SlaTables

if TYPE_CHECKING:
    from shipflow.projections.sla.timers import SlaTimer

_CHUNK = 500  # ids per IN (...) list, well under every driver's parameter limit


def _row(t: SlaTimer) -> dict[str, Any]:
    return {"shipment_id": str(t.shipment_id), "timer": t.key, "kind": t.kind,
            "office": t.office, "customer_id": t.customer_id, "cs_owner": t.cs_owner,
            "state": t.state, "started_at": t.started_at, "due_at": t.due_at,
            "met_at": t.met_at, "breached_at": t.breached_at, "late": t.late}


def _timer(row: Any) -> SlaTimer:
    from shipflow.projections.sla.timers import SlaTimer

    m = row._mapping
    return SlaTimer(shipment_id=UUID(m["shipment_id"]), key=m["timer"], kind=m["kind"],
                    office=m["office"], customer_id=m["customer_id"], cs_owner=m["cs_owner"],
                    started_at=m["started_at"], due_at=m["due_at"], met_at=m["met_at"],
                    breached_at=m["breached_at"], state=m["state"], late=bool(m["late"]))


def write(conn: Connection, slot: str,
          changes: Mapping[UUID, tuple[Sequence[SlaTimer] | None, Sequence[SlaTimer] | None]]
          ) -> None:
    """Make the rows say ``after`` for each shipment (``before``: what they said, or None
    when unknown). Upserts what changed, deletes timers that are gone."""
    table = TABLES[slot].sla_timers
    upserts: list[dict[str, Any]] = []
    for sid, (before, after) in changes.items():
        old = {t.key: t for t in before or ()}
        new = {t.key: t for t in after or ()}
        upserts += [_row(t) for k, t in new.items() if old.get(k) != t]
        if after is None:
            conn.execute(delete(table).where(table.c.shipment_id == str(sid)))
        elif old.keys() - new.keys():  # `before` None means no rows: nothing to delete
            conn.execute(delete(table).where(table.c.shipment_id == str(sid),
                                             table.c.timer.not_in(list(new))))
    upsert(conn, table, ("shipment_id", "timer"), upserts)


def clear(conn: Connection, slot: str) -> None:
    conn.execute(delete(TABLES[slot].sla_timers))


def timers_for(conn: Connection, tables: SlaTables, shipment_id: UUID | str) -> list[SlaTimer]:
    """One shipment's timers, earliest due first."""
    t = tables.sla_timers
    result = conn.execute(select(t).where(t.c.shipment_id == str(shipment_id))
                          .order_by(t.c.due_at, t.c.timer))
    return [_timer(r) for r in result]


def work_queue(conn: Connection, tables: SlaTables, state: str | Collection[str] | None = None,
               office: str | None = None, kind: str | None = None,
               due_before: datetime | None = None, customer_id: str | None = None,
               cs_owner: str | None = None, limit: int = 100,
               after: tuple[datetime, str, str] | None = None,
               kinds: Collection[str] | None = None) -> list[SlaTimer]:
    """Timers for the desk, earliest due first: filter by state (one or several), office,
    kind (or only ``kinds``), customer, CS owner, due before a time. Keyset pages: pass the
    last item's ``(due_at, shipment_id, key)`` as ``after`` to get the next page."""
    t = tables.sla_timers
    conds: list[ColumnElement[bool]] = []
    if state is not None:
        states = [state] if isinstance(state, str) else list(state)
        conds.append(t.c.state.in_(states))
    if office is not None:
        conds.append(t.c.office == office.strip().upper())
    if kind is not None:
        conds.append(t.c.kind == kind)
    if kinds is not None:
        conds.append(t.c.kind.in_(list(kinds)))
    if customer_id is not None:
        conds.append(t.c.customer_id == customer_id)
    if cs_owner is not None:
        conds.append(t.c.cs_owner == cs_owner)
    if due_before is not None:
        conds.append(t.c.due_at < due_before)
    if after is not None:
        due, sid, key = after
        conds.append(or_(t.c.due_at > due, and_(t.c.due_at == due, tuple_(
            t.c.shipment_id, t.c.timer) > tuple_(str(sid), key))))
    query = (select(t).where(*conds).order_by(t.c.due_at, t.c.shipment_id, t.c.timer)
             .limit(limit))
    return [_timer(r) for r in conn.execute(query)]


def due_open(conn: Connection, tables: SlaTables, now: datetime,
             limit: int = 1000) -> list[tuple[UUID, str]]:
    """``(shipment_id, key)`` of open timers due at or before ``now``, earliest first."""
    t = tables.sla_timers
    result = conn.execute(select(t.c.shipment_id, t.c.timer)
                          .where(t.c.state == "open", t.c.due_at <= now)
                          .order_by(t.c.due_at, t.c.shipment_id, t.c.timer).limit(limit))
    return [(UUID(sid), key) for sid, key in result]


def next_due(conn: Connection, tables: SlaTables, shipment_ids: Iterable[UUID | str],
             states: Collection[str] = ("open",),
             kinds: Collection[str] | None = None) -> dict[UUID, datetime]:
    """The earliest due time of each shipment's open timers (shipments without one are
    absent), of any kind or only ``kinds``. Breached timers are past due already and not
    counted, unless ``states`` says so (``("open", "breached")``: every unmet timer)."""
    t = tables.sla_timers
    ids = list(dict.fromkeys(str(i) for i in shipment_ids))
    found: dict[UUID, datetime] = {}
    of_kind = [t.c.kind.in_(list(kinds))] if kinds is not None else []
    for start in range(0, len(ids), _CHUNK):
        result = conn.execute(
            select(t.c.shipment_id, func.min(t.c.due_at))
            .where(t.c.shipment_id.in_(ids[start:start + _CHUNK]),
                   t.c.state.in_(list(states)), *of_kind)
            .group_by(t.c.shipment_id))
        for sid, due in result:
            found[UUID(sid)] = _aware(due)
    return found


def _aware(value: Any) -> datetime:
    # In case a driver hands an aggregate back without the column's type decorator.
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
