"""The facts of a shipment's life. Each event says what happened and how it changes the
shipment (``apply``); it never checks rules: the commands on :class:`Shipment` do that
before an event is recorded, and history must always replay.

Every event carries :class:`EventMeta` (who, role, source, when it occurred, correlation).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from eventsourcing.domain import Aggregate

from shipflow.events.common import EventMeta, VesselVoyage, Violation
from shipflow.events.shipment.booking import Approval, BookingOrder
from shipflow.events.shipment.charges import ChargeLine
from shipflow.events.shipment.documents import (
    BlDating,
    BlIssue,
    CarrierConfirmation,
    ShippingInstructions,
)
from shipflow.events.shipment.records import (
    Amendment,
    AmendmentStatus,
    BlState,
    BookingStatus,
    Charge,
    DatingApproval,
    FieldChange,
    RaisedException,
    ReviewOutcome,
    RuleConfirmation,
    SailingOutcome,
    TimelineEntry,
)
from shipflow.events.shipment.tracking import (
    Classifier,
    CustomerNotice,
    Milestone,
    MilestoneKind,
    ShipmentException,
    estimate_made_at,
)

if TYPE_CHECKING:
    from shipflow.events.shipment.aggregate import Shipment


class ShipmentEvent(Aggregate.Event):
    meta: EventMeta

    def apply(self, shipment: Shipment) -> None:  # noqa: D102 - overridden per event
        pass


class BookingRequested(Aggregate.Created):
    meta: EventMeta
    order: BookingOrder


class BookingReviewed(ShipmentEvent):
    outcome: ReviewOutcome
    violations: list[Violation]
    confirmations: list[RuleConfirmation]

    def apply(self, s: Shipment) -> None:
        s.review_outcome = self.outcome
        s.open_violations = list(self.violations)
        s.confirmations = [*s.confirmations, *self.confirmations]
        s.status = (BookingStatus.RECEIVED if self.outcome is ReviewOutcome.ACCEPTED
                    else BookingStatus.PENDING_UPDATE)


class CarrierConfirmed(ShipmentEvent):
    confirmation: CarrierConfirmation

    def apply(self, s: Shipment) -> None:
        s.confirmation = self.confirmation
        s.legs = [self.confirmation.vessel_voyage, *s.legs[1:]]
        s.planned_etd, s.planned_eta = self.confirmation.etd, self.confirmation.eta
        s._set_status(BookingStatus.CONFIRMED)


class CarrierRejected(ShipmentEvent):
    reason: str

    def apply(self, s: Shipment) -> None:
        s.status = BookingStatus.REJECTED


class BookingDeclined(ShipmentEvent):
    reason: str

    def apply(self, s: Shipment) -> None:
        s.status = BookingStatus.DECLINED


class AmendmentRequested(ShipmentEvent):
    number: int
    changes: list[FieldChange]
    customer_confirmation_ref: str
    reason: str
    charges: list[ChargeLine]
    notify_parties: list[str]

    def apply(self, s: Shipment) -> None:
        s.amendments = [*s.amendments, Amendment(
            number=self.number, changes=self.changes,
            customer_confirmation_ref=self.customer_confirmation_ref, reason=self.reason,
            charges=self.charges, notify_parties=self.notify_parties,
            requested_by=self.meta.actor)]
        s.status_before_amendment = s.status
        s.status = BookingStatus.PENDING_AMENDMENT


class AmendmentApproved(ShipmentEvent):
    number: int
    order: BookingOrder  # the booking order as it reads after the amendment

    def apply(self, s: Shipment) -> None:
        s._decide_amendment(self.number, AmendmentStatus.APPROVED, self.meta.actor, None)
        s.order = self.order


class AmendmentRejected(ShipmentEvent):
    number: int
    reason: str

    def apply(self, s: Shipment) -> None:
        s._decide_amendment(self.number, AmendmentStatus.REJECTED, self.meta.actor, self.reason)


class ShippingInstructionsSubmitted(ShipmentEvent):
    instructions: ShippingInstructions
    revision: int

    def apply(self, s: Shipment) -> None:
        s.shipping_instructions = self.instructions
        s.si_revision = self.revision


class MilestoneRecorded(ShipmentEvent):
    milestone: Milestone
    superseded: bool  # an estimate older than ours, or after an actual: history only

    def apply(self, s: Shipment) -> None:
        if self.meta.external_id:
            s.external_ids = s.external_ids | {self.meta.external_id}
        if self.superseded:
            return
        m = self.milestone
        entry = s.timeline.get(m.key, TimelineEntry())
        if m.classifier is Classifier.ACT:
            entry = entry.model_copy(update={"actual": m.event_time})
        elif m.classifier is Classifier.EST:
            entry = entry.model_copy(update={"estimated": m.event_time,
                                             "estimated_made_at": estimate_made_at(m, self.meta)})
        else:
            entry = entry.model_copy(update={"planned": m.event_time})
        s.timeline = {**s.timeline, m.key: entry}
        s.last_milestone = m


class ScheduleChanged(ShipmentEvent):
    """ETD and/or ETA moved; recorded beside the milestone or rollover that moved them."""

    previous_etd: datetime | None
    etd: datetime | None
    previous_eta: datetime | None
    eta: datetime | None
    cause: str


class RolledOver(ShipmentEvent):
    leg: int
    from_vessel_voyage: VesselVoyage | None
    to_vessel_voyage: VesselVoyage
    reason: str
    new_etd: datetime
    new_eta: datetime

    def apply(self, s: Shipment) -> None:
        legs = list(s.legs) + [None] * (self.leg + 1 - len(s.legs))
        legs[self.leg] = self.to_vessel_voyage
        s.legs = legs
        s.planned_etd, s.planned_eta = self.new_etd, self.new_eta
        # Estimates for the old sailing say nothing about the new one; nor do its actuals
        # when the cargo was shut out of it (the vessel left, the cargo did not).
        shut_out = s.sailing_outcome is SailingOutcome.SHUT_OUT
        s.timeline = {k: v for k, v in s.timeline.items()
                      if not k.startswith(f"{MilestoneKind.TRANSPORT}:")
                      or (v.actual is not None and not shut_out)}
        if shut_out:
            s.sailing_outcome = None


class ExceptionRaised(ShipmentEvent):
    number: int
    exception: ShipmentException

    def apply(self, s: Shipment) -> None:
        s.exceptions = [*s.exceptions, RaisedException(
            number=self.number, exception=self.exception, raised_at=self.meta.occurred_at,
            raised_by=self.meta.actor)]


class ExceptionResolved(ShipmentEvent):
    number: int
    resolution: str

    def apply(self, s: Shipment) -> None:
        s.exceptions = [e.model_copy(update={"resolved_at": self.meta.occurred_at,
                                             "resolution": self.resolution})
                        if e.number == self.number else e for e in s.exceptions]


class ChargeAdded(ShipmentEvent):
    # v2: the line is a ChargeLine with quantity and unit price as Money; v1 carried a flat
    # ``amount`` and ``currency`` beside code, direction and counterparty.
    class_version = 2

    number: int
    line: ChargeLine
    amendment_number: int | None

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        from shipflow.events.common import Money

        line = ChargeLine.model_construct(
            direction=state.pop("direction"), code=state.pop("code"),
            description=state.pop("description", ""), quantity=Decimal(1),
            unit_price=Money.model_construct(amount=Decimal(state.pop("amount")),
                                             currency=state.pop("currency")),
            counterparty=state.pop("counterparty"), reason=state.pop("reason", None))
        state["line"] = line
        state.setdefault("amendment_number", None)

    def apply(self, s: Shipment) -> None:
        s.charges = [*s.charges, Charge(number=self.number, line=self.line,
                                        amendment_number=self.amendment_number)]


class ChargeAdjusted(ShipmentEvent):
    number: int
    line: ChargeLine  # the line as it reads after the adjustment
    reason: str

    def apply(self, s: Shipment) -> None:
        s.charges = [c.model_copy(update={"line": self.line}) if c.number == self.number else c
                     for c in s.charges]


class ChargeVoided(ShipmentEvent):
    number: int
    reason: str

    def apply(self, s: Shipment) -> None:
        s.charges = [c.model_copy(update={"voided": True, "void_reason": self.reason})
                     if c.number == self.number else c for c in s.charges]


class ChargesInvoiced(ShipmentEvent):
    """Receivable charges went on a customer's invoice (saved with the invoice itself)."""

    invoice_number: str
    customer_id: str
    charge_numbers: list[int]

    def apply(self, s: Shipment) -> None:
        numbers = set(self.charge_numbers)
        s.charges = [c.model_copy(update={"invoice_number": self.invoice_number})
                     if c.number in numbers else c for c in s.charges]


