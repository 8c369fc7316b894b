"""What each recorded event does to the shipment's state, read back through the store."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from factories import NOW, amendment, confirmation, meta, order, rollover
from shipflow.events.common import DomainError, Money, VesselVoyage
from shipflow.events.shipment.charges import ChargeChange, ChargeLine
from shipflow.events.shipment.records import (
    AmendmentStatus,
    BookingStatus,
    FieldChange,
    ReviewOutcome,
    RuleConfirmation,
    SailingOutcome,
)
from shipflow.events.shipment.tracking import Milestone, ShipmentException

M = meta()
ETD = NOW + timedelta(days=15)  # the factory confirmation's ETD and ETA
ETA = NOW + timedelta(days=30)
NEXT_VESSEL = VesselVoyage(vessel="MAERSK EMDEN", voyage="250E")


def booked(svc, **overrides):
    sid = svc.request_booking(order(**overrides), M).shipment_id
    svc.review(sid, [], M)
    svc.confirm_by_carrier(sid, confirmation(), M)
    return sid


def names(svc, sid) -> list[str]:
    return [type(e).__name__ for e in svc.history(sid)]


def last(svc, sid, event_type: str):
    return [e for e in svc.history(sid) if type(e).__name__ == event_type][-1]


def line(code="OFR", amount="1850.00", quantity="1", direction="RECEIVABLE", reason=None):
    return ChargeLine.model_validate({
        "direction": direction, "code": code, "quantity": quantity, "counterparty": "CUST-ACME",
        "unit_price": {"amount": amount, "currency": "USD"}, "reason": reason})


def milestone(code, classifier, at, **kw) -> Milestone:
    return Milestone(kind="TRANSPORT", code=code, classifier=classifier, event_time=at, **kw)


def yes(rule: str, by: str) -> RuleConfirmation:
    return RuleConfirmation(rule=rule, confirmed_by=by, confirmed_at=NOW, recorded_by="cs.wang")


# --- review --------------------------------------------------------------------------------


def test_review_confirmations_resolve_approval_rules_one_by_one(memory_service):
    svc = memory_service
    sid = svc.request_booking(order(customer_signature_ref=None, lc_clauses=["L/C 889"]),
                              M).shipment_id

    svc.review(sid, [], M)
    s = svc.get(sid)
    assert s.review_outcome is ReviewOutcome.ON_HOLD
    assert [v.rule for v in s.open_violations] == ["customer_signature_required",
                                                   "carrier_consent_required"]

    svc.review(sid, [yes("customer_signature_required", "route manager Zhao")], M)
    s = svc.get(sid)
    assert s.status is BookingStatus.PENDING_UPDATE
    assert [v.rule for v in s.open_violations] == ["carrier_consent_required"]

    assert svc.review(sid, [yes("carrier_consent_required", "MAEU desk")], M).result is (
        ReviewOutcome.ACCEPTED)
    s = svc.get(sid)
    assert (s.status, s.review_outcome, s.open_violations) == (
        BookingStatus.RECEIVED, ReviewOutcome.ACCEPTED, [])
    # who confirmed each rule, and when, stays on the shipment (domain.md §2.1)
    assert [(c.rule, c.confirmed_by, c.confirmed_at) for c in s.confirmations] == [
        ("customer_signature_required", "route manager Zhao", NOW),
        ("carrier_consent_required", "MAEU desk", NOW)]
    reviewed = last(svc, sid, "BookingReviewed")
    assert reviewed.outcome is ReviewOutcome.ACCEPTED and reviewed.violations == []


@pytest.mark.parametrize("rule", ["terminal_required", "payment_term_required", "no_such_rule"])
def test_data_rules_cannot_be_confirmed_away(memory_service, rule):
    svc = memory_service
    sid = svc.request_booking(order(customer_signature_ref=None), M).shipment_id
    with pytest.raises(DomainError) as e:
        svc.review(sid, [yes(rule, "cs.wang")], M)
    assert (type(e.value), e.value.rule, e.value.field) == (
        DomainError, "rule_not_confirmable", "confirmations")
    assert names(svc, sid) == ["BookingRequested"]
    assert svc.get(sid).confirmations == []


# --- amendments ----------------------------------------------------------------------------


def test_approved_amendment_replaces_the_order_and_records_its_fees(memory_service):
    svc = memory_service
    sid = booked(svc)
    svc.add_charge(sid, line(), None, M)
    fees = [line("REHANDLING", "120", reason="new POD needs re-stow"), line("AMD", "35")]
    n = svc.request_amendment(
        sid, amendment([FieldChange(field="pod", after="USLGB"),
              FieldChange(field="equipment.0.count", after=2)],
        "email from shipper 2026-11-21", "POD change", fees, ["carrier_desk", "finance"]),
        M).result
    requested = svc.get(sid)
    assert requested.order.pod == "USLAX"  # nothing changes until the CS approves
    assert len(requested.charges) == 1
    assert [(c.field, c.before, c.after) for c in requested.amendments[0].changes] == [
        ("pod", "USLAX", "USLGB"), ("equipment.0.count", 1, 2)]

    svc.approve_amendment(sid, n, M)
    s = svc.get(sid)
    assert (s.order.pod, s.order.equipment[0].count) == ("USLGB", 2)
    assert s.order.consignee == order().consignee
    a = s.amendments[0]
    assert (a.status, a.decided_by, a.notify_parties) == (
        AmendmentStatus.APPROVED, "cs.wang", ["carrier_desk", "finance"])
    assert [(c.number, c.line.code, c.amendment_number) for c in s.charges] == [
        (1, "OFR", None), (2, "REHANDLING", n), (3, "AMD", n)]
    assert names(svc, sid)[-3:] == ["AmendmentApproved", "ChargeAdded", "ChargeAdded"]
    assert last(svc, sid, "AmendmentApproved").order == s.order


def test_rejected_amendment_changes_nothing_but_its_record(memory_service):
    svc = memory_service
    sid = booked(svc)
    n = svc.request_amendment(sid, amendment([FieldChange(field="pod", after="USLGB")], "ref", "r",
                              [line("AMD", "35")], []), M).result
    svc.reject_amendment(sid, n, "customer withdrew", M)
    s = svc.get(sid)
    assert s.order == order() and s.charges == []
    assert (s.amendments[0].status, s.amendments[0].decision_reason) == (
        AmendmentStatus.REJECTED, "customer withdrew")
    # the next amendment gets the next number
    assert svc.request_amendment(sid, amendment([FieldChange(field="pod", after="USLGB")], "ref2",
                                                "r",
                                 [], []), M).result == 2


# --- milestones ----------------------------------------------------------------------------


def test_an_estimate_never_overwrites_an_actual(memory_service):
    svc = memory_service
    sid = booked(svc)
    departed = ETD + timedelta(hours=6)
    svc.record_milestone(sid, milestone("DEPA", "ACT", departed), M)
    later = meta(occurred_at=NOW + timedelta(days=20))
    result = svc.record_milestone(sid, milestone("DEPA", "EST", ETD + timedelta(days=3)), later)
    assert result.result is False
    s = svc.get(sid)
    assert s.etd == departed and s.departure.actual == departed
    assert s.departure.estimated is None
    recorded = last(svc, sid, "MilestoneRecorded")
    assert recorded.superseded is True and recorded.milestone.classifier.value == "EST"
    assert names(svc, sid)[-1] == "MilestoneRecorded"  # no schedule change either
    # a planned time after the actual is history only, too
    assert svc.record_milestone(sid, milestone("DEPA", "PLN", ETD), later).result is False


def test_an_older_estimate_does_not_replace_a_newer_one(memory_service):
    svc = memory_service
    sid = booked(svc)
    newer, older = ETA + timedelta(days=2), ETA + timedelta(days=1)
    svc.record_milestone(sid, milestone("ARRI", "EST", newer),
                         meta(occurred_at=NOW + timedelta(hours=2)))
    # an agent's estimate made an hour earlier arrives late
    assert svc.record_milestone(sid, milestone("ARRI", "EST", older),
                                meta(occurred_at=NOW + timedelta(hours=1))).result is False
    s = svc.get(sid)
    assert s.eta == newer and s.arrival.estimated_made_at == NOW + timedelta(hours=2)
    assert last(svc, sid, "MilestoneRecorded").superseded is True
    # a still newer estimate does replace it
    newest = ETA + timedelta(days=3)
    assert svc.record_milestone(sid, milestone("ARRI", "EST", newest),
                                meta(occurred_at=NOW + timedelta(hours=3))).result is True
    assert svc.get(sid).eta == newest


def test_an_actual_wins_over_the_estimate_and_corrects_an_earlier_actual(memory_service):
    svc = memory_service
    sid = booked(svc)
    svc.record_milestone(sid, milestone("ARRI", "EST", ETA + timedelta(days=2)), M)
    svc.record_milestone(sid, milestone("ARRI", "ACT", ETA), M)
    assert svc.get(sid).eta == ETA
    assert last(svc, sid, "ScheduleChanged").eta == ETA
    fixed = ETA + timedelta(hours=5)
    assert svc.record_milestone(sid, milestone("ARRI", "ACT", fixed), M).result is True
    assert svc.get(sid).arrival.actual == fixed


@pytest.mark.parametrize(("code", "moved", "etd", "eta"), [
    ("DEPA", ETD + timedelta(days=2), ETD + timedelta(days=2), ETA),
    ("ARRI", ETA + timedelta(days=4), ETD, ETA + timedelta(days=4)),
])
def test_a_moved_departure_or_arrival_records_the_schedule_change(memory_service, code, moved,
                                                                    etd, eta):
    svc = memory_service
    sid = booked(svc)
    svc.record_milestone(sid, milestone(code, "EST", moved), M)  # no location: POL / POD
    change = last(svc, sid, "ScheduleChanged")
    assert (change.previous_etd, change.etd, change.previous_eta, change.eta) == (
        ETD, etd, ETA, eta)
    assert change.cause == f"{code} EST"
    assert names(svc, sid)[-2:] == ["MilestoneRecorded", "ScheduleChanged"]
    assert (svc.get(sid).etd, svc.get(sid).eta) == (etd, eta)
    assert last(svc, sid, "MilestoneRecorded").milestone.location == (
        "CNSHA" if code == "DEPA" else "USLAX")


def test_a_milestone_that_moves_nothing_records_no_schedule_change(memory_service):
    svc = memory_service
    sid = booked(svc)
    svc.record_milestone(sid, milestone("DEPA", "EST", ETD), M)
    svc.record_milestone(sid, milestone("ARRI", "EST", ETA + timedelta(days=1),
                                        location="KRPUS"), M)  # a transshipment port
    svc.record_milestone(sid, Milestone(kind="EQUIPMENT", code="GTIN", classifier="ACT",
                                        event_time=NOW, location="CNSHA",
                                        container_no="MSKU1234565"), M)
    assert "ScheduleChanged" not in names(svc, sid)
    assert svc.get(sid).last_milestone.code == "GTIN"


# --- rollover ------------------------------------------------------------------------------


def test_rollover_moves_the_cargo_and_clears_a_shut_out(memory_service):
    svc = memory_service
    sid = booked(svc)
    svc.record_milestone(sid, milestone("DEPA", "EST", ETD + timedelta(days=1)), M)
    svc.record_sailing_outcome(sid, SailingOutcome.SHUT_OUT, "vessel full", M)
    new_etd, new_eta = ETD + timedelta(days=7), ETA + timedelta(days=7)
    svc.roll_over(sid, rollover(NEXT_VESSEL, "shut out: vessel full", new_etd, new_eta, 0), M)
    s = svc.get(sid)
    assert s.vessel_voyage == NEXT_VESSEL
    # the estimate for the old sailing no longer counts
    assert (s.etd, s.eta) == (new_etd, new_eta)
    assert s.sailing_outcome is None
    rolled = last(svc, sid, "RolledOver")
    assert rolled.from_vessel_voyage == VesselVoyage(vessel="MAERSK ESSEN", voyage="248E")
    change = last(svc, sid, "ScheduleChanged")
    assert (change.previous_etd, change.etd, change.previous_eta, change.eta, change.cause) == (
        ETD + timedelta(days=1), new_etd, ETA, new_eta, "rollover")
    svc.record_sailing_outcome(sid, SailingOutcome.SHIPPED, "", M)
    assert svc.get(sid).sailing_outcome is SailingOutcome.SHIPPED


def test_rollover_at_transshipment_keeps_the_actual_departure(memory_service):
    svc = memory_service
    sid = booked(svc)
    svc.record_milestone(sid, milestone("DEPA", "ACT", ETD), M)
    feeder = VesselVoyage(vessel="KOTA LAYANG", voyage="031N")
    svc.roll_over(sid, rollover(feeder, "missed connection at Busan", ETD + timedelta(days=5),
                  ETA + timedelta(days=6), 1), M)
    s = svc.get(sid)
    assert s.legs == [VesselVoyage(vessel="MAERSK ESSEN", voyage="248E"), feeder]
    assert (s.etd, s.eta, s.departed) == (ETD, ETA + timedelta(days=6), True)


# --- exceptions, charges, outcome ----------------------------------------------------------


def test_exceptions_are_numbered_and_resolved(memory_service):
    svc = memory_service
    sid = booked(svc)
    raised_at = NOW + timedelta(days=16)
    first = svc.raise_exception(sid, ShipmentException(kind="CUSTOMS_INSPECTION",
                                                       description="CIQ inspection"),
                                meta(actor="track.liu", occurred_at=raised_at)).result
    second = svc.raise_exception(sid, ShipmentException(kind="STRIKE", description="port strike",
                                                        location="USLAX"), M).result
    assert (first, second) == (1, 2)
    svc.resolve_exception(sid, 1, "released after inspection",
                          meta(occurred_at=raised_at + timedelta(days=1)))
    s = svc.get(sid)
    e1 = s.exceptions[0]
    assert (e1.raised_by, e1.raised_at, e1.resolved_at, e1.resolution) == (
        "track.liu", raised_at, raised_at + timedelta(days=1), "released after inspection")
    assert [e.number for e in s.open_exceptions] == [2]


def test_charges_are_added_adjusted_and_voided(memory_service):
    svc = memory_service
    sid = booked(svc)
    n = svc.add_charge(sid, line("DETENTION", "75", quantity="3",
                                 reason="container kept 3 days past free time"), None, M).result
    assert svc.get(sid).charges[0].line.amount == Money(amount="225.00", currency="USD")
    svc.adjust_charge(sid, n, ChargeChange(quantity="4", reason="4th day"), M)
    c = svc.get(sid).charges[0]
    assert (c.line.quantity, c.line.amount.amount) == (Decimal("4"), Decimal("300.00"))
    assert c.line.reason == "container kept 3 days past free time"
    assert last(svc, sid, "ChargeAdjusted").reason == "4th day"
    svc.adjust_charge(sid, n, ChargeChange(unit_price={"amount": "80", "currency": "USD"},
                                           reason="tariff"), M)
    assert svc.get(sid).charges[0].line.amount.amount == Decimal("320.00")
    svc.void_charge(sid, n, "waived by carrier", M)
    c = svc.get(sid).charges[0]
    assert (c.voided, c.void_reason) == (True, "waived by carrier")
    # voiding keeps the numbering: the next charge is 2
    assert svc.add_charge(sid, line(direction="PAYABLE"), None, M).result == 2


def test_sailing_outcome_and_close(memory_service):
    svc = memory_service
    sid = booked(svc)
    svc.record_sailing_outcome(sid, SailingOutcome.SHIPPED, "", M)
    assert svc.get(sid).sailing_outcome is SailingOutcome.SHIPPED
    svc.close_shipment(sid, "POD delivered, all invoices issued", M)
    s = svc.get(sid)
    assert s.status is BookingStatus.COMPLETED
    assert last(svc, sid, "ShipmentClosed").note == "POD delivered, all invoices issued"


def test_cancel_records_the_reason_and_who(memory_service):
    svc = memory_service
    sid = booked(svc)
    svc.cancel(sid, "customer postponed the order", meta(actor="cs.wang"))
    assert svc.get(sid).status is BookingStatus.CANCELLED
    cancelled = last(svc, sid, "ShipmentCancelled")
    assert (cancelled.reason, cancelled.meta.actor) == ("customer postponed the order",
                                                        "cs.wang")
