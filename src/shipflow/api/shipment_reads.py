"""Shipment reads: search and look-up (from the ``shipments`` view), the current state, the
state as of a time or version, and the audit history (from the events).

A customer key gets the customer view (:mod:`shipflow.projections.customer_view`) of each;
anything not its own is ``shipment_not_found``, decided before any version or time is looked
at, so no variant of a request tells another customer's shipment from a random id.

Search and look-up come first: ``/shipments/lookup`` is not a shipment id."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel
from pydantic_core import to_jsonable_python
from sqlalchemy import Connection

from shipflow.api.auth import Caller, require_visible, scope_customer, visible
from shipflow.api.deps import ReadSide, Service, consistent, own_shipment
from shipflow.api.errors import ERRORS, refuse
from shipflow.api.shipment_schemas import EventRecord, ShipmentView
from shipflow.auth.keys import Principal
from shipflow.events.common import UtcDatetime
from shipflow.events.shipment.aggregate import Shipment
from shipflow.projections import customer_view
from shipflow.projections import search as sv
from shipflow.projections.sla import tables as sla_tables
from shipflow.projections.sla.rows import next_due

router = APIRouter(prefix="/shipments", tags=["shipment reads"], responses=ERRORS)

_NOT_PAYLOAD = {"originator_id", "originator_version", "timestamp", "originator_topic", "meta"}


def shipment_view(s: Shipment) -> ShipmentView:
    return ShipmentView(
        id=s.id, version=s.version, created_at=s.created_on, modified_at=s.modified_on,
        status=s.status, order=s.order, review_outcome=s.review_outcome,
        open_violations=s.open_violations, confirmations=s.confirmations,
        carrier_confirmation=s.confirmation, vessel_voyage=s.vessel_voyage, legs=s.legs,
        etd=s.etd, eta=s.eta, departed=s.departed, timeline=s.timeline,
        last_milestone=s.last_milestone, amendments=s.amendments,
        shipping_instructions=s.shipping_instructions, si_revision=s.si_revision,
        exceptions=s.exceptions, charges=s.charges, bl=s.bl,
        bl_approval_current=s.bl_approval_current, bl_issue=s.bl_issue,
        sailing_outcome=s.sailing_outcome)


def event_record(event: Any) -> EventRecord:
    meta = event.meta
    payload = {k: v for k, v in vars(event).items() if k not in _NOT_PAYLOAD}
    return EventRecord(
        type=type(event).__name__, version=event.originator_version,
        recorded_at=event.timestamp, occurred_at=meta.occurred_at, actor=meta.actor,
        role=meta.role, source=str(meta.source), correlation_id=meta.correlation_id,
        causation_id=meta.causation_id, external_id=meta.external_id,
        payload=to_jsonable_python(payload))


# --- search (the view) ----------------------------------------------------------------------


class ShipmentSummary(BaseModel):
    shipment_id: str
    version: int
    status: str
    customer_id: str
    cs_owner: str
    office: str
    pol: str
    pod: str | None
    carrier: str | None
    carrier_booking_no: str | None
    vessel: str | None
    voyage: str | None
    etd: datetime | None
    etd_actual: bool
    eta: datetime | None
    eta_actual: bool
    containers: list[str]
    bl_number: str | None
    open_exceptions: int
    sailing_outcome: str | None
    booked_at: datetime
    updated_at: datetime
    next_sla_due: datetime | None = None
    references: dict[str, Any]


class ShipmentPage(BaseModel):
    items: list[ShipmentSummary]
    next_cursor: str | None


def _summary(row: dict[str, Any], next_due: dict[str, datetime]) -> ShipmentSummary:
    summary = row.pop("summary")
    row["containers"] = summary.get("containers", [])
    return ShipmentSummary(**row, next_sla_due=next_due.get(row["shipment_id"]),
                           references=summary)


def _sla_kinds(caller: Principal) -> frozenset[str] | None:
    """The timers a caller's summaries count: a customer's only those it was promised."""
    return customer_view.CUSTOMER_TIMERS if caller.is_customer else None


def _next_due(conn: Connection, ids: list[str], caller: Principal) -> dict[str, datetime]:
    return {str(k): v for k, v in next_due(conn, sla_tables.active(conn), ids,
                                           kinds=_sla_kinds(caller)).items()}


@router.get("", response_model=ShipmentPage, summary="Search shipments",
            dependencies=[consistent("shipments")])
def search_shipments(
    rm: ReadSide, caller: Caller,
    status: Annotated[list[str], Query(description="one or more DCSA booking statuses")] = [],  # noqa: B006
    customer: str | None = None, cs_owner: str | None = None, office: str | None = None,
    pol: str | None = None, pod: str | None = None, carrier: str | None = None,
    vessel: Annotated[str | None, Query(description="part of the vessel name")] = None,
    eta_from: UtcDatetime | None = None, eta_to: UtcDatetime | None = None,
    has_open_exception: bool | None = None,
    overdue_sla: Annotated[bool | None, Query(description="an SLA timer is past due")] = None,
    q: Annotated[str | None, Query(min_length=2, description=(
        "part of a reference: PO, customer reference, booking, B/L or container number"))] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
) -> ShipmentPage:
    filters = sv.SearchFilters(
        status=status, customer_id=scope_customer(caller, customer), cs_owner=cs_owner,
        office=office, pol=pol, pod=pod, carrier=carrier, vessel=vessel, eta_from=eta_from,
        eta_to=eta_to, has_open_exception=has_open_exception, overdue_sla=overdue_sla,
        sla_kinds=_sla_kinds(caller), q=q)
    if cursor is not None:
        try:
            sv.decode_cursor(cursor)
        except ValueError:
            raise refuse(400, "cursor_invalid", "Bad cursor",
                         "use the next_cursor of a page") from None
    with rm.engine.connect() as conn:  # one connection for the whole read
        rows = sv.search(conn, sv.active(conn), sla_tables.active(conn), filters,
                         now=datetime.now(UTC), limit=limit + 1, cursor=cursor)
        page, more = rows[:limit], len(rows) > limit
        due = _next_due(conn, [r["shipment_id"] for r in page], caller)
    return ShipmentPage(items=[_summary(r, due) for r in page],
                        next_cursor=sv.encode_cursor(page[-1]) if more else None)


@router.get("/lookup", response_model=list[ShipmentSummary],
            summary="Find shipments by any reference (PO, booking, B/L, container)",
            dependencies=[consistent("shipments")])
def lookup(rm: ReadSide, caller: Caller,
           ref: Annotated[str, Query(min_length=2)]) -> list[ShipmentSummary]:
    with rm.engine.connect() as conn:
        rows = [r for r in sv.lookup(conn, sv.active(conn), ref)
                if visible(caller, r["customer_id"])]
        due = _next_due(conn, [r["shipment_id"] for r in rows], caller)
    return [_summary(r, due) for r in rows]


# --- one shipment (the events) ---------------------------------------------------------------


@router.get("/{shipment_id}", response_model=ShipmentView | customer_view.CustomerShipment,
            summary="The shipment now, or as it was at a time or version",
            description="A customer key gets `CustomerShipment`: see docs/api-access.md.")
def get_shipment(
    shipment_id: UUID, svc: Service, response: Response, caller: Caller,
    as_of: Annotated[UtcDatetime | None, Query(
        description="state as recorded at this moment (ISO 8601 with offset)")] = None,
    version: Annotated[int | None, Query(ge=1, le=2**31 - 1,
                                         description="state at this version")] = None,
) -> ShipmentView | customer_view.CustomerShipment:
    if as_of is not None and version is not None:
        raise refuse(400, "as_of_or_version", "Ambiguous request",
                     "ask for as_of or version, not both")
    own_shipment(svc, caller, shipment_id)  # before any time or version is looked at
    shipment = (svc.get_as_of(shipment_id, as_of) if as_of is not None
                else svc.get(shipment_id, version=version))
    if version is not None and shipment.version != version:
        raise refuse(404, "version_not_found", "No such version",
                     f"the shipment has {shipment.version} versions")
    response.headers["ETag"] = f'"{shipment.version}"'
    if caller.is_customer:
        return customer_view.shipment_view(
            shipment, customer_view.customer_for(svc.store, shipment.order.customer_id))
    return shipment_view(shipment)


@router.get("/{shipment_id}/events", response_model=list[EventRecord | customer_view.CustomerEvent],
            summary="The full audit history of a shipment",
            description="A customer key gets the customer's history (`CustomerEvent`): only the "
                        "facts it may see, without staff names; see docs/api-access.md.")
def get_events(shipment_id: UUID, svc: Service, caller: Caller
               ) -> list[EventRecord] | list[customer_view.CustomerEvent]:
    history = svc.history(shipment_id)
    customer_id = history[0].order.customer_id
    require_visible(caller, customer_id, "shipment_not_found", f"no shipment {shipment_id}")
    if caller.is_customer:
        customer = customer_view.customer_for(svc.store, customer_id)
        return customer_view.shipment_history(history, customer)
    return [event_record(e) for e in history]
