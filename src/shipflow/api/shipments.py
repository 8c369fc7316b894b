"""Shipment commands: each endpoint translates HTTP into one application-service call.

Where a command's input is a domain value object (a booking order, a carrier confirmation,
an amendment request, a rollover, a milestone) the endpoint takes that type as its body."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, Depends, Response

from shipflow.api import examples as ex
from shipflow.api import shipment_schemas as b
from shipflow.api.auth import FEEDS, MONEY, OPS, TRACKING, allow
from shipflow.api.deps import ExpectedVersion, Meta, Service
from shipflow.api.errors import ERRORS
from shipflow.api.idempotency import idempotent
from shipflow.events.shipment.amendments import AmendmentRequest
from shipflow.events.shipment.booking import Approval, BookingOrder
from shipflow.events.shipment.charges import ChargeChange, ChargeLine
from shipflow.events.shipment.documents import BlIssue, CarrierConfirmation, ShippingInstructions
from shipflow.events.shipment.records import RuleConfirmation
from shipflow.events.shipment.tracking import (
    CustomerNotice,
    Milestone,
    Rollover,
    ShipmentException,
)
from shipflow.services.shipments import Recorded

# Request bodies, with the examples the OpenAPI document shows.
BlIssueBody = Annotated[BlIssue, Body(examples=[ex.BL_ISSUE])]
BookingOrderBody = Annotated[BookingOrder, Body(examples=[ex.BOOKING_ORDER])]
ChargeBody = Annotated[b.NewCharge, Body(examples=[ex.CHARGE])]
ChargeChangeBody = Annotated[ChargeChange, Body(examples=[ex.CHARGE_CHANGE])]
ConfirmationBody = Annotated[CarrierConfirmation, Body(examples=[ex.CONFIRMATION])]
ExceptionBody = Annotated[ShipmentException, Body(examples=[ex.EXCEPTION])]
MilestoneBody = Annotated[Milestone, Body(examples=[ex.MILESTONE])]
NoticeBody = Annotated[CustomerNotice, Body(examples=[ex.NOTICE])]
ReviewBody = Annotated[b.ReviewBody, Body(examples=[ex.REVIEW])]
RolloverBody = Annotated[Rollover, Body(examples=[ex.ROLLOVER])]
SiBody = Annotated[ShippingInstructions, Body(examples=[ex.SHIPPING_INSTRUCTIONS])]

router = APIRouter(prefix="/shipments", tags=["shipment commands"], responses=ERRORS,
                   dependencies=[Depends(idempotent)])


def _result(recorded: Recorded, response: Response) -> b.CommandResult:
    response.headers["ETag"] = f'"{recorded.version}"'
    response.headers["X-Position"] = str(recorded.position)
    return b.CommandResult(shipment_id=recorded.shipment_id, version=recorded.version,
                           position=recorded.position, events=recorded.events,
                           result=recorded.result)


@router.post("", status_code=201,
             dependencies=[allow(FEEDS)], response_model=b.CommandResult,
             summary="Booking requested (from the sales hand-over)")
def request_booking(order: BookingOrderBody, svc: Service, meta: Meta,
                    response: Response) -> b.CommandResult:
    recorded = svc.request_booking(order, meta)
    response.headers["Location"] = f"/shipments/{recorded.shipment_id}"
    return _result(recorded, response)


@router.post("/{shipment_id}/review",
             dependencies=[allow(OPS)], response_model=b.CommandResult,
             summary="Review the booking order against the rules")
def review(shipment_id: UUID, body: ReviewBody, svc: Service, meta: Meta,
           version: ExpectedVersion, response: Response) -> b.CommandResult:
    confirmations = [RuleConfirmation(rule=c.rule, confirmed_by=c.confirmed_by,
                                      confirmed_at=c.confirmed_at or meta.occurred_at,
                                      note=c.note, recorded_by=meta.actor)
                     for c in body.confirmations]
    return _result(svc.review(shipment_id, confirmations, meta, version), response)


@router.post("/{shipment_id}/confirmation",
             dependencies=[allow(FEEDS)], response_model=b.CommandResult,
             summary="Booking confirmed by the carrier")
def confirm(shipment_id: UUID, body: ConfirmationBody, svc: Service, meta: Meta,
            version: ExpectedVersion, response: Response) -> b.CommandResult:
    return _result(svc.confirm_by_carrier(shipment_id, body, meta, version), response)


@router.post("/{shipment_id}/carrier-rejection",
             dependencies=[allow(FEEDS)], response_model=b.CommandResult,
             summary="Booking request rejected by the carrier (REJECTED)")
def carrier_rejection(shipment_id: UUID, body: b.ReasonBody, svc: Service, meta: Meta,
                      version: ExpectedVersion, response: Response) -> b.CommandResult:
    return _result(svc.reject_by_carrier(shipment_id, body.reason, meta, version), response)


@router.post("/{shipment_id}/carrier-decline",
             dependencies=[allow(FEEDS)], response_model=b.CommandResult,
             summary="Confirmed booking declined by the carrier (DECLINED)")
def carrier_decline(shipment_id: UUID, body: b.ReasonBody, svc: Service, meta: Meta,
                    version: ExpectedVersion, response: Response) -> b.CommandResult:
    return _result(svc.decline(shipment_id, body.reason, meta, version), response)


@router.post("/{shipment_id}/amendments",
             dependencies=[allow(FEEDS)], response_model=b.CommandResult,
             summary="Amendment (委托更改) requested; result is its number")
def request_amendment(shipment_id: UUID, body: AmendmentRequest, svc: Service, meta: Meta,
                      version: ExpectedVersion, response: Response) -> b.CommandResult:
    return _result(svc.request_amendment(shipment_id, body, meta, version), response)


@router.post("/{shipment_id}/amendments/{number}/approval",
             dependencies=[allow(OPS)], response_model=b.CommandResult,
             summary="Amendment approved (by the booking's original CS only)")
def approve_amendment(shipment_id: UUID, number: int, svc: Service, meta: Meta,
                      version: ExpectedVersion, response: Response) -> b.CommandResult:
    return _result(svc.approve_amendment(shipment_id, number, meta, version), response)


@router.post("/{shipment_id}/amendments/{number}/rejection",
             dependencies=[allow(OPS)], response_model=b.CommandResult,
             summary="Amendment rejected (by the booking's original CS only)")
def reject_amendment(shipment_id: UUID, number: int, body: b.ReasonBody, svc: Service,
                     meta: Meta, version: ExpectedVersion,
                     response: Response) -> b.CommandResult:
    return _result(svc.reject_amendment(shipment_id, number, body.reason, meta, version),
                   response)


@router.post("/{shipment_id}/shipping-instructions",
             dependencies=[allow(FEEDS)], response_model=b.CommandResult,
             summary="Shipping instructions submitted (containers, seals, VGM)")
def shipping_instructions(shipment_id: UUID, body: SiBody, svc: Service,
                          meta: Meta, version: ExpectedVersion,
                          response: Response) -> b.CommandResult:
    return _result(svc.submit_shipping_instructions(shipment_id, body, meta, version), response)


@router.post("/{shipment_id}/milestones",
             dependencies=[allow(TRACKING)], response_model=b.CommandResult,
             summary="Milestone recorded (DCSA T&T code, PLN / EST / ACT)")
def milestone(shipment_id: UUID, body: MilestoneBody, svc: Service, meta: Meta,
              version: ExpectedVersion, response: Response) -> b.CommandResult:
    return _result(svc.record_milestone(shipment_id, body, meta, version), response)


@router.post("/{shipment_id}/rollovers",
             dependencies=[allow(TRACKING)], response_model=b.CommandResult,
             summary="Cargo rolled over to another sailing")
def rollover(shipment_id: UUID, body: RolloverBody, svc: Service, meta: Meta,
             version: ExpectedVersion, response: Response) -> b.CommandResult:
    return _result(svc.roll_over(shipment_id, body, meta, version), response)


@router.post("/{shipment_id}/exceptions",
             dependencies=[allow(TRACKING)], response_model=b.CommandResult,
             summary="Exception raised; result is its number")
def raise_exception(shipment_id: UUID, body: ExceptionBody, svc: Service, meta: Meta,
                    version: ExpectedVersion, response: Response) -> b.CommandResult:
    return _result(svc.raise_exception(shipment_id, body, meta, version), response)


@router.post("/{shipment_id}/exceptions/{number}/resolution",
             dependencies=[allow(TRACKING)], response_model=b.CommandResult,
             summary="Exception resolved")
def resolve_exception(shipment_id: UUID, number: int, body: b.ResolutionBody, svc: Service,
                      meta: Meta, version: ExpectedVersion,
                      response: Response) -> b.CommandResult:
    return _result(svc.resolve_exception(shipment_id, number, body.resolution, meta, version),
                   response)


@router.post("/{shipment_id}/notifications",
             dependencies=[allow(TRACKING)], response_model=b.CommandResult,
             summary="Customer notified (booking confirmation, delay notice, status, arrival)")
def notify_customer(shipment_id: UUID, body: NoticeBody, svc: Service, meta: Meta,
                    version: ExpectedVersion, response: Response) -> b.CommandResult:
    return _result(svc.notify_customer(shipment_id, body, meta, version), response)


@router.post("/{shipment_id}/charges",
             dependencies=[allow(MONEY)], response_model=b.CommandResult,
             summary="Charge line added; result is its number")
def add_charge(shipment_id: UUID, body: ChargeBody, svc: Service, meta: Meta,
               version: ExpectedVersion, response: Response) -> b.CommandResult:
    line = ChargeLine.model_validate(body.model_dump(exclude={"amendment_number"}))
    return _result(svc.add_charge(shipment_id, line, body.amendment_number, meta, version),
                   response)


@router.post("/{shipment_id}/charges/{number}/adjustment",
             dependencies=[allow(MONEY)], response_model=b.CommandResult,
             summary="Charge line adjusted (quantity and/or unit price)")
def adjust_charge(shipment_id: UUID, number: int, body: ChargeChangeBody, svc: Service,
                  meta: Meta, version: ExpectedVersion, response: Response) -> b.CommandResult:
    return _result(svc.adjust_charge(shipment_id, number, body, meta, version), response)


@router.post("/{shipment_id}/charges/{number}/void",
             dependencies=[allow(MONEY)], response_model=b.CommandResult,
             summary="Charge line voided")
def void_charge(shipment_id: UUID, number: int, body: b.ReasonBody, svc: Service, meta: Meta,
                version: ExpectedVersion, response: Response) -> b.CommandResult:
    return _result(svc.void_charge(shipment_id, number, body.reason, meta, version), response)


@router.post("/{shipment_id}/bl/approval",
             dependencies=[allow(FEEDS)], response_model=b.CommandResult,
             summary="B/L draft approved by the customer")
def approve_bl(shipment_id: UUID, body: b.BlApprovalBody, svc: Service, meta: Meta,
               version: ExpectedVersion, response: Response) -> b.CommandResult:
    approval = Approval(by=body.approved_by, capacity=body.capacity, reference=body.reference,
                        at=body.approved_at or meta.occurred_at)
    return _result(svc.approve_bl_draft(shipment_id, approval, body.draft_version, meta,
                                        version), response)


@router.post("/{shipment_id}/bl/dating-approval",
             dependencies=[allow(OPS)], response_model=b.CommandResult,
             summary="Back-dated / post-dated / advance B/L approved (manager role)")
def approve_bl_dating(shipment_id: UUID, body: b.DatingApprovalBody, svc: Service,
                      meta: Meta, version: ExpectedVersion,
                      response: Response) -> b.CommandResult:
    return _result(svc.approve_bl_dating(shipment_id, body.dating, body.sales_request_ref,
                                         body.reason, meta, version), response)


@router.post("/{shipment_id}/bl/issue",
             dependencies=[allow(OPS)], response_model=b.CommandResult,
             summary="B/L issued; result is its dating (NORMAL, BACK_DATED, ...)")
def issue_bl(shipment_id: UUID, body: BlIssueBody, svc: Service, meta: Meta,
             version: ExpectedVersion, response: Response) -> b.CommandResult:
    return _result(svc.issue_bl(shipment_id, body, meta, version), response)


@router.post("/{shipment_id}/sailing-outcome",
             dependencies=[allow(OPS)], response_model=b.CommandResult,
             summary="Cargo shipped or shut out (退载)")
def sailing_outcome(shipment_id: UUID, body: b.SailingOutcomeBody, svc: Service, meta: Meta,
                    version: ExpectedVersion, response: Response) -> b.CommandResult:
    return _result(svc.record_sailing_outcome(shipment_id, body.outcome, body.reason, meta,
                                              version), response)


@router.post("/{shipment_id}/cancellation",
             dependencies=[allow(FEEDS)], response_model=b.CommandResult,
             summary="Shipment cancelled")
def cancel(shipment_id: UUID, body: b.ReasonBody, svc: Service, meta: Meta,
           version: ExpectedVersion, response: Response) -> b.CommandResult:
    return _result(svc.cancel(shipment_id, body.reason, meta, version), response)


@router.post("/{shipment_id}/close",
             dependencies=[allow(OPS)], response_model=b.CommandResult,
             summary="Job closed (COMPLETED)")
def close(shipment_id: UUID, svc: Service, meta: Meta, version: ExpectedVersion,
          response: Response, body: Annotated[b.CloseBody | None, Body()] = None,
          ) -> b.CommandResult:
    return _result(svc.close_shipment(shipment_id, (body or b.CloseBody()).note, meta, version),
                   response)
