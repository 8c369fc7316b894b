"""Shipment search: one row per shipment, its references, and the queries the desks run.

The row is a pure function of the shipment's state after each event; references (PO,
customer reference, carrier booking number, B/L number, container numbers) go to their own
table so a look-up by any of them is an index hit.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    Index,
    Integer,
    String,
    Table,
    Text,
    and_,
    delete,
    exists,
    func,
    or_,
    select,
)

from shipflow.database import UtcDateTime, metadata, upsert
from shipflow.events.shipment.aggregate import Shipment
from shipflow.events.shipment.records import SailingOutcome
from shipflow.projections.engine import slots
from shipflow.projections.engine.base import Change, Projection
from shipflow.projections.sla.config import DEFAULT_CONFIG, SlaConfig
from shipflow.projections.sla.tables import SlaTables

NAME = "shipments"


# --- tables ----------------------------------------------------------------------------------


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


@dataclass(frozen=True)
class SearchTables:
    slot: str
    shipments: Table
    shipment_refs: Table


TABLES = slots.by_slot(lambda slot: SearchTables(slot, _shipments(slot), _shipment_refs(slot)))


def active(conn: Connection) -> SearchTables:
    """The live slot's tables, read on the caller's connection."""
    return TABLES[slots.active_slot(conn, NAME)]


# --- the view --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchRow:
    values: dict[str, Any]
    refs: frozenset[tuple[str, str]] = field(default_factory=frozenset)


def _refs(s: Shipment) -> frozenset[tuple[str, str]]:
    o = s.order
    refs = {("po", v) for v in o.po_numbers} | {("customer_ref", v)
                                                for v in o.customer_references}
    if s.confirmation:
        refs.add(("booking", s.confirmation.carrier_booking_no))
    if s.bl_issue:
        refs.add(("bl", s.bl_issue.bl_number))
    if s.shipping_instructions:
        refs |= {("container", c.container_no) for c in s.shipping_instructions.containers}
    return frozenset((kind, value.strip().upper()) for kind, value in refs if value.strip())


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t else None


def _times(planned: datetime | None, entry: Any) -> dict[str, str | None]:
    """Planned (the carrier's), latest estimate and actual time of a departure / arrival."""
    return {"planned": _iso(planned), "estimated": _iso(entry.estimated if entry else None),
            "actual": _iso(entry.actual if entry else None)}


def search_row(event: Any, s: Shipment, config: SlaConfig = DEFAULT_CONFIG) -> SearchRow:
    o, vv = s.order, s.vessel_voyage
    containers = ([c.container_no for c in s.shipping_instructions.containers]
                  if s.shipping_instructions else [])
    departure, arrival = s.departure, s.arrival
    last = s.last_milestone
    values = {
        "shipment_id": str(s.id), "version": s.version, "status": s.status.value,
        "customer_id": o.customer_id, "cs_owner": o.cs_owner,
        "office": config.office_code(o.office, o.pol),
        "pol": o.pol, "pod": o.pod,
        "carrier": s.confirmation.carrier if s.confirmation else o.carrier,
        "carrier_booking_no": s.confirmation.carrier_booking_no if s.confirmation else None,
        "vessel": vv.vessel if vv else None, "voyage": vv.voyage if vv else None,
        "etd": s.etd, "etd_actual": bool(departure and departure.actual),
        "eta": s.eta, "eta_actual": bool(arrival and arrival.actual),
        "containers": " ".join(containers),
        "bl_number": s.bl_issue.bl_number if s.bl_issue else None,
        "open_exceptions": len(s.open_exceptions),
        "sailing_outcome": s.sailing_outcome.value if s.sailing_outcome else None,
        "booked_at": s.created_on, "updated_at": event.timestamp,
        "summary": {
            "po_numbers": o.po_numbers, "customer_references": o.customer_references,
            "containers": containers,
            "planned_etd": s.planned_etd.isoformat() if s.planned_etd else None,
            "planned_eta": s.planned_eta.isoformat() if s.planned_eta else None,
            "departure": _times(s.planned_etd, departure),
            "arrival": _times(s.planned_eta, arrival),
            "place_of_delivery": o.place_of_delivery,
            "last_milestone": None if last is None else {
                "code": last.code, "classifier": last.classifier.value,
                "event_time": last.event_time.isoformat(), "location": last.location},
            "open_exception_kinds": sorted({e.exception.kind.value for e in s.open_exceptions}),
            "shipped": s.sailing_outcome is SailingOutcome.SHIPPED,
        },
    }
    return SearchRow(values, _refs(s))


class SearchProjection(Projection[SearchRow]):
    name = NAME
    state_only = True

    def __init__(self, config: SlaConfig = DEFAULT_CONFIG) -> None:
        self.config = config  # which office handles a booking

    def evolve(self, view: SearchRow | None, event: Any, shipment: Shipment) -> SearchRow:
        return search_row(event, shipment, self.config)

    def write(self, conn: Connection, slot: str,
              changes: Mapping[UUID, Change[SearchRow]]) -> None:
        tables = TABLES[slot]
        upsert(conn, tables.shipments, ["shipment_id"],
               [c.after.values for c in changes.values() if c.after is not None])
        moved = [(sid, c) for sid, c in changes.items()
                 if (c.before.refs if c.before else frozenset()) != (
                     c.after.refs if c.after else frozenset())]
        if moved:
            conn.execute(delete(tables.shipment_refs).where(
                tables.shipment_refs.c.shipment_id.in_([str(sid) for sid, _ in moved])))
            refs = [{"shipment_id": str(sid), "kind": kind, "value": value}
                    for sid, c in moved if c.after for kind, value in c.after.refs]
            if refs:
                conn.execute(tables.shipment_refs.insert(), refs)

    def clear(self, conn: Connection, slot: str) -> None:
        tables = TABLES[slot]
        conn.execute(delete(tables.shipment_refs))
        conn.execute(delete(tables.shipments))


# --- queries -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchFilters:
    status: list[str] = field(default_factory=list)
    customer_id: str | None = None
    cs_owner: str | None = None
    office: str | None = None
    pol: str | None = None
    pod: str | None = None
    carrier: str | None = None
    vessel: str | None = None
    eta_from: datetime | None = None
    eta_to: datetime | None = None
    has_open_exception: bool | None = None
    overdue_sla: bool | None = None
    sla_kinds: frozenset[str] | None = None  # overdue_sla counts only these kinds
    q: str | None = None  # any reference, or part of one


def encode_cursor(row: Mapping[str, Any]) -> str:
    raw = f"{row['booked_at'].isoformat()}|{row['shipment_id']}"
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    booked, sid = base64.urlsafe_b64decode(cursor.encode()).decode().split("|", 1)
    return datetime.fromisoformat(booked), sid


def search(conn: Connection, t: SearchTables, sla: SlaTables, f: SearchFilters, *,
           now: datetime, limit: int = 50, cursor: str | None = None) -> list[dict[str, Any]]:
    """Newest bookings first; ``cursor`` continues after the last row of a previous page."""
    s = t.shipments
    query = select(s)
    conds = []
    for column, value in (("customer_id", f.customer_id), ("cs_owner", f.cs_owner),
                          ("office", f.office), ("pol", f.pol), ("pod", f.pod),
                          ("carrier", f.carrier)):
        if value:
            conds.append(s.c[column] == value)
    if f.status:
        conds.append(s.c.status.in_(f.status))
    if f.vessel:
        conds.append(func.upper(s.c.vessel).contains(f.vessel.upper()))
    if f.eta_from:
        conds.append(s.c.eta >= f.eta_from)
    if f.eta_to:
        conds.append(s.c.eta <= f.eta_to)
    if f.has_open_exception is not None:
        conds.append(s.c.open_exceptions > 0 if f.has_open_exception
                     else s.c.open_exceptions == 0)
    if f.overdue_sla is not None:
        timer = sla.sla_timers.c
        of_kind = [timer.kind.in_(list(f.sla_kinds))] if f.sla_kinds is not None else []
        overdue = exists().where(timer.shipment_id == s.c.shipment_id,
                                 timer.state.in_(("open", "breached")), timer.due_at < now,
                                 *of_kind)
        conds.append(overdue if f.overdue_sla else ~overdue)
    if f.q:
        r = t.shipment_refs
        conds.append(exists().where(r.c.shipment_id == s.c.shipment_id,
                                    r.c.value.contains(f.q.strip().upper())))
    if cursor:
        booked, sid = decode_cursor(cursor)
        conds.append(or_(s.c.booked_at < booked,
                         and_(s.c.booked_at == booked, s.c.shipment_id < sid)))
    query = query.where(*conds).order_by(s.c.booked_at.desc(), s.c.shipment_id.desc())
    return [dict(r._mapping) for r in conn.execute(query.limit(limit))]


def lookup(conn: Connection, t: SearchTables, reference: str) -> list[dict[str, Any]]:
    """Shipments carrying exactly this reference (PO, booking, B/L, container, ...)."""
    r, s = t.shipment_refs, t.shipments
    ids = select(r.c.shipment_id).where(r.c.value == reference.strip().upper())
    query = select(s).where(s.c.shipment_id.in_(ids)).order_by(s.c.booked_at.desc())
    return [dict(row._mapping) for row in conn.execute(query)]
