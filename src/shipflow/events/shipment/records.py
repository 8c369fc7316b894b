"""Records a Shipment keeps about itself: statuses, amendments, charges, exceptions, timeline.

They are value objects, replaced (never mutated) when an event changes them, so that a
snapshot of the aggregate is a plain copy and historical reads stay exact.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from shipflow.events.common import Code, NonEmptyStr, UtcDatetime, ValueObject
from shipflow.events.shipment.booking import Approval
from shipflow.events.shipment.charges import ChargeLine
from shipflow.events.shipment.documents import BlDating
from shipflow.events.shipment.tracking import ShipmentException


class BookingStatus(Code):
    """DCSA Booking 2.0 statuses."""

    RECEIVED = "RECEIVED"
    PENDING_UPDATE = "PENDING_UPDATE"
    CONFIRMED = "CONFIRMED"
    PENDING_AMENDMENT = "PENDING_AMENDMENT"
    REJECTED = "REJECTED"
    DECLINED = "DECLINED"
    CANCELLED = "CANCELLED"
    COMPLETED = "COMPLETED"


TERMINAL_STATUSES = frozenset({BookingStatus.REJECTED, BookingStatus.DECLINED,
                               BookingStatus.CANCELLED, BookingStatus.COMPLETED})


class ReviewOutcome(Code):
    ACCEPTED = "ACCEPTED"
    ON_HOLD = "ON_HOLD"


class SailingOutcome(Code):
    SHIPPED = "SHIPPED"
    SHUT_OUT = "SHUT_OUT"  # 退载


class RuleConfirmation(ValueObject):
    """A person's recorded yes that resolves an approval rule: who confirmed it, and when."""

    rule: NonEmptyStr
    confirmed_by: NonEmptyStr
    confirmed_at: UtcDatetime
    note: str = ""
    recorded_by: str = ""


class FieldChange(ValueObject):
    """One line of an amendment's change set: a dotted path into the booking order."""

    field: NonEmptyStr
    before: Any = None
    after: Any = None


class AmendmentStatus(Code):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


class Amendment(ValueObject):
    number: int
    changes: list[FieldChange]
    customer_confirmation_ref: str
    reason: str = ""
    charges: list[ChargeLine] = Field(default_factory=list)
    notify_parties: list[str] = Field(default_factory=list)
    requested_by: str
    status: AmendmentStatus = AmendmentStatus.PENDING
    decided_by: str | None = None
    decision_reason: str | None = None


class Charge(ValueObject):
    number: int
    line: ChargeLine
    amendment_number: int | None = None
    voided: bool = False
    void_reason: str | None = None
    invoice_number: str | None = None  # on an invoice (ChargesInvoiced) until credited


class RaisedException(ValueObject):
    number: int
    exception: ShipmentException
    raised_at: datetime
    raised_by: str
    resolved_at: datetime | None = None
    resolution: str | None = None

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


class TimelineEntry(ValueObject):
    """The planned, latest estimated and actual time of one happening (e.g. DEPA at CNSHA)."""

    planned: datetime | None = None
    estimated: datetime | None = None
    estimated_made_at: datetime | None = None
    actual: datetime | None = None

    @property
    def best(self) -> datetime | None:
        return self.actual or self.estimated or self.planned


class DatingApproval(ValueObject):
    dating: BlDating
    approved_by: str
    sales_request_ref: str
    reason: str


class BlState(ValueObject):
    draft_approval: Approval | None = None
    draft_version: int | None = None
    approved_fingerprint: str | None = None  # of the document the customer approved
    dating_approvals: list[DatingApproval] = Field(default_factory=list)
