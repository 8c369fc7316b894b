"""Account events reach subscribers: invoice issued, payment applied, credit hold changed."""

from __future__ import annotations

from datetime import date

from ar_factories import (
    CUSTOMER,
    USUAL,
    advice,
    app,
    cs,
    fin,
    inv,
    invoice_request,
    job,
    terms,
    usd,
)
from shipflow.events.account.values import PaymentMethod
from shipflow.services.accounts import AccountService
from shipflow.webhooks import catalogue


def test_account_events_are_delivered(hub):
    assert {"account.invoice_issued", "account.payment_applied",
            "account.credit_hold_changed"} <= set(catalogue.EVENT_TYPES)
    hub.subscribe("/ar", ["account.*"], customer=CUSTOMER)
    ar = AccountService(hub.service.store)
    ar.open_account(CUSTOMER, terms(), fin())
    sid = job(hub.service, USUAL)
    ar.issue_invoice(CUSTOMER, invoice_request(sid, CUSTOMER, "USD", None, [], date(2026, 11, 1)),
                     cs())
    p = ar.receive_payment(CUSTOMER, advice(usd(1850), "BANK-1", date(2026, 11, 3), "Acme",
                           PaymentMethod.TRANSFER, None), fin()).result.number
    ar.apply_payment(CUSTOMER, p, [app(inv(1), 1850)], None, fin())
    ar.place_hold(CUSTOMER, "over limit", fin())
    ar.release_hold(CUSTOMER, "paid", fin())
    hub.pump()
    got = [r.json for r in hub.receiver.on("/ar")]
    assert [m["type"] for m in got] == [
        "account.invoice_issued", "account.payment_applied", "account.credit_hold_changed",
        "account.credit_hold_changed"]
    assert got[0]["data"]["invoice_number"] == inv(1)
    assert got[1]["data"]["applications"][0]["invoice_number"] == inv(1)
    assert [m["data"]["on_hold"] for m in got[2:]] == [True, False]
    assert {m["customer_id"] for m in got} == {CUSTOMER} and "account_id" in got[0]
    assert hub.receiver.unverified == []
