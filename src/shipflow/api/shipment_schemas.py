"""Request bodies and responses of the shipment endpoints that are not simply domain value
objects.

Where a command's input *is* a domain value object (a booking order, a carrier
confirmation, a milestone, shipping instructions) the router takes that type directly.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shipflow.events.common import NonEmptyStr, UtcDatetime, VesselVoyage, Violation
from shipflow.events.shipment.booking import BookingOrder
from shipflow.events.shipment.charges import ChargeLine
from shipflow.events.shipment.documents import (
    BlDating,
    BlIssue,
    CarrierConfirmation,
    ShippingInstructions,
)
from shipflow.events.shipment.records import (
    Amendment,
    BlState,
    BookingStatus,
    Charge,
    RaisedException,
    ReviewOutcome,
    RuleConfirmation,
    SailingOutcome,
    TimelineEntry,
)
from shipflow.events.shipment.tracking import Milestone


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ConfirmationIn(Body):
    rule: NonEmptyStr = Field(examples=["customer_signature_required"])
    confirmed_by: NonEmptyStr = Field(examples=["Route manager Zhao"])
    confirmed_at: UtcDatetime | None = None
    note: str = ""


class ReviewBody(Body):
    confirmations: list[ConfirmationIn] = Field(
        default_factory=list, description="approval rules resolved by someone's yes")


class ReasonBody(Body):
    reason: NonEmptyStr


class ResolutionBody(Body):
    resolution: NonEmptyStr


class NewCharge(ChargeLine):
    amendment_number: int | None = Field(default=None, ge=1)


class BlApprovalBody(Body):
    approved_by: NonEmptyStr = Field(description="the customer's contact who approved")
    capacity: str = "customer"
    reference: str | None = None
    approved_at: UtcDatetime | None = None
    draft_version: int | None = Field(default=None, ge=1)


class DatingApprovalBody(Body):
    dating: BlDating
    sales_request_ref: NonEmptyStr
    reason: NonEmptyStr


class SailingOutcomeBody(Body):
    outcome: SailingOutcome
    reason: str = ""


class CloseBody(Body):
    note: str = ""


class CommandResult(BaseModel):
    """What a command recorded. ``position`` is the log position, for read-your-writes."""

    shipment_id: UUID
    version: int
    position: int
    events: list[str]
    result: Any = None


class ShipmentView(BaseModel):
    id: UUID
    version: int
    created_at: datetime
    modified_at: datetime
    status: BookingStatus
    order: BookingOrder
    review_outcome: ReviewOutcome | None
    open_violations: list[Violation]
    confirmations: list[RuleConfirmation]
    carrier_confirmation: CarrierConfirmation | None
    vessel_voyage: VesselVoyage | None
    legs: list[VesselVoyage | None]
    etd: datetime | None
    eta: datetime | None
    departed: bool
    timeline: dict[str, TimelineEntry]
    last_milestone: Milestone | None
    amendments: list[Amendment]
    shipping_instructions: ShippingInstructions | None
    si_revision: int
    exceptions: list[RaisedException]
    charges: list[Charge]
    bl: BlState
    bl_approval_current: bool
    bl_issue: BlIssue | None
    sailing_outcome: SailingOutcome | None


class EventRecord(BaseModel):
    type: str
    version: int
    recorded_at: datetime
    occurred_at: datetime
    actor: str
    role: str
    source: str
    correlation_id: str
    causation_id: str | None
    external_id: str | None
    payload: dict[str, Any]
