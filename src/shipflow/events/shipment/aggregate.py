"""The Shipment aggregate: a booking's whole life, from hand-over to close.

Each public method is a command: it checks the shipment's state (the guards of
:class:`~shipflow.events.shipment.state.ShipmentState`) and the named rules, then records
one or more events (:mod:`shipflow.events.shipment.events`). A refused command raises a named
:class:`DomainError` and records nothing. Sections follow the desks' work: review, carrier,
amendments, documents, tracking, charges, outcome.

One aggregate, one file, a little over 400 lines: every command of a shipment is here, so
"what may happen to a shipment, and when" is read in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

from shipflow.events.common import (
    DomainError,
    DuplicateEvent,
    EventMeta,
    InvalidTransition,
    NotFound,
    NotPermitted,
    RulesBroken,
    Violation,
)
from shipflow.events.shipment import amendments, rules
from shipflow.events.shipment import events as ev
from shipflow.events.shipment.amendments import AmendmentRequest
from shipflow.events.shipment.booking import Approval, BookingOrder
from shipflow.events.shipment.charges import ChargeChange, ChargeLine, check_charge
from shipflow.events.shipment.documents import (
    BlDating,
    BlDocumentType,
    BlIssue,
    BlRelease,
    CarrierConfirmation,
    ShippingInstructions,
    dating_of,
)
from shipflow.events.shipment.records import (
    Amendment,
    AmendmentStatus,
    BookingStatus,
    Charge,
    ReviewOutcome,
    RuleConfirmation,
    SailingOutcome,
)
from shipflow.events.shipment.state import ShipmentState
from shipflow.events.shipment.tracking import (
    Classifier,
    CustomerNotice,
    ExceptionKind,
    Milestone,
    MilestoneKind,
    Rollover,
    ShipmentException,
    estimate_made_at,
    leg_at,
)
from shipflow.events.shipment.transport_document import assemble, fingerprint

S = BookingStatus


class Shipment(ShipmentState):
    # --- booking and review ----------------------------------------------------------------

    @classmethod
    def request(cls, order: BookingOrder, meta: EventMeta) -> Shipment:
        """Booking requested from the sales hand-over. Data rules are checked now."""
        broken = rules.data_violations(order)
        if broken:
            raise RulesBroken(broken)
        return cls._create(ev.BookingRequested, meta=meta, order=order)

    def review(self, meta: EventMeta, confirmations: list[RuleConfirmation],
               extra_violations: Sequence[Violation] = ()) -> ReviewOutcome:
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

    def request_amendment(self, request: AmendmentRequest, meta: EventMeta) -> int:
        self._not_terminal("amend the booking")
        self._bl_not_issued("amend the booking")
        self._no_pending_amendment("request another amendment")
        amended, recorded = amendments.apply_changes(self.order, request.changes)
        self._refuse_new_violations(amended)
        for line in request.charges:
            check_charge(line)
        number = len(self.amendments) + 1
        self.trigger_event(ev.AmendmentRequested, meta=meta, number=number, changes=recorded,
                           customer_confirmation_ref=request.customer_confirmation_ref,
                           reason=request.reason, charges=request.charges,
                           notify_parties=request.notify_parties)
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

    # --- documents: shipping instructions and the B/L ---------------------------------------

    def submit_shipping_instructions(self, si: ShippingInstructions, meta: EventMeta) -> None:
        self._require_confirmed("submit shipping instructions")
        self._bl_not_issued("change the shipping instructions")
        broken = rules.shipping_instructions_violation(si)
        if broken:
            raise DomainError(broken.rule, broken.detail, broken.field)
        self.trigger_event(ev.ShippingInstructionsSubmitted, meta=meta, instructions=si,
                           revision=self.si_revision + 1)

    def approve_bl_draft(self, approval: Approval, draft_version: int | None,
                         meta: EventMeta, current_draft_version: int | None = None) -> None:
        """The customer approves the B/L draft. Versions are counted by the B/L draft fold, not
        here: the caller passes ``current_draft_version`` and an approval naming another
        version is refused."""
        self._require_confirmed("approve the B/L draft")
        self._bl_not_issued("approve the B/L draft")
        self._no_pending_amendment("approve the B/L draft")
        if self.shipping_instructions is None:
            raise InvalidTransition("si_missing", "the B/L draft needs shipping instructions")
        if current_draft_version is not None and draft_version not in (
                None, current_draft_version):
            raise InvalidTransition("bl_draft_version_stale", f"the B/L draft is at version "
                                    f"{current_draft_version}, not {draft_version}",
                                    "draft_version")
        self.trigger_event(ev.BlDraftApproved, meta=meta, approval=approval,
                           draft_version=draft_version,
                           document_fingerprint=fingerprint(assemble(self)))

    @property
    def bl_approval_current(self) -> bool:
        """Is the B/L document, as it reads now, the one the customer approved?"""
        return self.bl.approved_fingerprint == fingerprint(assemble(self))

    def bl_dating(self, on_board: date) -> BlDating:
        """How a shipped-on-board date relates to the actual loading (倒签/顺签/预借)."""
        return dating_of(on_board, self.loaded_at, self.order.pol)

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
        if not self.bl_approval_current:
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

    # --- tracking: milestones, rollovers, exceptions, notices, breaches ---------------------

    def record_milestone(self, m: Milestone, meta: EventMeta) -> bool:
        """Record a milestone; returns False when it only enters history (superseded).

        A milestone whose ``meta.external_id`` (e.g. a DCSA eventID) was recorded already is
        refused as ``duplicate_event``: feeds redeliver, history must not double."""
        self._require_confirmed("record a milestone")
        if meta.external_id and meta.external_id in self.external_ids:
            raise DuplicateEvent(meta.external_id)
        if m.kind is MilestoneKind.TRANSPORT and m.location is None:
            # DCSA sends location; our own feeds may not: DEPA leaves POL, ARRI reaches POD.
            m = m.model_copy(update={"location": self.order.pol if m.code == "DEPA"
                                     else self.order.pod})
        if m.leg is None:
            m = m.model_copy(update={"leg": self.leg_at(m.code, m.location)})
        entry = self.timeline.get(m.key)
        superseded = entry is not None and m.classifier is not Classifier.ACT and (
            entry.actual is not None
            or (m.classifier is Classifier.EST and entry.estimated_made_at is not None
                and estimate_made_at(m, meta) < entry.estimated_made_at))
        before = (self.etd, self.eta)
        self.trigger_event(ev.MilestoneRecorded, meta=meta, milestone=m, superseded=superseded)
        self._schedule_changed(before, meta, cause=f"{m.code} {m.classifier}")
        return not superseded

    def leg_at(self, code: str, location: str | None) -> int:
        o = self.order
        return leg_at([o.pol, *o.transshipment_ports, *([o.pod] if o.pod else [])], code,
                      location)

    def _schedule_changed(self, before: tuple[datetime | None, datetime | None],
                          meta: EventMeta, cause: str) -> None:
        if (self.etd, self.eta) != before:
            self.trigger_event(ev.ScheduleChanged, meta=meta, previous_etd=before[0],
                               etd=self.etd, previous_eta=before[1], eta=self.eta, cause=cause)

    def roll_over(self, r: Rollover, meta: EventMeta) -> None:
        self._require_confirmed("roll the cargo over")
        new_etd, new_eta = r.new_etd.astimezone(UTC), r.new_eta.astimezone(UTC)  # UTC stored
        if r.to_vessel_voyage.is_placeholder:
            raise DomainError("vessel_placeholder_not_allowed", "roll over to a named vessel",
                              "to_vessel_voyage")
        if new_eta <= new_etd:
            raise DomainError("eta_before_etd", "the ETA must be after the ETD", "new_eta")
        shut_out = self.sailing_outcome is SailingOutcome.SHUT_OUT
        if r.leg == 0 and not shut_out and (self.departed
                                            or self.sailing_outcome is SailingOutcome.SHIPPED):
            raise InvalidTransition("already_departed", "the cargo has sailed from POL; "
                                    "only a transshipment leg can be rolled")
        current = self.legs[r.leg] if r.leg < len(self.legs) else None
        if current == r.to_vessel_voyage:
            raise InvalidTransition("rollover_to_same_sailing",
                                    f"the cargo is already on {r.to_vessel_voyage}")
        before = (self.etd, self.eta)
        self.trigger_event(ev.RolledOver, meta=meta, leg=r.leg, from_vessel_voyage=current,
                           to_vessel_voyage=r.to_vessel_voyage, reason=r.reason,
                           new_etd=new_etd, new_eta=new_eta)
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

    def notify_customer(self, notice: CustomerNotice, meta: EventMeta) -> None:
        """Record what CS told the customer (any time: even a cancellation is news)."""
        self.trigger_event(ev.CustomerNotified, meta=meta, notice=notice)

    def record_sla_breach(self, timer: str, kind: str, started_at: datetime, due_at: datetime,
                          meta: EventMeta) -> bool:
        """Record that a timer passed its due time; once per timer, so tickers may race."""
        if timer in self.sla_breaches:
            return False
        self.trigger_event(ev.SlaBreached, meta=meta, timer=timer, kind=kind,
                           started_at=started_at, due_at=due_at)
        return True

    # --- charges: receivable, payable and collect lines ------------------------------------

    def add_charge(self, line: ChargeLine, amendment_number: int | None,
                   meta: EventMeta) -> int:
        self._not_completed()
        check_charge(line)
        if amendment_number is not None and not any(
                a.number == amendment_number for a in self.amendments):
            raise NotFound("amendment_not_found", f"no amendment {amendment_number}",
                           "amendment_number")
        number = len(self.charges) + 1
        self.trigger_event(ev.ChargeAdded, meta=meta, number=number, line=line,
                           amendment_number=amendment_number)
        return number

    def _live_charge(self, number: int) -> Charge:
        self._not_completed()
        found = next((c for c in self.charges if c.number == number), None)
        if found is None:
            raise NotFound("charge_not_found", f"no charge {number} on this shipment")
        if found.voided:
            raise InvalidTransition("charge_voided", f"charge {number} was voided")
        if found.invoice_number is not None:
            raise InvalidTransition("charge_invoiced", f"charge {number} is on invoice "
                                    f"{found.invoice_number}: issue a credit note or a "
                                    "re-bill instead of changing it")
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

    def record_invoiced(self, invoice_number: str, customer_id: str,
                        charge_numbers: list[int], meta: EventMeta) -> None:
        """Receivable charges went on an invoice (accounts receivable checked them)."""
        for n in charge_numbers:
            c = next((c for c in self.charges if c.number == n), None)
            if c is None:
                raise NotFound("charge_not_found", f"no charge {n} on this shipment")
            if c.voided or c.invoice_number is not None:
                raise InvalidTransition("charge_already_invoiced" if c.invoice_number
                                        else "charge_voided", f"charge {n} cannot be invoiced")
        self.trigger_event(ev.ChargesInvoiced, meta=meta, invoice_number=invoice_number,
                           customer_id=customer_id, charge_numbers=charge_numbers)

    def release_invoiced(self, invoice_number: str, credit_note_number: str,
                         charge_numbers: list[int], meta: EventMeta) -> None:
        """A credit note took these charges off their invoice."""
        if not charge_numbers:
            return
        self.trigger_event(ev.ChargesReleased, meta=meta, invoice_number=invoice_number,
                           credit_note_number=credit_note_number,
                           charge_numbers=charge_numbers)

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
