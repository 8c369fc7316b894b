"""The "tnt_events" view: every shipment's history as DCSA Track & Trace 2.2 events, for
``GET /dcsa/tnt/v2/events`` (the mapping is :mod:`shipflow.integrations.dcsa_tnt_out`).

Per shipment the view keeps its customer and current references (carrier booking, transport
document), which the query filters by, and its DCSA events in the order they were recorded
(``seq``). Events are never rewritten: a rebuild gives the same events with the same ids.

Pages are read in recording order (``eventCreatedDateTime``, then shipment and sequence)
from a keyset cursor, so a page costs the same however deep it is and a poller that follows
``Next-Page`` sees every event once, also those recorded while it pages.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    JSON,
    Column,
    Connection,
    Index,
    Integer,
    String,
    Table,
    and_,
    delete,
    or_,
    select,
)

from shipflow.database import UtcDateTime, metadata, upsert
from shipflow.events.shipment.aggregate import Shipment
from shipflow.integrations.dcsa_tnt_out import (
    booking_request_reference,
    tnt_events,
    transport_document_reference,
)
from shipflow.projections.engine import slots
from shipflow.projections.engine.base import Change, Projection

NAME = "tnt_events"


def _events(slot: str) -> Table:
    return Table(
        f"tnt_events_{slot}", metadata,
        Column("shipment_id", String(36), primary_key=True),
        Column("seq", Integer, primary_key=True),
        Column("event_id", String(36), nullable=False),
        Column("event_type", String(10), nullable=False),
        Column("type_code", String(4), nullable=False),
        Column("document_type_code", String(3)),
        Column("equipment_reference", String(15)),
        Column("un_location_code", String(5)),
        Column("vessel_imo", String(8)),
        Column("voyage", String(50)),
        Column("transport_call_id", String(100)),
        Column("created_at", UtcDateTime(), nullable=False),
        Column("document", JSON, nullable=False),
        Index(f"ix_tnt_events_{slot}_order", "created_at", "shipment_id", "seq"),
    )


def _shipments(slot: str) -> Table:
    return Table(
        f"tnt_shipments_{slot}", metadata,
        Column("shipment_id", String(36), primary_key=True),
        Column("customer_id", String(100), nullable=False, index=True),
        Column("booking_request_reference", String(100), index=True),
        Column("carrier_booking_reference", String(100), index=True),
        Column("transport_document_reference", String(100), index=True),
    )


@dataclass(frozen=True)
class TntTables:
    slot: str
    events: Table
    shipments: Table


TABLES = slots.by_slot(lambda slot: TntTables(slot, _events(slot), _shipments(slot)))


def active(conn: Connection) -> TntTables:
    return TABLES[slots.active_slot(conn, NAME)]


@dataclass(frozen=True)
class TntView:
    customer_id: str
    booking_request_reference: str
    carrier_booking_reference: str | None
    transport_document_reference: str | None
    events: tuple[dict[str, Any], ...]  # the rows, oldest first (seq = index)

    def shipment_row(self, shipment_id: UUID) -> dict[str, Any]:
        return {"shipment_id": str(shipment_id), "customer_id": self.customer_id,
                "booking_request_reference": self.booking_request_reference,
                "carrier_booking_reference": self.carrier_booking_reference,
                "transport_document_reference": self.transport_document_reference}


def _row(seq: int, created: datetime, doc: dict[str, Any]) -> dict[str, Any]:
    call = doc.get("transportCall") or {}
    location = (call.get("UNLocationCode") or (doc.get("eventLocation") or {}).get(
        "UNLocationCode"))
    code = (doc.get("shipmentEventTypeCode") or doc.get("transportEventTypeCode")
            or doc.get("equipmentEventTypeCode"))
    return {"seq": seq, "event_id": doc["eventID"], "event_type": doc["eventType"],
            "type_code": code, "document_type_code": doc.get("documentTypeCode"),
            "equipment_reference": doc.get("equipmentReference"),
            "un_location_code": location,
            "vessel_imo": (call.get("vessel") or {}).get("vesselIMONumber"),
            "voyage": call.get("exportVoyageNumber"),
            "transport_call_id": call.get("transportCallID"),
            "created_at": created, "document": doc}


class TntProjection(Projection[TntView]):
    name = NAME

    def evolve(self, view: TntView | None, event: Any, shipment: Shipment) -> TntView:
        docs = tnt_events(event, shipment)
        known = view.events if view is not None else ()
        rows = tuple(_row(len(known) + i, event.timestamp, d) for i, d in enumerate(docs))
        booking = shipment.confirmation.carrier_booking_no if shipment.confirmation else None
        after = TntView(shipment.order.customer_id, booking_request_reference(shipment), booking,
                        transport_document_reference(shipment), (*known, *rows))
        if view is not None and not rows and replace(view, events=()) == replace(
                after, events=()):
            return view
        return after

    def write(self, conn: Connection, slot: str,
              changes: Mapping[UUID, Change[TntView]]) -> None:
        t = TABLES[slot]
        shipments, rows, gone = [], [], []
        for sid, change in changes.items():
            if change.after is None:
                gone.append(str(sid))
                continue
            known = len(change.before.events) if change.before is not None else 0
            shipments.append(change.after.shipment_row(sid))
            rows += [{"shipment_id": str(sid), **r} for r in change.after.events[known:]]
        if gone:
            conn.execute(delete(t.events).where(t.events.c.shipment_id.in_(gone)))
            conn.execute(delete(t.shipments).where(t.shipments.c.shipment_id.in_(gone)))
        upsert(conn, t.shipments, ["shipment_id"], shipments)
        if rows:
            conn.execute(t.events.insert(), rows)

    def clear(self, conn: Connection, slot: str) -> None:
        t = TABLES[slot]
        conn.execute(delete(t.events))
        conn.execute(delete(t.shipments))


# --- the query -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TntFilters:
    """The T&T 2.2 query parameters shipflow answers (each list: any of its values)."""

    event_types: tuple[str, ...] = ()
    type_codes: tuple[str, ...] = ()  # shipment / transport / equipment event type codes
    document_type_codes: tuple[str, ...] = ()
    carrier_booking_reference: str | None = None
    transport_document_reference: str | None = None
    equipment_reference: str | None = None
    un_location_code: str | None = None
    vessel_imo: str | None = None
    voyage: str | None = None
    transport_call_id: str | None = None
    created: tuple[tuple[str, str], ...] = ()  # (operator, ISO time): gte, gt, lte, lt, eq
    customer_id: str | None = None
    limit: int = 100

    def as_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v not in ((), None)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TntFilters:
        tuples = {"event_types", "type_codes", "document_type_codes"}
        known = {k: tuple(v) if k in tuples else (
            tuple(tuple(p) for p in v) if k == "created" else v) for k, v in data.items()}
        unknown = set(known) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown filters {sorted(unknown)}")
        values: dict[str, Any] = known
        return cls(**values)


def encode_cursor(filters: TntFilters, key: tuple[str, str, int] | None, before: bool) -> str:
    raw = json.dumps({"f": filters.as_json(), "k": key, "b": before}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[TntFilters, tuple[str, str, int] | None, bool]:
    """Raises ValueError for a cursor this server did not make."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        key = raw["k"]
        return (TntFilters.from_json(raw["f"]),
                (key[0], key[1], int(key[2])) if key else None, bool(raw["b"]))
    except (ValueError, KeyError, TypeError, IndexError) as e:
        raise ValueError("not a cursor of this server") from e


