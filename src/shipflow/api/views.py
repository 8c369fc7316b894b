"""Reads served from the projections (read models): shipment search and look-up, and the
projections' own status. A read may ask to see its own writes with ``min_position``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from pydantic import BaseModel

from shipflow.api.auth import STAFF, Caller, allow, scope_customer, visible
from shipflow.api.commands import ERRORS
from shipflow.api.errors import refuse
from shipflow.events.values import UtcDatetime
from shipflow.projections import search as sv
from shipflow.projections.read_models import ReadModels

router = APIRouter(tags=["views"], responses=ERRORS)


def read_models(request: Request) -> ReadModels:
    return request.app.state.read_models


ReadSide = Annotated[ReadModels, Depends(read_models)]


def consistent(*names: str):  # noqa: ANN201 - a FastAPI dependency factory
    """Wait until the named views have applied the log up to the client's position."""

    def wait(rm: ReadSide,
             min_position: Annotated[int | None, Query(
                 ge=0, description="the `position` a command returned: wait until the view "
                                   "includes it")] = None,
             x_min_position: Annotated[int | None, Header(ge=0)] = None,
             wait_s: Annotated[float, Query(gt=0, le=30, description="how long to wait")] = 5.0,
             ) -> None:
        wanted = max(p for p in (min_position, x_min_position, 0) if p is not None)
        if not wanted:
            return
        if wanted > (rm.store.recorder.max_notification_id() or 0):
            raise refuse(422, "position_beyond_log", "No such position", f"nothing has been "
                         f"written at position {wanted} yet", "min_position")
        if not rm.wait_for(wanted, names, wait_s):
            raise refuse(503, "view_behind", "The view is behind",
                         f"the view has not reached position {wanted} within {wait_s}s; retry")

    return Depends(wait)


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


def _next_due(rm: ReadModels, conn: Any, ids: list[str]) -> dict[str, datetime]:
    from shipflow.sla.timers import next_due

    return {str(k): v for k, v in next_due(conn, rm.tables("sla"), ids).items()}


@router.get("/shipments", response_model=ShipmentPage, summary="Search shipments",
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
        eta_to=eta_to, has_open_exception=has_open_exception, overdue_sla=overdue_sla, q=q)
    try:
        cursor_ok = cursor is None or sv.decode_cursor(cursor)
    except ValueError:
        cursor_ok = False
    if not cursor_ok:
        raise refuse(400, "cursor_invalid", "Bad cursor", "use the next_cursor of a page")
    with rm.engine.connect() as conn:
        rows = sv.search(conn, rm.tables("shipments"), rm.tables("sla"), filters,
                         now=datetime.now(UTC), limit=limit + 1, cursor=cursor)
        page, more = rows[:limit], len(rows) > limit
        due = _next_due(rm, conn, [r["shipment_id"] for r in page])
    return ShipmentPage(items=[_summary(r, due) for r in page],
                        next_cursor=sv.encode_cursor(page[-1]) if more else None)


@router.get("/shipments/lookup", response_model=list[ShipmentSummary],
            summary="Find shipments by any reference (PO, booking, B/L, container)",
            dependencies=[consistent("shipments")])
def lookup(rm: ReadSide, caller: Caller,
           ref: Annotated[str, Query(min_length=2)]) -> list[ShipmentSummary]:
    with rm.engine.connect() as conn:
        rows = [r for r in sv.lookup(conn, rm.tables("shipments"), ref)
                if visible(caller, r["customer_id"])]
        due = _next_due(rm, conn, [r["shipment_id"] for r in rows])
    return [_summary(r, due) for r in rows]


class ViewStatusOut(BaseModel):
    name: str
    active_slot: str
    position: int
    head: int
    lag: int


@router.get("/projections", response_model=list[ViewStatusOut], tags=["service"],
            summary="Each view's position in the event log and its lag",
            dependencies=[allow(STAFF)])
def projection_status(rm: ReadSide) -> list[ViewStatusOut]:
    return [ViewStatusOut(name=s.name, active_slot=s.active_slot, position=s.position,
                          head=s.head, lag=s.lag) for s in rm.status()]
