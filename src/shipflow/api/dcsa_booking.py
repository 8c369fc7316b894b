"""DCSA Booking 2.0 in: ``POST /dcsa/bkg/v2/bookings`` (a ``CreateBooking`` becomes a booking
order), ``GET /dcsa/bkg/v2/bookings/{bookingReference}`` (the spec's ``Booking`` with its
statuses), ``PUT`` of the same (an ``UpdateBooking`` becomes an amendment, 委托更改).

The mapping is :mod:`shipflow.integrations.dcsa_booking`. A request that breaks the spec's
schema is 400 (as the spec says); one that lacks what shipflow needs is 422 naming the DCSA
fields; otherwise 202 with the spec's ``carrierBookingRequestReference``, the status, the
shipment and the fields that were kept but not mapped.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import JSONResponse

from shipflow.api.auth import ANYONE, FEEDS, allow, require_visible
from shipflow.api.deps import Meta, ReadSide, Service
from shipflow.api.errors import ERRORS, problem, refuse
from shipflow.api.idempotency import idempotent
from shipflow.events.common import RulesBroken, Violation
from shipflow.events.shipment.amendments import AmendmentRequest
from shipflow.events.shipment.records import AmendmentStatus, BookingStatus, FieldChange
from shipflow.integrations.dcsa_booking import (
    BookingRefused,
    dcsa_field,
    new_request_reference,
    read_booking,
)
from shipflow.integrations.documents_config import load_documents_config
from shipflow.projections import tnt_events
from shipflow.projections.engine.read_models import ReadModels

router = APIRouter(prefix="/dcsa/bkg/v2", tags=["DCSA Booking 2.0"], responses=ERRORS,
                   dependencies=[Depends(idempotent)])
API_VERSION = "2.0.5"
_EXAMPLE = "see docs/dcsa.md for a complete CreateBooking"


def _refused(request: Request, e: BookingRefused) -> JSONResponse:
    schema = e.violations[0].rule == "dcsa_schema"
    return problem(400 if schema else 422, e.violations[0].rule,
                   "Not a valid DCSA CreateBooking" if schema else "The booking is incomplete",
                   f"{len(e.violations)} field(s): "
                   f"{', '.join(v.field or '(the request)' for v in e.violations)}",
                   request, [v.model_dump() for v in e.violations])


def _in_dcsa_terms(e: RulesBroken) -> RulesBroken:
    return RulesBroken([Violation(rule=v.rule, detail=v.detail, field=dcsa_field(v.field))
                        for v in e.violations])


@router.post("/bookings", status_code=202, dependencies=[allow(FEEDS)],
             summary="Create a booking (DCSA Booking 2.0 CreateBooking)")
def create_booking(request: Request, svc: Service, meta: Meta,
                   body: Annotated[dict[str, Any], Body(description=_EXAMPLE)]) -> JSONResponse:
    settings = request.app.state.settings
    reference = new_request_reference()
    try:
        read = read_booking(body, load_documents_config(settings.documents_config_path),
                            reference)
    except BookingRefused as e:
        return _refused(request, e)
    try:
        recorded = svc.request_booking(read.order, meta)
    except RulesBroken as e:
        raise _in_dcsa_terms(e) from None
    return JSONResponse(status_code=202, headers={
        "API-Version": API_VERSION, "Location": f"/dcsa/bkg/v2/bookings/{reference}",
        "X-Position": str(recorded.position)}, content={
        "carrierBookingRequestReference": reference, "bookingStatus": "RECEIVED",
        "shipmentID": str(recorded.shipment_id), "unmappedFields": read.unmapped})


def _find(request: Request, rm: ReadModels, reference: str) -> str:
    """The shipment a booking reference names; waits (up to 10 s) for the view when it is
    not found at once, so a booking just made reads back."""
    def look() -> tuple[str, str] | None:
        with rm.engine.connect() as conn:
            return tnt_events.find_shipment(conn, tnt_events.active(conn), reference)

    found = look()
    if found is None and rm.wait_for(rm.store.recorder.max_notification_id() or 0,
                                     ["tnt_events"], 10.0):
        found = look()
    if found is None:
        raise refuse(404, "dcsa_booking_not_found", "Not found",
                     f"no booking {reference}", "bookingReference")
    require_visible(request.state.principal, found[1], "dcsa_booking_not_found",
                    f"no booking {reference}")
    return found[0]


_STATUS = {BookingStatus.PENDING_AMENDMENT: "CONFIRMED"}
_AMENDED = {AmendmentStatus.PENDING: "AMENDMENT_RECEIVED",
            AmendmentStatus.APPROVED: "AMENDMENT_CONFIRMED",
            AmendmentStatus.REJECTED: "AMENDMENT_DECLINED"}


def booking_of(shipment: Any, amended: bool = False) -> dict[str, Any] | None:
    """The spec's ``Booking`` of a shipment booked through DCSA (None for others): the
    request as sent (or as an update of it was approved), with shipflow's statuses and
    what the carrier confirmed. ``amended``: the content of the amendment awaiting a
    decision (None when there is none)."""
    intake = shipment.order.intake
    if intake is None:
        return None
    content = dict(intake.content)
    pending = shipment.pending_amendment
    if amended:
        change = next((c for c in pending.changes if c.field == "intake.content"),
                      None) if pending else None
        if change is None:
            return None
        content = dict(change.after)
    status = shipment.status
    booking: dict[str, Any] = {**content, "carrierBookingRequestReference":
                               intake.request_reference}
    if status is BookingStatus.PENDING_AMENDMENT and not shipment.confirmed:
        booking["bookingStatus"] = "UPDATE_RECEIVED"
    else:
        booking["bookingStatus"] = _STATUS.get(status, str(status))
    if shipment.amendments and shipment.confirmed:
        booking["amendedBookingStatus"] = _AMENDED[shipment.amendments[-1].status]
    c = shipment.confirmation
    if c is not None:
        booking["carrierBookingReference"] = c.carrier_booking_no
        booking["confirmedEquipments"] = [{"ISOEquipmentCode": e.size_type, "units": e.count}
                                          for e in c.equipment]
    return booking


@router.get("/bookings/{bookingReference}", dependencies=[allow(ANYONE)],
            summary="The booking (DCSA Booking 2.0 Booking), by carrierBookingRequestReference "
                    "or carrierBookingReference")
def get_booking(request: Request, svc: Service, rm: ReadSide,
                bookingReference: str,  # noqa: N803 - the spec's name
                amendedContent: Annotated[bool, Query()] = False,  # noqa: N803
                ) -> JSONResponse:
    shipment = svc.get(uuid.UUID(_find(request, rm, bookingReference)))
    booking = booking_of(shipment, amendedContent)
    if booking is None:
        raise refuse(404, "dcsa_booking_not_found", "Not found",
                     "no amendment awaits a decision" if amendedContent
                     else "this booking was not made through DCSA Booking", "bookingReference")
    return JSONResponse(booking, headers={"API-Version": API_VERSION})


@router.put("/bookings/{bookingReference}", status_code=202, dependencies=[allow(FEEDS)],
            summary="Update the booking (DCSA UpdateBooking): an amendment (委托更改)")
def update_booking(request: Request, svc: Service, rm: ReadSide, meta: Meta,
                   bookingReference: str,  # noqa: N803 - the spec's name
                   body: Annotated[dict[str, Any], Body(description=_EXAMPLE)],
                   ) -> JSONResponse:
    shipment_id = uuid.UUID(_find(request, rm, bookingReference))
    shipment = svc.get(shipment_id)
    if shipment.order.intake is None:
        raise refuse(404, "dcsa_booking_not_found", "Not found", "this booking was not made "
                     "through DCSA Booking", "bookingReference")
    settings = request.app.state.settings
    try:
        read = read_booking(body, load_documents_config(settings.documents_config_path),
                            shipment.order.intake.request_reference, "UpdateBooking")
    except BookingRefused as e:
        return _refused(request, e)
    before = shipment.order.model_dump(mode="json")
    after = read.order.model_dump(mode="json")
    changes = [FieldChange(field=k, after=after[k]) for k in after
               if k not in ("intake", "customer_id", "cs_owner") and after[k] != before.get(k)]
    changes += [FieldChange(field=f"intake.{k}", after=after["intake"][k])
                for k in ("content", "unmapped") if after["intake"][k] != before["intake"][k]]
    # The update itself is the customer's written confirmation (§2.2): its own system sent
    # it under the customer's key; the reference names this request.
    confirmation = f"DCSA UpdateBooking {uuid.uuid4()}"
    try:
        recorded = svc.request_amendment(shipment_id, AmendmentRequest(
            changes=changes, customer_confirmation_ref=confirmation,
            reason="DCSA booking update"), meta)
    except RulesBroken as e:
        raise _in_dcsa_terms(e) from None
    return JSONResponse(status_code=202, content={
        "amendmentNumber": recorded.result, "customerConfirmationReference": confirmation,
        "changedFields": [c.field for c in changes], "unmappedFields": read.unmapped},
        headers={"API-Version": API_VERSION, "X-Position": str(recorded.position)})