class ChargesReleased(ShipmentEvent):
    """A credit note took charges off their invoice: they may be adjusted, voided or billed
    again (saved with the credit note)."""

    invoice_number: str
    credit_note_number: str
    charge_numbers: list[int]

    def apply(self, s: Shipment) -> None:
        numbers = set(self.charge_numbers)
        s.charges = [c.model_copy(update={"invoice_number": None})
                     if c.number in numbers else c for c in s.charges]


class BlDraftApproved(ShipmentEvent):
    # v2 added the fingerprint of the approved document. A v1 approval has none, so it reads
    # as an approval of no particular document: the B/L must be approved again to issue.
    class_version = 2

    approval: Approval
    draft_version: int | None
    document_fingerprint: str | None  # of the B/L document as it read when approved

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["document_fingerprint"] = None

    def apply(self, s: Shipment) -> None:
        s.bl = s.bl.model_copy(update={"draft_approval": self.approval,
                                       "draft_version": self.draft_version,
                                       "approved_fingerprint": self.document_fingerprint})


class BlDatingApproved(ShipmentEvent):
    dating: BlDating
    sales_request_ref: str
    reason: str

    def apply(self, s: Shipment) -> None:
        approval = DatingApproval(dating=self.dating, approved_by=self.meta.actor,
                                  sales_request_ref=self.sales_request_ref, reason=self.reason)
        s.bl = s.bl.model_copy(update={"dating_approvals": [*s.bl.dating_approvals, approval]})


