"""The statement of account as a pure fold: balances, lines, open items and aging at month
ends, the statement as it was known at a past moment, exact money over 10,000 lines, the
Excel workbook cell by cell, and the persistent map under the account."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from io import BytesIO

import pytest
from openpyxl import load_workbook

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
    line,
    terms,
    usd,
)
from shipflow.events.account.aggregate import CustomerAccount
from shipflow.events.account.pmap import PMap
from shipflow.events.account.values import Cheque, CreditNoteLine, PaymentMethod
from shipflow.projections.engine.base import fold
from shipflow.projections.statements.excel import statement_xlsx
from shipflow.projections.statements.projection import StatementProjection
from shipflow.projections.statements.statement import (
    BUCKETS,
    Entry,
    Item,
    currency_statement,
    summarize,
)
from shipflow.services.accounts import AccountService

T = PaymentMethod.TRANSFER


@pytest.fixture
def ar(memory_service) -> AccountService:
    svc = AccountService(memory_service.store)
    svc.open_account(CUSTOMER, terms(), fin())
    return svc


def view(ar, until: datetime | None = None):
    return fold(StatementProjection(), ar.history(CUSTOMER), until)[1]


def bill(ar, svc, on: date, charges=None) -> str:
    sid = job(svc, charges or USUAL)
    return ar.issue_invoice(CUSTOMER, invoice_request(sid, CUSTOMER, "USD", None, [], on),
                            cs()).result.number


def test_aging_at_month_ends(memory_service, ar):
    # term 30 days: due 30 days after each invoice
    dates = [date(2026, 8, 10), date(2026, 9, 15), date(2026, 10, 20), date(2026, 11, 25),
             date(2026, 12, 20)]
    numbers = [bill(ar, memory_service, d) for d in dates]
    p = ar.receive_payment(CUSTOMER, advice(usd(2000), "W-1", date(2026, 12, 28), "Acme", T, None),
                           fin()).result
    ar.apply_payment(CUSTOMER, p.number, [app(numbers[0], 1850)], date(2026, 12, 28), fin())
    v = view(ar)
    nov = v.statement(date(2026, 11, 1), date(2026, 11, 30), "USD").currencies[0]
    # at Nov 30: due Sep 9 (82 days), Oct 15 (46), Nov 19 (11), Dec 25 (not yet due)
    assert nov.aging == {"current": Decimal("1850.00"), "1-30": Decimal("1850.00"),
                         "31-60": Decimal("1850.00"), "61-90": Decimal("1850.00"),
                         "90+": Decimal("0.00")}
    assert [o.days_overdue for o in nov.open_items] == [82, 46, 11, 0]
    assert nov.closing_balance == Decimal("7400.00") and nov.opening_balance == Decimal("5550")
    dec = v.statement(date(2026, 12, 1), date(2026, 12, 31), "USD").currencies[0]
    # at Dec 31 the first is paid (applied Dec 28), the second is 77 days overdue
    assert dec.aging == {"current": Decimal("1850.00"), "1-30": Decimal("1850.00"),
                         "31-60": Decimal("1850.00"), "61-90": Decimal("1850.00"),
                         "90+": Decimal("0.00")}
    assert [o.days_overdue for o in dec.open_items] == [77, 42, 6, 0, 0]
    assert dec.unapplied_cash == Decimal("150.00")
    assert dec.closing_balance == Decimal("7250.00")
    assert sum(dec.aging.values()) - dec.unapplied_cash == dec.closing_balance
    assert [(ln.kind, ln.debit, ln.credit, ln.balance) for ln in dec.lines] == [
        ("INVOICE", Decimal("1850.00"), Decimal("0.00"), Decimal("9250.00")),
        ("PAYMENT", Decimal("0.00"), Decimal("2000.00"), Decimal("7250.00"))]
    assert (dec.invoices, dec.payments) == (Decimal("1850.00"), Decimal("2000.00"))
    assert dec.exposure == dec.closing_balance
    assert dec.available_credit == Decimal("50000") - Decimal("7250")
    # February: month end at the 28th; Jan 19 due becomes 40 days overdue
    feb = v.statement(date(2027, 2, 1), date(2027, 2, 28), "USD").currencies[0]
    assert {o.number: o.bucket for o in feb.open_items if o.kind == "INVOICE"} == {
        numbers[1]: "90+", numbers[2]: "90+", numbers[3]: "61-90", numbers[4]: "31-60"}


def test_statement_as_of_a_past_moment_is_what_was_known_then(memory_service, ar):
    bill(ar, memory_service, date(2026, 11, 2))
    known_then = max(e.timestamp for e in ar.history(CUSTOMER))
    p = ar.receive_payment(CUSTOMER, advice(usd(1000), "W-9", date(2026, 11, 3), "Acme", T, None),
                           fin()).result
    ar.apply_payment(CUSTOMER, p.number, [app(inv(1), 1000)], None, fin())
    then = view(ar, known_then).statement(date(2026, 11, 1), date(2026, 11, 30), "USD")
    now = view(ar).statement(date(2026, 11, 1), date(2026, 11, 30), "USD")
    assert then.currencies[0].closing_balance == Decimal("1850.00")
    assert now.currencies[0].closing_balance == Decimal("850.00")
    assert [ln.kind for ln in then.currencies[0].lines] == ["INVOICE"]


def test_credit_notes_and_bounced_cheques_on_the_statement(memory_service, ar):
    i1 = bill(ar, memory_service, date(2026, 11, 2), [*USUAL, line("BAF", "150")])
    ar.issue_credit_note(CUSTOMER, i1, [CreditNoteLine(charge_number=4)], "BAF waived",
                         date(2026, 11, 5), fin())
    chq = Cheque(number="77", post_dated=date(2026, 11, 10))
    p = ar.receive_payment(CUSTOMER, advice(usd(1850), "CHQ-77", None, "Acme", PaymentMethod.CHEQUE,
                           chq), fin()).result
    ar.apply_payment(CUSTOMER, p.number, [app(i1, 1850)], date(2026, 11, 10), fin())
    ar.bounce_cheque(CUSTOMER, p.number, date(2026, 11, 14), "returned: no funds", fin())
    st = view(ar).statement(date(2026, 11, 1), date(2026, 11, 30), "USD").currencies[0]
    assert [(ln.on.day, ln.kind, ln.debit or -ln.credit) for ln in st.lines] == [
        (2, "INVOICE", Decimal("2000.00")), (5, "CREDIT_NOTE", Decimal("-150.00")),
        (10, "PAYMENT", Decimal("-1850.00")), (14, "BOUNCED_CHEQUE", Decimal("1850.00"))]
    assert (st.invoices, st.credit_notes, st.payments, st.bounced_cheques) == (
        Decimal("2000.00"), Decimal("150.00"), Decimal("1850.00"), Decimal("1850.00"))
    assert st.closing_balance == Decimal("1850.00")
    assert [(o.number, o.open_amount) for o in st.open_items] == [(i1, Decimal("1850.00"))]
    mid = view(ar).statement(date(2026, 11, 1), date(2026, 11, 12), "USD").currencies[0]
    assert mid.closing_balance == 0 and mid.open_items == []  # paid, before the bounce


def test_money_is_exact_over_a_10000_line_statement():
    rng = random.Random(7)
    entries, items, day = [], {}, date(2026, 1, 1)
    for n in range(1, 10_001):
        amount = Decimal(rng.randint(1, 10_000_000)) / 100  # up to 100,000.00
        on = day + timedelta(days=n % 300)
        if n % 3:
            number = f"I{n}"
            entries.append(Entry(n, "USD", on, "INVOICE", number, number, amount))
            items[number] = Item(number, "INVOICE", "USD", on, on + timedelta(days=30))
        else:
            number = f"P{n}"
            entries.append(Entry(n, "USD", on, "PAYMENT", number, number, -amount))
            items[number] = Item(number, "PAYMENT", "USD", on)
    totals = summarize(entries, items, date(2026, 1, 1), date(2026, 12, 31))["USD"]
    st = currency_statement("USD", totals, date(2026, 1, 1), date(2026, 12, 31), Decimal(0))
    assert len(st.lines) == 10_000
    assert st.invoices == sum(ln.debit for ln in st.lines)
    assert st.payments == sum(ln.credit for ln in st.lines)
    assert st.closing_balance == sum(e.amount for e in entries)
    assert st.closing_balance == st.invoices - st.payments
    assert st.lines[-1].balance == st.closing_balance
    assert sum(st.aging.values()) - st.unapplied_cash == st.closing_balance
    assert sum(o.open_amount for o in st.open_items) == st.closing_balance


def test_excel_statement_cell_by_cell(memory_service, ar):
    i1 = bill(ar, memory_service, date(2026, 10, 5))
    bill(ar, memory_service, date(2026, 11, 3))
    sid = job(memory_service, USUAL)
    ar.issue_invoice(CUSTOMER, invoice_request(sid, CUSTOMER, "CNY", None, [], date(2026, 11, 4)),
                     cs())
    p = ar.receive_payment(CUSTOMER, advice(usd("1000.50"), "BBVA-1", date(2026, 11, 20), "Acme", T,
                           None), fin()).result
    ar.apply_payment(CUSTOMER, p.number, [app(i1, "1000.50")], date(2026, 11, 20), fin())
    st = view(ar).statement(date(2026, 11, 1), date(2026, 11, 30))
    wb = load_workbook(BytesIO(statement_xlsx(st)))
    assert wb.sheetnames == ["CNY", "USD"]
    ws = wb["USD"]
    cell = lambda ref: ws[ref].value  # noqa: E731
    assert cell("A1") == "Statement of account"
    assert cell("B2") == f"Acme Trading (Shanghai) Co. ({CUSTOMER})"
    assert cell("B3").date() == date(2026, 11, 30) and cell("D3") == "2026-11-01 – 2026-11-30"
    assert (cell("B4"), cell("D4")) == ("USD", "PER_SHIPMENT, 30 days")
    assert (cell("B5"), cell("D5"), cell("F5")) == (50000, 2699.5, 47300.5)
    assert [(ws.cell(r, 1).value, ws.cell(r, 2).value) for r in range(8, 14)] == [
        ("Opening balance", 1850), ("Invoices", 1850), ("Credit notes", 0),
        ("Payments", 1000.5), ("Bounced cheques", 0), ("Closing balance", 2699.5)]
    assert [c.value for c in ws[15]] == ["Date", "Type", "Number", "Reference", "Due date",
                                         "Debit", "Credit", "Balance"]
    row16 = [c.value for c in ws[16]]
    assert row16[0].date() == date(2026, 11, 3) and row16[1:4] == ["Invoice", inv(2),
                                                                   "PO PO-2026-0042"]
    assert row16[4].date() == date(2026, 12, 3) and row16[5:] == [1850, 0, 3700]
    row17 = [c.value for c in ws[17]]
    assert row17[1:4] == ["Payment", p.number, "BBVA-1"] and row17[5:] == [0, 1000.5, 2699.5]
    assert [c.value for c in ws[18]] == ["Totals", None, None, None, None, 1850, 1000.5,
                                         2699.5]
    assert ws["F16"].number_format == "#,##0.00"
    assert cell("A20") == "Open items at 2026-11-30"
    assert [c.value for c in ws[21]][:6] == ["Number", "Type", "Date", "Due date",
                                             "Days overdue", "Aging"]
    assert [(c.value if not hasattr(c.value, "date") else c.value.date()) for c in ws[22]] == [
        i1, "Invoice", date(2026, 10, 5), date(2026, 11, 4), 26, "1-30", 1850, 849.5]
    assert [c.value for c in ws[23]][:2] == [inv(2), "Invoice"] and ws["H23"].value == 1850
    assert cell("A25") == "Aging (days overdue)"
    assert [c.value for c in ws[26]][:7] == ["Current", "1-30", "31-60", "61-90", "90+",
                                         "Unapplied cash", "Total"]
    assert [c.value for c in ws[27]][:7] == [1850, 849.5, 0, 0, 0, 0, 2699.5]
    cny = wb["CNY"]
    assert cny["B13"].value == 1100 and cny["B5"].value == 200000  # THC of the third job
    assert len(BUCKETS) == 5


def test_persistent_map_shares_and_diffs_by_identity():
    m0: PMap[int] = PMap()
    m1 = PMap.of({f"k{i}": i for i in range(5000)})
    m2 = m1.set("k7", 70).set("new", 1).delete("k9")
    assert len(m1) == 5000 and len(m2) == 5000 and m1["k7"] == 7 and m2["k7"] == 70
    assert "k9" in m1 and "k9" not in m2 and m0.get("x") is None
    assert sorted(m2.changed(m1)) == ["k7", "k9", "new"]
    assert sorted(m1.changed(None)) == sorted(m1) and dict(m2) == {**{
        k: v for k, v in m1.items() if k != "k9"}, "k7": 70, "new": 1}
    assert list(m1.changed(m1)) == []


def test_account_snapshot_reads_back_the_same_state(memory_service, ar):
    store = memory_service.store
    store.snapshotting_intervals[CustomerAccount] = 3
    for d in range(1, 8):
        bill(ar, memory_service, date(2026, 11, d))
    p = ar.receive_payment(CUSTOMER, advice(usd(500), "W", None, "Acme", T, None), fin()).result
    ar.apply_payment(CUSTOMER, p.number, [app(inv(2), 500)], None, fin())
    assert list(store.snapshots.get(ar.get(CUSTOMER).id))  # snapshots were taken
    from_snapshot = ar.get(CUSTOMER)
    replayed = fold(StatementProjection(), ar.history(CUSTOMER))[0]
    for attr in ("invoices", "payments", "open_invoices", "payment_keys"):
        assert dict(getattr(from_snapshot, attr)) == dict(getattr(replayed, attr)), attr
    assert from_snapshot.balances == replayed.balances == {"USD": Decimal("12450.00")}
    assert from_snapshot.version == replayed.version
    assert datetime.now(UTC) > max(e.timestamp for e in ar.history(CUSTOMER))
