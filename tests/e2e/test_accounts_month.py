"""A month of accounts receivable for a demo customer, end to end through a real server on
SQLite and PostgreSQL: open the account, invoice three jobs, receive and apply payments (one
a possible duplicate), a dispute settled by a credit note, a dunning notice, a credit hold
that blocks a booking review, its release, and the statement in JSON and Excel."""

from __future__ import annotations

from io import BytesIO
from typing import Any

import httpx
from openpyxl import load_workbook

from ar_factories import terms_data
from factories import order_data

C = "CUST-DEMO"
CS = {"X-Actor": "cs.wang", "X-Role": "cs"}
FIN = {"X-Actor": "fin.lee", "X-Role": "finance"}


def at(day: str) -> dict[str, str]:
    return {"X-Occurred-At": f"{day}T09:00:00+00:00"}


def post(client: httpx.Client, path: str, body: Any, who: dict[str, str], day: str,
         status: int = 200) -> dict[str, Any]:
    r = client.post(path, json=body, headers={**who, **at(day)})
    assert r.status_code in (status, 201), r.text
    return r.json()


def demo_job(client: httpx.Client, n: int) -> str:
    order = order_data(customer_id=C, po_numbers=[f"PO-DEMO-{n}"])
    sid = post(client, "/shipments", order, CS, "2026-11-01", 201)["shipment_id"]
    for code, amount, currency, direction in (("OFR", "1850", "USD", "RECEIVABLE"),
                                              ("THC", "1100", "CNY", "RECEIVABLE"),
                                              ("DTHC", "300", "USD", "COLLECT")):
        post(client, f"/shipments/{sid}/charges", {
            "direction": direction, "code": code, "quantity": "1", "counterparty": C,
            "unit_price": {"amount": amount, "currency": currency}}, CS, "2026-11-02")
    return sid


