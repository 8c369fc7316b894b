"""Accounts receivable on SQLite and PostgreSQL: invoice and shipment saved together, the
statement view written by the runner and read back from SQL equal to the fold, the AR work
queue, blue/green rebuild, and a credit hold blocking a booking review."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ar_factories import (
    CUSTOMER,
    USUAL,
    advice,
    app,
    cs,
    dunning,
    fin,
    inv,
    invoice_request,
    job,
    line,
    promise,
    terms,
    unapplication,
    usd,
)
from factories import meta, order
from shipflow.events.account.values import DunningLevel, PaymentMethod
from shipflow.events.shipment.records import ReviewOutcome
from shipflow.projections.engine.base import fold
from shipflow.projections.engine.read_models import ReadModels
from shipflow.projections.statements import rows
from shipflow.projections.statements import tables as statement_tables
from shipflow.projections.statements.projection import StatementProjection
from shipflow.services.accounts import AccountService
from shipflow.services.shipments import ShipmentService

T = PaymentMethod.TRANSFER


@pytest.fixture
def svc(migrated):
    service = ShipmentService.from_settings(migrated)
    yield service
    service.close()


@pytest.fixture
def ar(svc) -> AccountService:
    accounts = AccountService(svc.store)
    accounts.open_account(CUSTOMER, terms(credit_limits=[
        {"amount": "10000", "currency": "USD"}, {"amount": "50000", "currency": "CNY"}]), fin())
    return accounts


@pytest.fixture
def rm(migrated, svc):
    read_models = ReadModels(migrated, svc.store, [StatementProjection()])
    yield read_models
    read_models.close()


def a_month(svc, ar) -> list:
    """Four jobs in November: invoices, a partial and a multi-invoice payment, a duplicate,
    a dispute, a commitment and a dunning notice."""
    ids = [job(svc, USUAL) for _ in range(4)]
    for k, sid in enumerate(ids):
        ar.issue_invoice(CUSTOMER, invoice_request(sid, CUSTOMER, "USD", None, [], date(2026, 10,
                                                                                        1 + 7 * k)),
                         cs())
    ar.issue_invoice(CUSTOMER, invoice_request(ids[0], CUSTOMER, "CNY", None, [], date(2026, 10,
                                                                                       2)), cs())
    p1 = ar.receive_payment(CUSTOMER, advice(usd(2500), "BBVA-1", date(2026, 11, 3), "Acme", T,
                            None), fin()).result.number
    ar.apply_payment(CUSTOMER, p1, [app(inv(1), 1850), app(inv(2), 600)], None, fin())
    ar.receive_payment(CUSTOMER, advice(usd(2500), "BBVA-1", date(2026, 11, 4), "Acme", T, None),
                       fin())
    ar.dispute_invoice(CUSTOMER, inv(3), "late delivery", cs())
    ar.record_commitment(CUSTOMER, promise(usd(1250), date(2026, 11, 15), [inv(2)], "Ms Chen", ""),
                         cs())
    ar.issue_dunning_notice(CUSTOMER, dunning(DunningLevel.REMINDER, None, None, date(2026, 11,
                                                                                      20)),
                            cs())
    return ids


def test_invoice_and_charges_invoiced_are_saved_together(svc, ar):
    sid = job(svc, USUAL)
    r = ar.issue_invoice(CUSTOMER, invoice_request(sid, CUSTOMER, "USD", None, [], None), cs())
    assert r.events == ["InvoiceIssued", "ChargesInvoiced"]
    log = svc.store.recorder.select_notifications(start=r.position - 1, limit=10,
                                                  inclusive_of_start=True)
    assert [n.topic.rsplit(":", 1)[1] for n in log[-2:]] == ["InvoiceIssued",
                                                              "ChargesInvoiced"]
    assert svc.get(sid).charges[0].invoice_number == inv(1)
    assert AccountService(svc.store).get(CUSTOMER).invoices[inv(1)].lines[0].charge_number == 1


def test_the_view_in_sql_says_what_the_fold_says(svc, ar, rm):
    a_month(svc, ar)
    rm.runner(batch_size=7).catch_up()
    with rm.engine.connect() as conn:
        t = statement_tables.active(conn)
    folded = fold(StatementProjection(), ar.history(CUSTOMER))[1]
    for start, end in ((date(2026, 10, 1), date(2026, 10, 31)),
                       (date(2026, 11, 1), date(2026, 11, 30)),
                       (date(2026, 12, 1), date(2027, 1, 31))):
        with rm.engine.connect() as conn:
            from_sql = rows.statement(conn, t, rows.account_row(conn, t, CUSTOMER), start, end)
        assert from_sql == folded.statement(start, end)
    usd_nov = folded.statement(date(2026, 11, 1), date(2026, 11, 30), "USD").currencies[0]
    assert usd_nov.opening_balance == Decimal("7400.00")
    assert usd_nov.payments == Decimal("2500.00")  # the flagged duplicate does not count
    assert usd_nov.closing_balance == Decimal("4900.00")
    with rm.engine.connect() as conn:
        docs = {d["number"]: d for d in rows.documents(conn, t, CUSTOMER)}
    assert docs[inv(2)]["open_amount"] == Decimal("1250") and docs[inv(3)]["disputed"]
    assert docs["PAY-CUST-ACME-00002"]["status"] == "FLAGGED"
    assert docs["DN-CUST-ACME-00001"]["kind"] == "DUNNING"


def test_work_queue_lists_overdue_broken_duplicates_and_holds(svc, ar, rm):
    a_month(svc, ar)
    other = AccountService(svc.store)
    other.open_account("CUST-BETA", terms(name="Beta Ltd", bill_to=[
        {"code": "CUST-BETA", "party": {"name": "Beta Ltd"}}], collection_owner="ar.li"), fin())
    sid = job(svc, [line("OFR", "1850", counterparty="CUST-BETA"),
                    line("THC", "1100", "CNY", counterparty="CUST-BETA")],
              customer_id="CUST-BETA")
    other.issue_invoice("CUST-BETA", invoice_request(sid, "CUST-BETA", "USD", None, [],
                                                     date(2026, 9, 1)), cs())
    other.place_hold("CUST-BETA", "legal dispute", fin())
    rm.runner().catch_up()
    with rm.engine.connect() as conn:
        t = statement_tables.active(conn)
        q = rows.work_queue(conn, t, date(2026, 11, 30))
        mine = rows.work_queue(conn, t, date(2026, 11, 30), owner="ar.zhang")
    overdue = [(r["customer_id"], r["currency"], r["overdue"], r["days_overdue"])
               for r in q["overdue"]]
    assert overdue == [("CUST-ACME", "CNY", Decimal("1100"), 29),
                       ("CUST-ACME", "USD", Decimal("4950"), 23),
                       ("CUST-BETA", "USD", Decimal("1850"), 60)]
    assert [c["number"] for c in q["broken_commitments"]] == [1]  # lapsed on Nov 15
    assert [d["number"] for d in q["possible_duplicates"]] == ["PAY-CUST-ACME-00002"]
    assert [h["customer_id"] for h in q["holds"]] == ["CUST-BETA"]
    assert {r["customer_id"] for r in mine["overdue"]} == {"CUST-ACME"} and not mine["holds"]


def test_rebuild_writes_the_same_rows(svc, ar, rm):
    a_month(svc, ar)
    rm.runner().catch_up()

    def snapshot():
        with rm.engine.connect() as conn:
            t = statement_tables.active(conn)
            out = []
            for table in (t.entries, t.documents, t.commitments):
                out.append(sorted(tuple(str(v) for v in r) for r in conn.execute(
                    table.select())))
            return out

    before = snapshot()
    targets, _ = rm.rebuild("statements")
    assert targets == {"statements": "b"}
    assert snapshot() == before


def test_credit_hold_blocks_a_booking_review_until_released(svc, ar):
    sid = job(svc, USUAL)
    ar.issue_invoice(CUSTOMER, invoice_request(sid, CUSTOMER, "USD", None, [], date(2026, 9, 1)),
                     cs())
    day = date(2026, 11, 20)  # 50 days overdue, hold after 30
    booking = svc.request_booking(order(), meta()).shipment_id
    svc.review(booking, [], meta())
    s = svc.get(booking)
    assert s.review_outcome is ReviewOutcome.ON_HOLD
    assert [v.rule for v in s.open_violations] == ["customer_on_credit_hold"]
    assert ar.check_credit(CUSTOMER, day, cs()).events == ["CreditHoldPlaced"]
    ar.release_hold(CUSTOMER, "payment plan agreed with the CFO", fin(day))
    svc.review(booking, [], meta())
    assert svc.get(booking).review_outcome is ReviewOutcome.ACCEPTED
    history = [type(e).__name__ for e in ar.history(CUSTOMER)]
    assert history[-2:] == ["CreditHoldPlaced", "CreditHoldReleased"]


def test_every_account_event_round_trips_and_snapshots_read_back(svc, ar):
    """Each kind of account event saved and read back on this database, and the account
    loaded from a snapshot equal to the account replayed from its events."""
    from shipflow.events.account.aggregate import CustomerAccount
    from shipflow.events.account.events import EVENT_TYPES
    from shipflow.events.account.values import (
        Cheque,
        CommitmentOutcome,
        CreditNoteLine,
        RebillRequest,
    )

    svc.store.snapshotting_intervals[CustomerAccount] = 4
    a_month(svc, ar)  # invoices, payments, a duplicate, a dispute, a commitment, a notice
    sid = job(svc, USUAL)
    ar.issue_invoice(CUSTOMER, invoice_request(sid, CUSTOMER, "USD", None, [], date(2026, 11, 2)),
                     cs())
    ar.rebill(CUSTOMER, inv(6), RebillRequest(reason="re-billed"), fin())
    ar.issue_credit_note(CUSTOMER, inv(7), [CreditNoteLine(amount=Decimal("0.01"))], "cent",
                         None, fin())
    ar.resolve_dispute(CUSTOMER, inv(3), "customer accepted", cs())
    ar.confirm_payment(CUSTOMER, "PAY-CUST-ACME-00002", "paid twice", fin())
    chq = ar.receive_payment(CUSTOMER, advice(usd(100), "CHQ-1", None, "Acme", PaymentMethod.CHEQUE,
                             Cheque(number="1", post_dated=date(2026, 11, 1))), fin()).result
    ar.apply_payment(CUSTOMER, chq.number, [app(inv(4), 100)], None, fin())
    ar.unapply_payment(CUSTOMER, chq.number, unapplication(inv(4), usd(40), "wrong invoice", None),
                       fin())
    ar.bounce_cheque(CUSTOMER, chq.number, None, "returned", fin())
    dup = ar.receive_payment(CUSTOMER, advice(usd(100), "CHQ-1", None, "Acme", PaymentMethod.CHEQUE,
                             Cheque(number="1")), fin()).result
    ar.reject_payment(CUSTOMER, dup.number, "the same cheque", fin())
    ar.record_commitment_outcome(CUSTOMER, 1, CommitmentOutcome.PARTIALLY_KEPT, "half", None,
                                 cs())
    ar.change_terms(CUSTOMER, terms(credit_term_days=45), fin())
    ar.place_hold(CUSTOMER, "review", fin())
    ar.release_hold(CUSTOMER, "reviewed", fin())
    events = ar.history(CUSTOMER)
    assert {type(e).__name__ for e in events} == set(EVENT_TYPES)
    fresh = AccountService(svc.store)  # no cache: a snapshot and the events after it
    assert list(svc.store.snapshots.get(fresh.get(CUSTOMER).id))
    loaded = fresh.get(CUSTOMER)
    replayed = fold(StatementProjection(), events)[0]
    for attr in ("invoices", "credit_notes", "payments", "commitments", "notices",
                 "open_invoices", "payment_keys"):
        assert dict(getattr(loaded, attr)) == dict(getattr(replayed, attr)), attr
    for attr in ("balances", "terms", "hold", "release", "invoice_seq", "payment_seq",
                 "version"):
        assert getattr(loaded, attr) == getattr(replayed, attr), attr
