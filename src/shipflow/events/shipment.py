"""The Shipment aggregate: a booking's whole life, from hand-over to close.

Each public method is a command: it checks the shipment's state and the rules, then records
one or more events (``shipment_events``). A refused command raises a named
:class:`DomainError` and records nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from eventsourcing.domain import Aggregate

from shipflow.events import amendments, rules
from shipflow.events import shipment_events as ev
from shipflow.events.booking import Approval, BookingOrder
from shipflow.events.charges import EXTRA_COST_CODES, ChargeChange, ChargeLine
from shipflow.events.documents import (
    BlDating,
    BlDocumentType,
    BlIssue,
    BlRelease,
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
    Classifier,
    ExceptionKind,
    Milestone,
    MilestoneKind,
    ShipmentException,
)
from shipflow.events.values import EventMeta, VesselVoyage

S = BookingStatus
ACTIVE = frozenset({S.CONFIRMED, S.PENDING_AMENDMENT})


class Shipment(Aggregate):
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
        self.trigger_event(ev.CarrierConfirmed, meta=meta, confirmation=c)

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
        for line in charges:
            _check_charge(line)
        number = len(self.amendments) + 1
        self.trigger_event(ev.AmendmentRequested, meta=meta, number=number, changes=recorded,
                           customer_confirmation_ref=customer_confirmation_ref, reason=reason,
                           charges=charges, notify_parties=notify_parties)
        assert amended is not None
        return number

    def _pending(self, number: int, actor: str) -> Amendment:
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

    # --- documents -------------------------------------------------------------------------

    def submit_shipping_instructions(self, si: ShippingInstructions, meta: EventMeta) -> None:
        self._require_confirmed("submit shipping instructions")
        self._bl_not_issued("change the shipping instructions")
        seen: set[str] = set()
        for i, c in enumerate(si.containers):
            if c.container_no in seen:
                raise DomainError("duplicate_container", f"{c.container_no} is listed twice",
                                  f"containers.{i}.container_no")
            seen.add(c.container_no)
            if c.vgm_kg is not None and c.vgm_kg < c.cargo_weight_kg:
                raise DomainError("vgm_below_cargo_weight", f"the VGM of {c.container_no} "
                                  "is less than its cargo weight", f"containers.{i}.vgm_kg")
        self.trigger_event(ev.ShippingInstructionsSubmitted, meta=meta, instructions=si,
                           revision=self.si_revision + 1)

    def approve_bl_draft(self, approval: Approval, draft_version: int | None,
                         meta: EventMeta) -> None:
        self._require_confirmed("approve the B/L draft")
        self._bl_not_issued("approve the B/L draft")
        self._no_pending_amendment("approve the B/L draft")
        if self.shipping_instructions is None:
            raise InvalidTransition("si_missing", "the B/L draft needs shipping instructions")
        self.trigger_event(ev.BlDraftApproved, meta=meta, approval=approval,
                           draft_version=draft_version)

    def bl_dating(self, on_board: Any) -> BlDating:
        """How a shipped-on-board date relates to the actual loading (倒签/顺签/预借)."""
        loaded = self.loaded_at
        if loaded is None:
            return BlDating.ADVANCE
        if on_board < loaded.date():
            return BlDating.BACK_DATED
        if on_board > loaded.date():
            return BlDating.POST_DATED
        return BlDating.NORMAL

    def approve_bl_dating(self, dating: BlDating, sales_request_ref: str, reason: str,
                          meta: EventMeta) -> None:
        self._require_confirmed("approve a B/L dating")
        self._bl_not_issued("approve a B/L dating")
        if meta.role != "manager":
            raise NotPermitted("manager_role_required", "back-dated, post-dated and advance "
                               "B/Ls need the operations manager's approval")
        if dating is BlDating.NORMAL:
            raise DomainError("dating_not_special", "a normally dated B/L needs no approval",
                              "dating")
        self.trigger_event(ev.BlDatingApproved, meta=meta, dating=dating,
                           sales_request_ref=sales_request_ref, reason=reason)

    def issue_bl(self, issue: BlIssue, meta: EventMeta) -> BlDating:
        self._require_confirmed("issue the B/L")
        self._bl_not_issued("issue another B/L")
        self._no_pending_amendment("issue the B/L")
        if not self.bl.approval_current:
            raise InvalidTransition("bl_draft_not_approved", "the customer has not approved "
                                    "the current B/L draft")
        if issue.document_type is BlDocumentType.SWB and (
                issue.release is not BlRelease.SEAWAY or issue.number_of_originals):
            raise DomainError("sea_waybill_has_no_originals", "a sea waybill is released as "
                              "SEAWAY with 0 originals", "release")
        dating = self.bl_dating(issue.shipped_on_board_date)
        if dating is not BlDating.NORMAL and dating not in {
                a.dating for a in self.bl.dating_approvals}:
            raise NotPermitted("bl_dating_requires_manager_approval", f"a {dating} B/L needs "
                               "a recorded approval from the operations manager",
                               "shipped_on_board_date")
        self.trigger_event(ev.BlIssued, meta=meta, issue=issue, dating=dating)
        return dating

    # --- tracking --------------------------------------------------------------------------

    def record_milestone(self, m: Milestone, meta: EventMeta) -> bool:
        """Record a milestone; returns False when it only enters history (superseded)."""
        self._require_confirmed("record a milestone")
        if m.kind is MilestoneKind.TRANSPORT and m.location is None:
            # DCSA sends location; our own feeds may not: DEPA leaves POL, ARRI reaches POD.
            m = m.model_copy(update={"location": self.order.pol if m.code == "DEPA"
                                     else self.order.pod})
        entry = self.timeline.get(m.key)
        superseded = entry is not None and m.classifier is not Classifier.ACT and (
            entry.actual is not None
            or (m.classifier is Classifier.EST and entry.estimated_made_at is not None
                and meta.occurred_at < entry.estimated_made_at))
        before = (self.etd, self.eta)
        self.trigger_event(ev.MilestoneRecorded, meta=meta, milestone=m, superseded=superseded)
        self._schedule_changed(before, meta, cause=f"{m.code} {m.classifier}")
        return not superseded

    def _schedule_changed(self, before: tuple, meta: EventMeta, cause: str) -> None:
        if (self.etd, self.eta) != before:
            self.trigger_event(ev.ScheduleChanged, meta=meta, previous_etd=before[0],
                               etd=self.etd, previous_eta=before[1], eta=self.eta, cause=cause)

    def roll_over(self, to: VesselVoyage, reason: str, new_etd: datetime, new_eta: datetime,
                  leg: int, meta: EventMeta) -> None:
        self._require_confirmed("roll the cargo over")
        if to.is_placeholder:
            raise DomainError("vessel_placeholder_not_allowed", "roll over to a named vessel",
                              "to_vessel_voyage")
        if new_eta <= new_etd:
            raise DomainError("eta_before_etd", "the ETA must be after the ETD", "new_eta")
        if leg == 0 and (self.departed or self.sailing_outcome is SailingOutcome.SHIPPED):
            raise InvalidTransition("already_departed", "the cargo has sailed from POL; "
                                    "only a transshipment leg can be rolled")
        current = self.legs[leg] if leg < len(self.legs) else None
        if current == to:
            raise InvalidTransition("rollover_to_same_sailing", f"the cargo is already on {to}")
        before = (self.etd, self.eta)
        self.trigger_event(ev.RolledOver, meta=meta, leg=leg, from_vessel_voyage=current,
                           to_vessel_voyage=to, reason=reason, new_etd=new_etd,
                           new_eta=new_eta)
        self._schedule_changed(before, meta, cause="rollover")

    def raise_exception(self, exc: ShipmentException, meta: EventMeta) -> int:
        if not (self.status is S.COMPLETED and exc.kind is ExceptionKind.CLAIM):
            self._not_terminal("raise an exception")
        number = len(self.exceptions) + 1
        self.trigger_event(ev.ExceptionRaised, meta=meta, number=number, exception=exc)
        return number

    def resolve_exception(self, number: int, resolution: str, meta: EventMeta) -> None:
        found = next((e for e in self.exceptions if e.number == number), None)
        if found is None:
            raise NotFound("exception_not_found", f"no exception {number} on this shipment")
        if not found.is_open:
            raise InvalidTransition("exception_already_resolved",
                                    f"exception {number} was resolved already")
        self.trigger_event(ev.ExceptionResolved, meta=meta, number=number,
                           resolution=resolution)

    # --- charges ---------------------------------------------------------------------------

    def add_charge(self, line: ChargeLine, amendment_number: int | None,
                   meta: EventMeta) -> int:
        if self.status is S.COMPLETED:
            raise InvalidTransition("shipment_completed", "the job is closed")
        _check_charge(line)
        if amendment_number is not None and not any(
                a.number == amendment_number for a in self.amendments):
            raise NotFound("amendment_not_found", f"no amendment {amendment_number}",
                           "amendment_number")
        number = len(self.charges) + 1
        self.trigger_event(ev.ChargeAdded, meta=meta, number=number, line=line,
                           amendment_number=amendment_number)
        return number

    def _live_charge(self, number: int) -> Charge:
        if self.status is S.COMPLETED:
            raise InvalidTransition("shipment_completed", "the job is closed")
        found = next((c for c in self.charges if c.number == number), None)
        if found is None:
            raise NotFound("charge_not_found", f"no charge {number} on this shipment")
        if found.voided:
            raise InvalidTransition("charge_voided", f"charge {number} was voided")
        return found

    def adjust_charge(self, number: int, change: ChargeChange, meta: EventMeta) -> None:
        charge = self._live_charge(number)
        update = {k: v for k, v in (("quantity", change.quantity),
                                     ("unit_price", change.unit_price)) if v is not None}
        line = charge.line.model_copy(update=update)
        if line == charge.line:
            raise InvalidTransition("charge_unchanged", "the adjustment changes nothing")
        self.trigger_event(ev.ChargeAdjusted, meta=meta, number=number, line=line,
                           reason=change.reason)

    def void_charge(self, number: int, reason: str, meta: EventMeta) -> None:
        self._live_charge(number)
        self.trigger_event(ev.ChargeVoided, meta=meta, number=number, reason=reason)

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


def _check_charge(line: ChargeLine) -> None:
    if line.code in EXTRA_COST_CODES and not (line.reason or "").strip():
        raise RulesBroken([Violation(rule="extra_cost_reason_required", field="reason",
                                     detail=f"{line.code} is an extra cost: record its reason")])