class BlIssued(ShipmentEvent):
    issue: BlIssue
    dating: BlDating

    def apply(self, s: Shipment) -> None:
        s.bl_issue = self.issue


class SailingOutcomeRecorded(ShipmentEvent):
    outcome: SailingOutcome
    reason: str

    def apply(self, s: Shipment) -> None:
        s.sailing_outcome = self.outcome


class CustomerNotified(ShipmentEvent):
    notice: CustomerNotice


class SlaBreached(ShipmentEvent):
    """A service-level timer passed its due time unmet (recorded by the SLA ticker)."""

    timer: str  # the timer's key on this shipment, e.g. "booking_confirmation"
    kind: str
    started_at: datetime
    due_at: datetime

    def apply(self, s: Shipment) -> None:
        s.sla_breaches = [*s.sla_breaches, self.timer]


class ShipmentCancelled(ShipmentEvent):
    reason: str

    def apply(self, s: Shipment) -> None:
        s.status = BookingStatus.CANCELLED


class ShipmentClosed(ShipmentEvent):
    note: str

    def apply(self, s: Shipment) -> None:
        s.status = BookingStatus.COMPLETED


#: Every event class by name: the audit history, projections and webhooks key on these.
_CLASSES: list[type] = [BookingRequested, *ShipmentEvent.__subclasses__()]
EVENT_TYPES: dict[str, type] = {cls.__name__: cls for cls in _CLASSES}

__all__ = ["EVENT_TYPES", "BlState", "Charge", "RuleConfirmation"]