def test_a_month_for_a_demo_customer(client):
    # finance opens the account: monthly statement (月结), 30 days after month end
    post(client, "/accounts", {"customer_id": C, "terms": terms_data(
        name="Demo Furniture Co.", bill_to=[{"code": C, "party": {"name": "Demo Furniture"}}],
        settlement_mode="MONTHLY", credit_limits=[{"amount": "6000", "currency": "USD"},
                                                  {"amount": "9000", "currency": "CNY"}],
        hold_after_days_overdue=15)}, FIN, "2026-10-01", 201)
    jobs = [demo_job(client, n) for n in range(3)]
    numbers = []
    for sid in jobs:
        r = post(client, f"/accounts/{C}/invoices", {"shipment_id": sid, "bill_to": C,
                                                     "currency": "USD",
                                                     "issue_date": "2026-10-05"},
                 CS, "2026-10-05", 201)
        assert r["events"] == ["InvoiceIssued", "ChargesInvoiced"]
        numbers.append(r["result"]["number"])
        assert r["result"]["due_date"] == "2026-11-30"  # 月结: Oct 31 + 30 days
    i1, i2, i3 = numbers
    # an invoiced charge cannot be changed: problem+json names the rule
    r = client.post(f"/shipments/{jobs[0]}/charges/1/void", json={"reason": "x"}, headers=CS)
    assert r.status_code == 409 and r.json()["violations"][0]["rule"] == "charge_invoiced"
    assert r.headers["content-type"].startswith("application/problem+json")
    # payment: only finance; one partial and multi-invoice; a possible duplicate flagged
    r = client.post(f"/accounts/{C}/payments", json={
        "amount": {"amount": "1", "currency": "USD"}, "payer": "Demo"}, headers=CS)
    assert (r.status_code, r.json()["type"]) == (403, "urn:shipflow:problem:finance_role_required")
    pay = {"amount": {"amount": "2500.00", "currency": "USD"}, "payer": "Demo Furniture",
           "bank_reference": "BBVA-55", "value_date": "2026-11-10"}
    p1 = post(client, f"/accounts/{C}/payments", pay, FIN, "2026-11-10", 201)["result"]
    p2 = post(client, f"/accounts/{C}/payments", pay, FIN, "2026-11-11", 201)["result"]
    assert (p1["status"], p2["status"], p2["duplicate_of"]) == (
        "RECEIVED", "FLAGGED", p1["number"])
    post(client, f"/accounts/{C}/payments/{p1['number']}/applications", {"applications": [
        {"invoice_number": i1, "amount": {"amount": "1850", "currency": "USD"}},
        {"invoice_number": i2, "amount": {"amount": "650", "currency": "USD"}}]},
        FIN, "2026-11-10")
    r = client.post(f"/accounts/{C}/payments/{p2['number']}/applications", headers=FIN, json={
        "applications": [{"invoice_number": i3, "amount": {"amount": "1", "currency": "USD"}}]})
    assert r.status_code == 409 and r.json()["type"].endswith("payment_possible_duplicate")
    post(client, f"/accounts/{C}/payments/{p2['number']}/rejection",
         {"reason": "the same transfer keyed twice"}, FIN, "2026-11-11")
    # a dispute, settled by a credit note for an amount
    post(client, f"/accounts/{C}/invoices/{i3}/dispute", {"reason": "two days late"}, CS,
         "2026-11-12")
    cn = post(client, f"/accounts/{C}/invoices/{i3}/credit-notes", {
        "lines": [{"description": "late delivery discount", "amount": "185.00"}],
        "reason": "dispute settled: 10%"}, FIN, "2026-11-14", 201)["result"]
    # overdue after Nov 30: a reminder, then the hold blocks a new booking's review
    post(client, f"/accounts/{C}/dunning-notices", {"level": "REMINDER"}, CS, "2026-12-05",
         201)
    booking = post(client, "/shipments", order_data(customer_id=C), CS, "2026-12-16", 201)
    r = post(client, f"/shipments/{booking['shipment_id']}/review", {}, CS, "2026-12-16")
    shipment = client.get(f"/shipments/{booking['shipment_id']}").json()
    assert shipment["review_outcome"] == "ON_HOLD"
    assert [v["rule"] for v in shipment["open_violations"]] == ["customer_on_credit_hold"]
    hold = post(client, f"/accounts/{C}/credit-check", {}, CS, "2026-12-16")
    assert hold["events"] == ["CreditHoldPlaced"]
    account = client.get(f"/accounts/{C}")
    assert account.headers["ETag"] == f'"{account.json()["version"]}"'
    assert account.json()["credit_hold"]["reasons"] == [f"overdue:{i2}", f"overdue:{i3}"]
    stale = client.post(f"/accounts/{C}/hold/release", json={"reason": "x"},
                        headers={**FIN, "If-Match": '"1"'})
    assert stale.status_code == 412
    released = post(client, f"/accounts/{C}/hold/release",
                    {"reason": "customer paid by cheque today"}, FIN, "2026-12-16")
    post(client, f"/shipments/{booking['shipment_id']}/review", {}, CS, "2026-12-16")
    assert client.get(f"/shipments/{booking['shipment_id']}").json()["review_outcome"] == \
        "ACCEPTED"
    # the statement for November, once the view has the release
    params = {"from": "2026-11-01", "to": "2026-11-30", "currency": "USD",
              "min_position": released["position"]}
    st = client.get(f"/accounts/{C}/statement", params=params)
    assert st.status_code == 200, st.text
    usd = st.json()["currencies"][0]
    assert (usd["opening_balance"], usd["payments"], usd["credit_notes"],
            usd["closing_balance"]) == ("5550.00", "2500.00", "185.00", "2865.00")
    assert [(o["number"], o["open_amount"]) for o in usd["open_items"]] == [
        (i2, "1200.00"), (i3, "1665.00")]
    assert usd["aging"]["current"] == "2865.00"  # due Nov 30: not overdue at Nov 30
    assert st.json()["on_hold"] is False
    # as of a past moment: before the payment was recorded
    events = client.get(f"/accounts/{C}/events").json()
    first_payment = next(k for k, e in enumerate(events) if e["type"] == "PaymentReceived")
    before_payment = events[first_payment - 1]["recorded_at"]
    past = client.get(f"/accounts/{C}/statement", params={
        "as_of": before_payment, "from": "2026-11-01", "to": "2026-11-30", "currency": "USD"})
    assert past.json()["currencies"][0]["closing_balance"] == "5550.00"
    # December statement in Excel, ready to send
    x = client.get(f"/accounts/{C}/statement.xlsx", params={"to": "2026-12-31"})
    assert x.status_code == 200
    assert x.headers["content-type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(BytesIO(x.content))
    assert wb.sheetnames == ["CNY", "USD"]
    ws = wb["USD"]
    assert ws["A1"].value == "Statement of account" and ws["B4"].value == "USD"
    assert ws["B8"].value == 2865 and ws["B13"].value == 2865  # no December movement
    assert ws["A15"].value == "Date" and ws["A16"].value == "Totals"
    assert ws["A18"].value == "Open items at 2026-12-31"
    assert [ws.cell(20, c).value for c in (1, 5, 6, 8)] == [i2, 31, "31-60", 1200]
    assert [c.value for c in ws[25]][:7] == [0, 0, 2865, 0, 0, 0, 2865]
    # the AR work queue after the month: overdue items, no duplicate left, no hold
    q = client.get("/accounts/work-queue", params={"on": "2026-12-31",
                                                   "min_position": released["position"]})
    overdue = [r for r in q.json()["overdue"] if r["customer_id"] == C]
    assert [(r["currency"], r["overdue"], r["days_overdue"]) for r in overdue] == [
        ("USD", "2865.00", 31)]
    assert not [d for d in q.json()["possible_duplicates"] if d["customer_id"] == C]
    assert cn["total"] == "185.00"
