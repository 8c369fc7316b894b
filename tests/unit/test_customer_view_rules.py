"""The customer view's rules, held to the domain: every event type, booking-order field, timer
kind and account document field is decided (shown or internal), so a new one cannot reach a
customer without someone choosing; and the view is a pure function of state and events."""

from __future__ import annotations

import pytest

from customer_world import SECRETS, A, build
from shipflow.events.account import events as account_events
from shipflow.events.account import values
from shipflow.events.shipment import events as shipment_events
from shipflow.events.shipment.booking import BookingOrder
from shipflow.events.shipment.charges import ChargeLine
from shipflow.projections import customer_view
from shipflow.projections.customer_view import account, history, rules, shipment
from shipflow.projections.sla.config import KINDS


def test_every_shipment_event_type_is_decided():
    assert set(history.PAYLOADS) == set(shipment_events.EVENT_TYPES)


def test_every_account_event_type_is_decided():
    assert set(account.ACCOUNT_PAYLOADS) == set(account_events.EVENT_TYPES)


def test_every_timer_kind_is_decided():
    assert set(KINDS) >= rules.CUSTOMER_TIMERS
    assert set(KINDS) == rules.CUSTOMER_TIMERS | rules.INTERNAL_TIMERS


def test_every_booking_order_field_is_decided():
    shown = set(shipment.CustomerOrder.model_fields)
    assert shown | rules.INTERNAL_ORDER_FIELDS == set(BookingOrder.model_fields)
    assert not shown & rules.INTERNAL_ORDER_FIELDS


@pytest.mark.parametrize(("model", "domain", "internal"), [
    (account.CustomerTerms, values.AccountTerms, {"collection_owner",
                                                  "hold_after_days_overdue"}),
    (account.CustomerInvoice, values.Invoice, {"explanations"}),
    (account.CustomerPayment, values.Payment, {"duplicate_of", "status_reason"}),
    (account.CustomerCommitment, values.Commitment, {"note", "recorded_by", "outcome_note"}),
    (account.CustomerDunningNotice, values.DunningNotice, {"issued_by"}),
    (account.CustomerHold, values.CreditHold, {"placed_by", "note"}),
    (account.CustomerRelease, values.HoldRelease, {"released_by", "reason", "covered",
                                                   "covered_exposure"}),
])
def test_every_account_document_field_is_decided(model, domain, internal):
    """A field added to an account document fails here until it is shown or kept inside."""
    assert set(domain.model_fields) - set(model.model_fields) == internal
    assert set(model.model_fields) <= set(domain.model_fields)


def test_a_customer_is_billed_under_its_id_and_every_bill_to_of_its_account():
    terms = values.AccountTerms.model_validate({
        "name": "Alpha", "currencies": ["USD"], "credit_term_days": 30,
        "settlement_mode": "PER_SHIPMENT", "collection_owner": "ar.x",
        "bill_to": [{"code": "A-HK", "party": {"name": "Alpha Trading  HK Ltd"}}]})
    c = customer_view.Customer.of(A, terms)
    line = {"code": "OFR", "quantity": "1", "unit_price": {"amount": "1", "currency": "USD"}}
    for direction, party, shown in [
            ("RECEIVABLE", " cust-a ", True), ("COLLECT", "alpha trading hk ltd", True),
            ("RECEIVABLE", "a-hk", True), ("PAYABLE", A, False),
            ("RECEIVABLE", "Someone Else", False)]:
        charge = ChargeLine.model_validate({**line, "direction": direction,
                                            "counterparty": party})
        assert customer_view.billed(c, charge) is shown, (direction, party)


def test_the_view_is_a_pure_function_of_the_shipment_and_its_events(memory_service):
    world = build(memory_service)
    s = memory_service.get(world.a1)
    c = customer_view.customer_for(memory_service.store, A)
    assert customer_view.shipment_view(s, c) == customer_view.shipment_view(s, c)
    events = memory_service.history(world.a1)
    seen = customer_view.shipment_history(events, c)
    assert seen == customer_view.shipment_history(events, c)
    body = "".join(e.model_dump_json() for e in seen) + customer_view.shipment_view(
        s, c).model_dump_json()
    assert [n for n, secret in SECRETS.items() if secret in body] == []
    # as of an earlier version: the same rules on the state then
    early = memory_service.get(world.a1, version=3)
    assert customer_view.shipment_view(early, c).version == 3
