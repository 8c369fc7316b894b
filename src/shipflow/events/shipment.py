"""The Shipment aggregate: a booking's whole life, from hand-over to close.

Each public method is a command: it checks the shipment's state and the rules, then records
one or more events (``shipment_events``). A refused command raises a named
:class:`DomainError` and records nothing.
"""

from __future__ import annotations

from datetime import datetime

from eventsourcing.domain import Aggregate

from shipflow.events import amendments, rules
from shipflow.events import shipment_events as ev
from shipflow.events.booking import BookingOrder
from shipflow.events.charges import ChargeLine
from shipflow.events.documents import (
    BlIssue,
    CarrierConfirmation,
    ShippingInstructions,
)
from shipflow.events.errors import (
    DomainError,
    InvalidTransition,
    NotFound,
    NotPermitted,
    RulesBroken,
    Violation,
)
from shipflow.events.shipment_charges import ChargeCommands, check_charge
from shipflow.events.shipment_documents import DocumentCommands
from shipflow.events.shipment_tracking import TrackingCommands
from shipflow.events.state import (
    TERMINAL_STATUSES,
    Amendment,
    AmendmentStatus,
    BlState,
    BookingStatus,
    Charge,
    FieldChange,
    RaisedException,
    ReviewOutcome,
    RuleConfirmation,
    SailingOutcome,
    TimelineEntry,
)
from shipflow.events.tracking import (
    Milestone,
    MilestoneKind,
)
from shipflow.events.values import EventMeta, VesselVoyage

S = BookingStatus
ACTIVE = frozenset({S.CONFIRMED, S.PENDING_AMENDMENT})