_OPS = {"gte": "__ge__", "gt": "__gt__", "lte": "__le__", "lt": "__lt__", "eq": "__eq__"}


@dataclass(frozen=True)
class Page:
    events: list[dict[str, Any]]
    first_key: tuple[str, str, int] | None
    last_key: tuple[str, str, int] | None
    has_next: bool  # events after this page
    has_prev: bool  # events before this page (as far as the cursor tells)


def read_page(conn: Connection, t: TntTables, f: TntFilters,
              key: tuple[str, str, int] | None = None, before: bool = False) -> Page:
    e, s = t.events, t.shipments
    where: list[Any] = []
    for values, col in ((f.event_types, e.c.event_type), (f.type_codes, e.c.type_code),
                        (f.document_type_codes, e.c.document_type_code)):
        if values:
            where.append(col.in_(values))
    for value, col in ((f.equipment_reference, e.c.equipment_reference),
                       (f.un_location_code, e.c.un_location_code),
                       (f.vessel_imo, e.c.vessel_imo), (f.voyage, e.c.voyage),
                       (f.transport_call_id, e.c.transport_call_id),
                       (f.carrier_booking_reference, s.c.carrier_booking_reference),
                       (f.transport_document_reference, s.c.transport_document_reference),
                       (f.customer_id, s.c.customer_id)):
        if value is not None:
            where.append(col == value)
    for op, at in f.created:
        where.append(getattr(e.c.created_at, _OPS[op])(datetime.fromisoformat(at)))
    order = (e.c.created_at, e.c.shipment_id, e.c.seq)
    query = select(e.c.created_at, e.c.shipment_id, e.c.seq, e.c.document).select_from(
        e.join(s, s.c.shipment_id == e.c.shipment_id)).where(*where)
    if key is not None:
        when = datetime.fromisoformat(key[0])
        after = or_(e.c.created_at > when, and_(e.c.created_at == when, or_(
            e.c.shipment_id > key[1], and_(e.c.shipment_id == key[1], e.c.seq > key[2]))))
        earlier = or_(e.c.created_at < when, and_(e.c.created_at == when, or_(
            e.c.shipment_id < key[1], and_(e.c.shipment_id == key[1], e.c.seq < key[2]))))
        query = query.where(earlier if before else after)
    query = query.order_by(*(c.desc() for c in order) if before else order).limit(f.limit + 1)
    rows = list(conn.execute(query))
    more = len(rows) > f.limit
    rows = rows[:f.limit]
    if before:
        rows.reverse()
    keys = [(r.created_at.isoformat(), r.shipment_id, r.seq) for r in rows]
    came_from = key is not None
    return Page([r.document for r in rows], keys[0] if keys else None,
                keys[-1] if keys else None, has_next=came_from if before else more,
                has_prev=more if before else came_from)


def find_shipment(conn: Connection, t: TntTables, reference: str) -> tuple[str, str] | None:
    """The shipment (id, customer) a DCSA booking reference names: the booking request's
    reference or the carrier booking reference."""
    s = t.shipments
    row = conn.execute(select(s.c.shipment_id, s.c.customer_id).where(or_(
        s.c.booking_request_reference == reference,
        s.c.carrier_booking_reference == reference)).limit(1)).first()
    return (row.shipment_id, row.customer_id) if row is not None else None
