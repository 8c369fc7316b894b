"""Amendments may not newly break a review rule; re-confirmations that move the schedule are
recorded as schedule changes; money rounds to the currency's minor unit."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from factories import NOW, amendment, confirmation, meta, order, rollover
from shipflow.events.common import InvalidTransition, Money, RulesBroken
from shipflow.events.shipment.records import FieldChange

M = meta()


def confirmed(svc, **overrides):
    sid = svc.request_booking(order(**overrides), M).shipment_id
    svc.review(sid, [], M)
    svc.confirm_by_carrier(sid, confirmation(), M)
    return sid


def amend(svc, sid, field, after, before=None):
    return svc.request_amendment(sid, amendment([FieldChange(field=field, after=after,
                                                             before=before)],
                                 "mail 2026-11-21", "", [], []), M)


@pytest.mark.parametrize(("field", "after", "rule"), [
    ("bl_clauses", ["SHIPPER'S LOAD, STOW AND COUNT"], "carrier_consent_required"),
    ("customer_signature_ref", None, "customer_signature_required"),
])
def test_an_amendment_that_newly_breaks_an_approval_rule_is_refused(memory_service, field,
                                                                      after, rule):
    sid = confirmed(memory_service)
    version = memory_service.get(sid).version
    with pytest.raises(RulesBroken) as refused:
        amend(memory_service, sid, field, after)
    assert [v.rule for v in refused.value.violations] == [rule]
    assert memory_service.get(sid).version == version


def test_an_amendment_may_leave_an_already_broken_approval_rule_as_it_was(memory_service):
    # On hold for the signature: correcting the consignee is still a valid amendment.
    sid = memory_service.request_booking(order(customer_signature_ref=None), M).shipment_id
    memory_service.review(sid, [], M)
    assert amend(memory_service, sid, "consignee.address", "9 Ocean Blvd").events == [
        "AmendmentRequested"]


def test_before_values_compare_numbers_as_numbers(memory_service):
    sid = confirmed(memory_service)
    assert amend(memory_service, sid, "gross_weight_kg", "15000", before=14500).result == 1


def test_review_while_an_amendment_is_pending_names_the_pending_amendment(memory_service):
    sid = memory_service.request_booking(order(customer_signature_ref=None), M).shipment_id
    memory_service.review(sid, [], M)
    amend(memory_service, sid, "customer_signature_ref", "SO-SIGNED-1")
    with pytest.raises(InvalidTransition) as refused:
        memory_service.review(sid, [], M)
    assert refused.value.rule == "amendment_pending"


def test_a_reconfirmation_that_moves_the_eta_records_a_schedule_change(memory_service):
    sid = confirmed(memory_service)
    later_eta = NOW + timedelta(days=40)
    recorded = memory_service.confirm_by_carrier(sid, confirmation(eta=later_eta.isoformat()), M)
    assert recorded.events == ["CarrierConfirmed", "ScheduleChanged"]
    change = memory_service.history(sid)[-1]
    assert (change.previous_eta, change.eta) == (NOW + timedelta(days=30), later_eta)
    assert change.cause == "carrier re-confirmation"


def test_the_first_confirmation_is_not_a_schedule_change(memory_service):
    sid = memory_service.request_booking(order(), M).shipment_id
    memory_service.review(sid, [], M)
    assert memory_service.confirm_by_carrier(sid, confirmation(), M).events == [
        "CarrierConfirmed"]


@pytest.mark.parametrize(("currency", "price", "quantity", "amount"), [
    ("USD", "0.125", "1", "0.13"),  # half-up, not banker's rounding
    ("KWD", "1.1255", "1", "1.126"),  # three decimals
    ("JPY", "1234.5", "1", "1235"),  # no decimals
    ("CNY", "1100", "2.5", "2750.00"),
])
def test_amounts_round_half_up_to_the_currency_minor_unit(currency, price, quantity, amount):
    total = Money(amount=Decimal(price), currency=currency).times(Decimal(quantity))
    assert str(total.amount) == amount


def test_shut_out_cargo_rolls_to_the_next_sailing_after_its_vessel_left(memory_service):
    from shipflow.events.common import VesselVoyage
    from shipflow.events.shipment.records import SailingOutcome
    from shipflow.events.shipment.tracking import Milestone

    sid = confirmed(memory_service)
    left = NOW + timedelta(days=15)
    memory_service.record_milestone(sid, Milestone(kind="TRANSPORT", code="DEPA",
                                                   classifier="ACT", event_time=left), M)
    memory_service.record_sailing_outcome(sid, SailingOutcome.SHUT_OUT, "overbooked", M)
    memory_service.roll_over(sid, rollover(VesselVoyage(vessel="MSC ANNA", voyage="301E"),
                                           "shut out",
                             left + timedelta(days=7), left + timedelta(days=23), 0), M)
    s = memory_service.get(sid)
    assert (s.sailing_outcome, s.departed, s.etd) == (None, False, left + timedelta(days=7))