class Shipment(DocumentCommands, TrackingCommands, ChargeCommands, Aggregate):
    #: External ids (e.g. DCSA eventIDs) of the milestones recorded. A class default, so a
    #: snapshot taken before the attribute existed still loads.
    external_ids: frozenset[str] = frozenset()
    def __init__(self, meta: EventMeta, order: BookingOrder) -> None:
        self.order = order
        self.status = BookingStatus.RECEIVED
        self.status_before_amendment: BookingStatus | None = None
        self.review_outcome: ReviewOutcome | None = None
        self.open_violations: list[Violation] = []
        self.confirmations: list[RuleConfirmation] = []
        self.confirmation: CarrierConfirmation | None = None
        self.legs: list[VesselVoyage | None] = [order.planned_vessel_voyage]
        self.planned_etd: datetime | None = None
        self.planned_eta: datetime | None = None
        self.timeline: dict[str, TimelineEntry] = {}
        self.last_milestone: Milestone | None = None
        self.amendments: list[Amendment] = []
        self.shipping_instructions: ShippingInstructions | None = None
        self.si_revision = 0
        self.exceptions: list[RaisedException] = []
        self.charges: list[Charge] = []
        self.bl = BlState()
        self.bl_issue: BlIssue | None = None
        self.sailing_outcome: SailingOutcome | None = None
        self.sla_breaches: list[str] = []

    # --- creation --------------------------------------------------------------------------

    @classmethod
    def request(cls, order: BookingOrder, meta: EventMeta) -> Shipment:
        """Booking requested from the sales hand-over. Data rules are checked now."""
        broken = rules.data_violations(order)
        if broken:
            raise RulesBroken(broken)
        return cls._create(ev.BookingRequested, meta=meta, order=order)

    # --- derived state ---------------------------------------------------------------------

    @property
    def vessel_voyage(self) -> VesselVoyage | None:
        return self.legs[0] if self.legs else None

    def _transport(self, code: str, port: str | None) -> TimelineEntry | None:
        prefix = f"{MilestoneKind.TRANSPORT}:{code}:{port or '-'}:"
        found = [e for k, e in self.timeline.items() if k.startswith(prefix)]
        return found[0] if found else None

    @property
    def departure(self) -> TimelineEntry | None:
        return self._transport("DEPA", self.order.pol)

    @property
    def arrival(self) -> TimelineEntry | None:
        return self._transport("ARRI", self.order.pod)

    @property
    def etd(self) -> datetime | None:
        d = self.departure
        return (d.best if d else None) or self.planned_etd

    @property
    def eta(self) -> datetime | None:
        a = self.arrival
        return (a.best if a else None) or self.planned_eta

    @property
    def departed(self) -> bool:
        d = self.departure
        return d is not None and d.actual is not None

    @property
    def loaded_at(self) -> datetime | None:
        """When the cargo actually went on board at POL (LOAD, else vessel departure)."""
        loads = [e.actual for k, e in self.timeline.items()
                 if k.startswith(f"{MilestoneKind.EQUIPMENT}:LOAD:{self.order.pol}:0:")
                 and e.actual]
        if loads:
            return min(loads)
        d = self.departure
        return d.actual if d else None

    @property
    def open_exceptions(self) -> list[RaisedException]:
        return [e for e in self.exceptions if e.is_open]

    @property
    def pending_amendment(self) -> Amendment | None:
        return next((a for a in self.amendments if a.status is AmendmentStatus.PENDING), None)

    @property
    def confirmed(self) -> bool:
        return self.confirmation is not None

    # --- guards ----------------------------------------------------------------------------

    def _not_terminal(self, doing: str) -> None:
        if self.status in TERMINAL_STATUSES:
            raise InvalidTransition(f"shipment_{str(self.status).lower()}",
                                    f"cannot {doing}: the shipment is {self.status}")

    def _require_confirmed(self, doing: str) -> None:
        self._not_terminal(doing)
        if not self.confirmed:
            raise InvalidTransition("not_confirmed",
                                    f"cannot {doing} before the carrier has confirmed")

    def _bl_not_issued(self, doing: str) -> None:
        if self.bl_issue is not None:
            raise InvalidTransition("bl_already_issued",
                                    f"cannot {doing}: B/L {self.bl_issue.bl_number} is issued")

    def _no_pending_amendment(self, doing: str) -> None:
        if self.pending_amendment is not None:
            raise InvalidTransition("amendment_pending", f"cannot {doing} while amendment "
                                    f"{self.pending_amendment.number} awaits a decision")

    def _set_status(self, status: BookingStatus) -> None:
        """Set the status, keeping PENDING_AMENDMENT until the amendment is decided."""
        if self.status is S.PENDING_AMENDMENT:
            self.status_before_amendment = status
        else:
            self.status = status

    def _decide_amendment(self, number: int, status: AmendmentStatus, actor: str,
                          reason: str | None) -> None:
        self.amendments = [a.model_copy(update={"status": status, "decided_by": actor,
                                                "decision_reason": reason})
                           if a.number == number else a for a in self.amendments]
        self.status = self.status_before_amendment or S.RECEIVED
        self.status_before_amendment = None

    # --- review ----------------------------------------------------------------------------

    def review(self, meta: EventMeta, confirmations: list[RuleConfirmation],
               extra_violations: list[Violation] = ()) -> ReviewOutcome:
        """Review the order against every rule; on hold while any violation is unresolved."""
        self._not_terminal("review")
        self._no_pending_amendment("review")
        if self.status not in (S.RECEIVED, S.PENDING_UPDATE):
            raise InvalidTransition("review_after_confirmation",
                                    f"the booking is {self.status}: it was reviewed already")
        for c in confirmations:
            if c.rule not in rules.APPROVAL_RULES:
                raise DomainError("rule_not_confirmable", f"'{c.rule}' is not an approval "
                                  "rule; complete the data instead", "confirmations")
        confirmed = {c.rule for c in [*self.confirmations, *confirmations]}
        open_ = [v for v in [*rules.review_violations(self.order), *extra_violations]
                 if v.rule not in confirmed]
        outcome = ReviewOutcome.ON_HOLD if open_ else ReviewOutcome.ACCEPTED
        self.trigger_event(ev.BookingReviewed, meta=meta, outcome=outcome, violations=open_,
                           confirmations=confirmations)
        return outcome

    # --- carrier ---------------------------------------------------------------------------

    def confirm_by_carrier(self, c: CarrierConfirmation, meta: EventMeta) -> None:
        self._not_terminal("record a carrier confirmation")
        if self.review_outcome is not ReviewOutcome.ACCEPTED:
            raise InvalidTransition("review_not_accepted",
                                    "the booking must pass review before it is booked")
        if c.vessel_voyage.is_placeholder:
            raise DomainError("vessel_placeholder_not_allowed", "a carrier confirmation names "
                              "the real vessel, not TEMP", "vessel_voyage")
        if c.eta <= c.etd:
            raise DomainError("eta_before_etd", "the ETA must be after the ETD", "eta")
        if c == self.confirmation:
            raise InvalidTransition("confirmation_unchanged",
                                    "this confirmation changes nothing")
        if self.departed and c.vessel_voyage != self.vessel_voyage:
            raise InvalidTransition("already_departed", "the vessel has sailed; record a "
                                    "rollover at transshipment instead")
        before = (self.etd, self.eta)
        reconfirmation = self.confirmed
        self.trigger_event(ev.CarrierConfirmed, meta=meta, confirmation=c)
        if reconfirmation:
            self._schedule_changed(before, meta, cause="carrier re-confirmation")

    def reject_by_carrier(self, reason: str, meta: EventMeta) -> None:
        self._not_terminal("record a carrier rejection")
        if self.confirmed:
            raise InvalidTransition("already_confirmed",
                                    "a confirmed booking is declined, not rejected")
        self.trigger_event(ev.CarrierRejected, meta=meta, reason=reason)

    def decline(self, reason: str, meta: EventMeta) -> None:
        self._require_confirmed("record a carrier decline")
        if self.sailing_outcome is SailingOutcome.SHIPPED:
            raise InvalidTransition("already_shipped", "the cargo has shipped")
        self.trigger_event(ev.BookingDeclined, meta=meta, reason=reason)

    # --- amendments (委托更改) --------------------------------------------------------------

    def request_amendment(self, changes: list[FieldChange], customer_confirmation_ref: str,
                          reason: str, charges: list[ChargeLine], notify_parties: list[str],
                          meta: EventMeta) -> int:
        self._not_terminal("amend the booking")
        self._bl_not_issued("amend the booking")
        self._no_pending_amendment("request another amendment")
        amended, recorded = amendments.apply_changes(self.order, changes)
        self._refuse_new_violations(amended)
        for line in charges:
            check_charge(line)
        number = len(self.amendments) + 1
        self.trigger_event(ev.AmendmentRequested, meta=meta, number=number, changes=recorded,
                           customer_confirmation_ref=customer_confirmation_ref, reason=reason,
                           charges=charges, notify_parties=notify_parties)
        assert amended is not None
        return number

    def _refuse_new_violations(self, amended: BookingOrder) -> None:
        """An amendment may not break a review rule the order did not break already
        (an approval the booking was accepted without, e.g. new B/L clauses)."""
        confirmed = {c.rule for c in self.confirmations}
        already = {v.rule for v in rules.review_violations(self.order)} | confirmed
        new = [v for v in rules.review_violations(amended) if v.rule not in already]
        if new:
            raise RulesBroken(new)

    def _pending(self, number: int, actor: str) -> Amendment:
        self._not_terminal("decide an amendment")
        found = next((a for a in self.amendments if a.number == number), None)
        if found is None:
            raise NotFound("amendment_not_found", f"no amendment {number} on this shipment")
        if found.status is not AmendmentStatus.PENDING:
            raise InvalidTransition("amendment_decided",
                                    f"amendment {number} was {found.status} already")
        if actor != self.order.cs_owner:
            raise NotPermitted("original_cs_only", f"only the booking's CS owner "
                               f"({self.order.cs_owner}) may decide its amendments")
        return found

    def approve_amendment(self, number: int, meta: EventMeta) -> None:
        amendment = self._pending(number, meta.actor)
        amended, _ = amendments.apply_changes(self.order, amendment.changes)
        self.trigger_event(ev.AmendmentApproved, meta=meta, number=number, order=amended)
        # Fees the amendment caused are recorded with it (domain.md §2.2).
        for line in amendment.charges:
            self.trigger_event(ev.ChargeAdded, meta=meta, number=len(self.charges) + 1,
                               line=line, amendment_number=number)

    def reject_amendment(self, number: int, reason: str, meta: EventMeta) -> None:
        self._pending(number, meta.actor)
        self.trigger_event(ev.AmendmentRejected, meta=meta, number=number, reason=reason)

    # --- outcome ---------------------------------------------------------------------------

    def record_sailing_outcome(self, outcome: SailingOutcome, reason: str,
                               meta: EventMeta) -> None:
        self._require_confirmed("record the sailing outcome")
        if self.sailing_outcome is SailingOutcome.SHIPPED:
            raise InvalidTransition("already_shipped", "the cargo is recorded as shipped")
        if outcome is SailingOutcome.SHUT_OUT and not reason.strip():
            raise DomainError("shut_out_reason_required", "say why the cargo was shut out",
                              "reason")
        self.trigger_event(ev.SailingOutcomeRecorded, meta=meta, outcome=outcome, reason=reason)

    def cancel(self, reason: str, meta: EventMeta) -> None:
        self._not_terminal("cancel")
        self._bl_not_issued("cancel")
        if self.sailing_outcome is SailingOutcome.SHIPPED:
            raise InvalidTransition("already_shipped", "shipped cargo cannot be cancelled")
        self.trigger_event(ev.ShipmentCancelled, meta=meta, reason=reason)

    def close(self, note: str, meta: EventMeta) -> None:
        self._not_terminal("close")
        self._no_pending_amendment("close")
        if self.sailing_outcome is not SailingOutcome.SHIPPED:
            raise InvalidTransition("not_shipped", "only a shipped job can be closed")
        if self.open_exceptions:
            raise InvalidTransition("open_exceptions", "resolve exceptions "
                                    f"{[e.number for e in self.open_exceptions]} first")
        self.trigger_event(ev.ShipmentClosed, meta=meta, note=note)
