"""DCSA Track & Trace 2.2 out: ``GET /dcsa/tnt/v2/events``, shipflow's own history (desk
milestones, feeds, confirmations, rollovers, B/L steps) as T&T events.

The specification's query parameters are answered (lists comma-separated, ``OR`` within
one); ``eventCreatedDateTime`` takes the operators ``:gte :gt :lte :lt :eq``. Pages follow
the specification's headers: ``Current-Page``, ``Next-Page`` (absent on the last page),
``Prev-Page`` and ``First-Page`` (absent on the first), each a link with a server-made
``cursor``; a cursor carries the query, so the other parameters are not repeated with it.
A customer key sees its own customer's events only.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import TypeAdapter, ValidationError

from shipflow.api.auth import ANYONE, allow, scope_customer
from shipflow.api.deps import ReadSide, consistent
from shipflow.api.errors import ERRORS, refuse
from shipflow.events.common import UtcDatetime
from shipflow.projections import tnt_events
from shipflow.projections.tnt_events import TntFilters

router = APIRouter(prefix="/dcsa/tnt/v2", tags=["DCSA Track & Trace 2.2"], responses=ERRORS,
                   dependencies=[allow(ANYONE)])

API_VERSION = "2.2.0"
PATH = "/dcsa/tnt/v2/events"
MAX_LIMIT = 1000
_LISTS = {
    "eventType": {"SHIPMENT", "TRANSPORT", "EQUIPMENT"},
    "shipmentEventTypeCode": {"RECE", "DRFT", "PENA", "PENU", "REJE", "APPR", "ISSU", "SURR",
                              "SUBM", "VOID", "CONF", "REQS", "CMPL", "HOLD", "RELS"},
    "transportEventTypeCode": {"ARRI", "DEPA"},
    "equipmentEventTypeCode": {"LOAD", "DISC", "GTIN", "GTOT", "STUF", "STRP", "PICK", "DROP",
                               "INSP", "RSEA", "RMVD"},
    "documentTypeCode": {"CBR", "BKG", "SHI", "SRM", "TRD", "ARN", "VGM", "CAS", "CUS", "DGD",
                         "OOG"},
}
_TIME = TypeAdapter(UtcDatetime)
_OPERATORS = ("gte", "gt", "lte", "lt", "eq")


def _list(request: Request, name: str) -> tuple[str, ...]:
    raw = request.query_params.get(name)
    if raw is None:
        return ()
    values = tuple(v.strip() for v in raw.split(",") if v.strip())
    unknown = [v for v in values if v not in _LISTS[name]]
    if unknown:
        raise refuse(400, "dcsa_query_value", "Invalid query parameter",
                     f"{name}: {', '.join(unknown)} not one of {', '.join(sorted(_LISTS[name]))}",
                     name)
    return values


def _created(request: Request) -> tuple[tuple[str, str], ...]:
    found = []
    for name, value in request.query_params.multi_items():
        base, _, op = name.partition(":")
        if base != "eventCreatedDateTime":
            continue
        op = op or "eq"
        if op not in _OPERATORS:
            raise refuse(400, "dcsa_query_operator", "Invalid query parameter", f"{name}: "
                         f"the operator must be one of {', '.join(_OPERATORS)}", name)
        try:
            at = _TIME.validate_python(value)
        except ValidationError:
            raise refuse(400, "dcsa_query_value", "Invalid query parameter", f"{name}: "
                         "an ISO 8601 date-time with offset, e.g. 2026-12-01T00:00:00Z",
                         name) from None
        found.append((op, at.isoformat()))
    return tuple(found)


def _filters(request: Request, limit: int, customer: str | None) -> TntFilters:
    q = request.query_params
    codes = (*_list(request, "shipmentEventTypeCode"), *_list(request, "transportEventTypeCode"),
             *_list(request, "equipmentEventTypeCode"))
    return TntFilters(
        event_types=_list(request, "eventType"), type_codes=codes,
        document_type_codes=_list(request, "documentTypeCode"),
        carrier_booking_reference=q.get("carrierBookingReference") or q.get("bookingReference"),
        transport_document_reference=q.get("transportDocumentReference"),
        equipment_reference=q.get("equipmentReference"),
        un_location_code=q.get("UNLocationCode"), vessel_imo=q.get("vesselIMONumber"),
        voyage=q.get("exportVoyageNumber") or q.get("carrierVoyageNumber"),
        transport_call_id=q.get("transportCallID"), created=_created(request),
        customer_id=customer, limit=limit)


def _link(f: TntFilters, key: tuple[str, str, int] | None, before: bool) -> str:
    return f"{PATH}?cursor={tnt_events.encode_cursor(f, key, before)}"


@router.get("/events", summary="Find events (DCSA T&T 2.2), from shipflow's own history",
            dependencies=[consistent("tnt_events")],
            responses={200: {"description": "Events in the T&T 2.2 shape, oldest first; "
                                            "pages in the Current-Page / Next-Page / Prev-Page "
                                            "/ First-Page headers",
                             "content": {"application/json": {"schema": {
                                 "type": "array", "items": {"type": "object"}}}}}})
def find_events(
    request: Request, rm: ReadSide,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="events per page")] = 100,
    cursor: Annotated[str | None, Query(max_length=4000, description=(
        "a server-made cursor from a page header"))] = None,
    eventType: Annotated[str | None, Query(description="SHIPMENT,TRANSPORT,EQUIPMENT")] = None,  # noqa: N803
    carrierBookingReference: Annotated[str | None, Query(max_length=35)] = None,  # noqa: N803
    transportDocumentReference: Annotated[str | None, Query(max_length=20)] = None,  # noqa: N803
    equipmentReference: Annotated[str | None, Query(max_length=15)] = None,  # noqa: N803
) -> Any:
    """Also answers shipmentEventTypeCode, transportEventTypeCode, equipmentEventTypeCode,
    documentTypeCode, UNLocationCode, vesselIMONumber, exportVoyageNumber (or the deprecated
    carrierVoyageNumber), transportCallID and eventCreatedDateTime[:gte|:gt|:lte|:lt|:eq]."""
    caller = request.state.principal
    customer = scope_customer(caller, None)
    key: tuple[str, str, int] | None = None
    before = False
    if cursor is not None:
        try:
            filters, key, before = tnt_events.decode_cursor(cursor)
        except ValueError:
            raise refuse(400, "dcsa_cursor_invalid", "Invalid cursor", "the cursor was not "
                         "made by this server; start again without it", "cursor") from None
        if filters.customer_id != customer:  # another key's cursor shows nothing more
            raise refuse(400, "dcsa_cursor_invalid", "Invalid cursor", "the cursor belongs "
                         "to another caller's query", "cursor")
    else:
        filters = _filters(request, limit, customer)
    with rm.engine.connect() as conn:
        page = tnt_events.read_page(conn, tnt_events.active(conn), filters, key, before)
    headers = {"API-Version": API_VERSION,
               "Current-Page": _link(filters, key, before) if cursor else
               _link(filters, None, False)}
    if page.last_key is not None and page.has_next:
        headers["Next-Page"] = _link(filters, page.last_key, False)
    if page.first_key is not None and page.has_prev:
        headers["Prev-Page"] = _link(filters, page.first_key, True)
        headers["First-Page"] = _link(filters, None, False)
    return JSONResponse(page.events, headers=headers)
