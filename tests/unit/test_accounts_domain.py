"""The CustomerAccount's rules through AccountService on the in-memory store: invoices from
charges, the pre-invoice check, credit notes and re-bills, payments and their application,
duplicates, bounced cheques, commitments, dunning, credit hold and its effect on review."""

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
from factories import meta
from shipflow.events.account.values import (
    ChargeAdjustment,
    Cheque,
    CommitmentOutcome,
    ConceptExplanation,
    CreditNoteLine,
    DunningLevel,
    PaymentMethod,
    PaymentStatus,
    RebillRequest,
)
from shipflow.events.common import DomainError, NotPermitted
from shipflow.events.shipment.charges import ChargeChange
from shipflow.events.shipment.records import ReviewOutcome
from shipflow.services.accounts import AccountService

T = PaymentMethod.TRANSFER
DAY = date(2026, 11, 20)


@pytest.fixture
def ar(memory_service) -> AccountService:
    svc = AccountService(memory_service.store)
    svc.open_account(CUSTOMER, terms(), fin())
    return svc


def refused(rule: str, fn, *args, **kw) -> DomainError:
    with pytest.raises(DomainError) as e:
        fn(*args, **kw)
    assert e.value.rule == rule, e.value
    return e.value


def invoice(ar, sid, currency="USD", numbers=None, bill_to=CUSTOMER, explanations=(), on=DAY):
    return ar.issue_invoice(CUSTOMER, invoice_request(sid, bill_to, currency, numbers,
                                                      list(explanations), on),
                            cs()).result


def test_invoices_one_per_currency_collect_charges_stay_at_destination(memory_service, ar):
    sid = job(memory_service, USUAL)
    usd_inv, cny_inv = invoice(ar, sid, "USD"), invoice(ar, sid, "CNY")
    assert (usd_inv.number, usd_inv.total, usd_inv.currency) == (inv(1), Decimal("1850.00"),
                                                                 "USD")
    assert [ln.charge_number for ln in usd_inv.lines] == [1]  # DTHC (collect) is not on it
    assert (cny_inv.total, cny_inv.currency) == (Decimal("1100.00"), "CNY")
    assert usd_inv.due_date == date(2026, 12, 20) and usd_inv.reference == "PO PO-2026-0042"
    charges = {c.number: c.invoice_number for c in memory_service.get(sid).charges}
    assert charges == {1: inv(1), 2: inv(2), 3: None}
    assert ar.get(CUSTOMER).balances == {"USD": Decimal("1850.00"), "CNY": Decimal("1100.00")}
    refused("collect_charge_not_invoiced_at_origin", invoice, ar, sid, "USD", [3])
    refused("charge_already_invoiced", invoice, ar, sid, "USD", [1])
    refused("nothing_to_invoice", invoice, ar, sid, "USD")
    refused("currency_not_accepted", invoice, ar, sid, "EUR")
    refused("bill_to_unknown", invoice, ar, sid, "USD", bill_to="SOMEONE")


def test_an_invoice_takes_one_bill_to_and_currency(memory_service, ar):
    sid = job(memory_service, [*USUAL, line("DOC", "50", counterparty="Acme Trading HK Ltd"),
                               line("TRK", "80", "USD", "PAYABLE", counterparty="Truck Co")])
    refused("charge_currency_mismatch", invoice, ar, sid, "USD", [1, 2])
    refused("charge_bill_to_mismatch", invoice, ar, sid, "USD", [1, 4])
    refused("charge_not_receivable", invoice, ar, sid, "USD", [5])
    hk = invoice(ar, sid, "USD", bill_to="ACME-HK", explanations=[
        ConceptExplanation(code="OFR", reason="billed to the Shanghai office"),
        ConceptExplanation(code="THC", reason="billed to the Shanghai office")])
    assert [ln.charge_number for ln in hk.lines] == [4] and hk.bill_to == "ACME-HK"


def test_pre_invoice_check_every_sold_concept_is_on_the_bill_or_explained(memory_service, ar):
    sid = job(memory_service, [line("OFR", "1850")])  # THC was sold but is not charged
    e = refused("sold_concept_not_billed", invoice, ar, sid, "USD")
    assert [v.rule for v in e.violations] == ["sold_concept_not_billed"]
    assert "THC" in e.violations[0].detail
    assert ar.get(CUSTOMER).invoices == {}  # nothing recorded
    why = ConceptExplanation(code="THC", reason="customer pays THC to the terminal directly")
    issued = invoice(ar, sid, "USD", explanations=[why])
    assert issued.explanations == [why]
    # a sold concept charged collect is on the bill too (billed at destination)
    sid2 = job(memory_service, [line("OFR", "1850"), line("THC", "900", "CNY", "COLLECT")])
    assert invoice(ar, sid2, "USD").total == Decimal("1850.00")


def test_invoiced_charge_cannot_be_adjusted_or_voided(memory_service, ar):
    sid = job(memory_service, USUAL)
    invoice(ar, sid, "USD")
    refused("charge_invoiced", memory_service.adjust_charge, sid, 1,
            ChargeChange(quantity=2, reason="two boxes"), meta())
    refused("charge_invoiced", memory_service.void_charge, sid, 1, "wrong job", meta())
    memory_service.void_charge(sid, 3, "not invoiced: may be voided", meta())


def test_credit_note_releases_the_charge_which_can_then_be_voided(memory_service, ar):
    sid = job(memory_service, [*USUAL, line("BAF", "200")])
    issued = invoice(ar, sid, "USD")
    assert issued.total == Decimal("2050.00")
    refused("finance_role_required", ar.issue_credit_note, CUSTOMER, issued.number,
            [CreditNoteLine(charge_number=4)], "BAF not due", None, cs())
    r = ar.issue_credit_note(CUSTOMER, issued.number, [CreditNoteLine(charge_number=4)],
                             "BAF not due", None, fin())
    assert r.events == ["CreditNoteIssued", "ChargesReleased"]
    assert r.result.total == Decimal("200.00")
    memory_service.void_charge(sid, 4, "BAF not due on this lane", meta())
    a = ar.get(CUSTOMER)
    assert a.invoices[issued.number].open_amount == Decimal("1850.00")
    assert a.balances["USD"] == Decimal("1850.00")
    refused("charge_already_credited", ar.issue_credit_note, CUSTOMER, issued.number,
            [CreditNoteLine(charge_number=4)], "again", None, fin())
    refused("credit_exceeds_open_amount", ar.issue_credit_note, CUSTOMER, issued.number,
            [CreditNoteLine(amount=Decimal("1850.01"))], "too much", None, fin())
    refused("amount_precision", ar.issue_credit_note, CUSTOMER, issued.number,
            [CreditNoteLine(amount=Decimal("0.001"))], "a tenth of a cent", None, fin())


def test_rebill_credits_corrects_and_bills_again_moving_payments(memory_service, ar):
    sid = job(memory_service, USUAL)
    first = invoice(ar, sid, "USD")
    p = ar.receive_payment(CUSTOMER, advice(usd(1000), "BR-1", None, "Acme", T, None), fin()).result
    ar.apply_payment(CUSTOMER, p.number, [app(first.number, 1000)], None, fin())
    r = ar.rebill(CUSTOMER, first.number, RebillRequest(
        reason="price agreed with sales", adjustments=[ChargeAdjustment(
            charge_number=1, unit_price=usd("1750"), reason="agreed discount")]), fin())
    assert r.events == ["PaymentUnapplied", "CreditNoteIssued", "InvoiceIssued",
                        "PaymentApplied", "ChargesReleased", "ChargeAdjusted",
                        "ChargesInvoiced"]
    new = r.result["invoice"]
    a = ar.get(CUSTOMER)
    assert (new.total, new.replaces) == (Decimal("1750.00"), first.number)
    assert a.invoices[first.number].replaced_by == new.number
    assert a.invoices[first.number].open_amount == 0
    assert a.invoices[new.number].open_amount == Decimal("750.00")
    assert a.payments[p.number].applied == {new.number: Decimal("1000")}
    assert a.balances["USD"] == Decimal("750.00")
    assert memory_service.get(sid).charges[0].invoice_number == new.number
    refused("invoice_credited", ar.rebill, CUSTOMER, first.number,
            RebillRequest(reason="again"), fin())


def test_partial_and_multi_invoice_application_unapplied_cash_on_account(memory_service, ar):
    a_job, b_job = job(memory_service, USUAL), job(memory_service, USUAL)
    i1, i2 = invoice(ar, a_job).number, invoice(ar, b_job).number
    p = ar.receive_payment(CUSTOMER, advice(usd(3000), "BR-9", date(2026, 11, 25), "Acme", T, None),
                           fin()).result
    ar.apply_payment(CUSTOMER, p.number, [app(i1, 1850), app(i2, 1000)], None, fin())
    a = ar.get(CUSTOMER)
    assert a.invoices[i1].open_amount == 0 and a.invoices[i2].open_amount == Decimal("850.00")
    assert a.payments[p.number].unapplied == Decimal("150")
    refused("application_exceeds_unapplied", ar.apply_payment, CUSTOMER, p.number,
            [app(i2, 151)], None, fin())
    refused("application_exceeds_open_amount", ar.apply_payment, CUSTOMER, p.number,
            [app(i1, 1)], None, fin())
    refused("application_currency_mismatch", ar.apply_payment, CUSTOMER, p.number,
            [app(i2, 10, "CNY")], None, fin())
    refused("finance_role_required", ar.apply_payment, CUSTOMER, p.number, [app(i2, 10)],
            None, cs())
    ar.unapply_payment(CUSTOMER, p.number, unapplication(i1, usd(50), "short-paid", None), fin())
    a = ar.get(CUSTOMER)
    assert a.invoices[i1].open_amount == Decimal("50.00")
    assert a.payments[p.number].unapplied == Decimal("200")
    assert a.balances["USD"] == Decimal("700.00")  # 3700 invoiced − 3000 received


def test_possible_duplicate_is_flagged_and_not_applied_until_confirmed(memory_service, ar):
    i1 = invoice(ar, job(memory_service, USUAL)).number
    first = ar.receive_payment(CUSTOMER, advice(usd(1000), "BBVA-778", None, "Acme", T, None),
                               fin())
    dup = ar.receive_payment(CUSTOMER, advice(usd("1000.00"), "bbva-778 ", None, " ACME", T, None),
                             fin()).result
    assert (dup.status, dup.duplicate_of) == (PaymentStatus.FLAGGED, first.result.number)
    assert ar.get(CUSTOMER).balances["USD"] == Decimal("850.00")  # the flagged one not counted
    refused("payment_possible_duplicate", ar.apply_payment, CUSTOMER, dup.number,
            [app(i1, 100)], None, fin())
    other = ar.receive_payment(CUSTOMER, advice(usd(1000), "BBVA-779", None, "Acme", T, None),
                               fin())
    assert other.result.status is PaymentStatus.RECEIVED  # another reference: not a duplicate
    ar.reject_payment(CUSTOMER, dup.number, "the same transfer imported twice", fin())
    refused("payment_rejected", ar.apply_payment, CUSTOMER, dup.number, [app(i1, 1)], None,
            fin())
    again = ar.receive_payment(CUSTOMER, advice(usd(1000), "BBVA-778", None, "Acme", T, None),
                               fin()).result
    assert again.status is PaymentStatus.FLAGGED
    ar.confirm_payment(CUSTOMER, again.number, "customer paid twice; refund requested", fin())
    ar.apply_payment(CUSTOMER, again.number, [app(i1, 100)], None, fin())
    refused("payment_not_flagged", ar.confirm_payment, CUSTOMER, again.number, "", fin())


def test_bounced_cheque_reverses_its_applications(memory_service, ar):
    i1, i2 = (invoice(ar, job(memory_service, USUAL)).number for _ in range(2))
    cheque = Cheque(number="000123", bank="BBVA", post_dated=date(2026, 12, 1))
    refused("cheque_details_required", ar.receive_payment, CUSTOMER, advice(usd(2000), "", None,
            "Acme", PaymentMethod.CHEQUE, None), fin())
    p = ar.receive_payment(CUSTOMER, advice(usd(2000), "CHQ-000123", None, "Acme",
                           PaymentMethod.CHEQUE, cheque), fin()).result
    assert p.value_date == date(2026, 12, 1)
    refused("cheque_post_dated", ar.apply_payment, CUSTOMER, p.number, [app(i1, 1850)],
            date(2026, 11, 30), fin())
    ar.apply_payment(CUSTOMER, p.number, [app(i1, 1850), app(i2, 150)], date(2026, 12, 1),
                     fin())
    assert ar.get(CUSTOMER).balances["USD"] == Decimal("1700.00")
    r = ar.bounce_cheque(CUSTOMER, p.number, date(2026, 12, 4), "insufficient funds",
                         fin(date(2026, 12, 4)))
    assert [(x.invoice_number, x.amount.amount) for x in r.result] == [
        (i1, Decimal("1850")), (i2, Decimal("150"))]
    a = ar.get(CUSTOMER)
    assert a.invoices[i1].open_amount == Decimal("1850.00")
    assert a.invoices[i2].open_amount == Decimal("1850.00")
    assert a.payments[p.number].status is PaymentStatus.BOUNCED
    assert a.balances["USD"] == Decimal("3700.00")
    refused("payment_bounced", ar.bounce_cheque, CUSTOMER, p.number, None, "again", fin())
    t = ar.receive_payment(CUSTOMER, advice(usd(10), "W-1", None, "Acme", T, None), fin()).result
    refused("not_a_cheque", ar.bounce_cheque, CUSTOMER, t.number, None, "?", fin())


def test_commitments_and_their_outcome(memory_service, ar):
    i1 = invoice(ar, job(memory_service, USUAL)).number
    n = ar.record_commitment(CUSTOMER, promise(usd(1850), date(2026, 12, 28), [i1], "Ms Chen",
                             "will pay after Christmas"), cs()).result
    ar.record_commitment_outcome(CUSTOMER, n, CommitmentOutcome.BROKEN, "no payment", None,
                                 cs(date(2026, 12, 29)))
    refused("commitment_decided", ar.record_commitment_outcome, CUSTOMER, n,
            CommitmentOutcome.KEPT, "", None, cs())
    refused("commitment_not_found", ar.record_commitment_outcome, CUSTOMER, 9,
            CommitmentOutcome.KEPT, "", None, cs())
    refused("invoice_not_found", ar.record_commitment, CUSTOMER, promise(usd(1), DAY, ["INV-X"], "",
            ""), cs())


def test_dunning_notices_escalate_per_shipment_or_account(memory_service, ar):
    s1, s2 = job(memory_service, USUAL), job(memory_service, USUAL)
    i1, i2 = invoice(ar, s1).number, invoice(ar, s2).number  # due 2026-12-20
    refused("nothing_overdue", ar.issue_dunning_notice, CUSTOMER, dunning(DunningLevel.REMINDER,
            None, None, date(2026, 12, 20)), cs())
    late = date(2027, 1, 10)
    refused("escalation_out_of_order", ar.issue_dunning_notice, CUSTOMER,
            dunning(DunningLevel.PRE_LEGAL, None, None, late), cs())
    one = ar.issue_dunning_notice(CUSTOMER, dunning(DunningLevel.REMINDER, s1, None, late),
                                  cs()).result
    assert [(i.invoice_number, i.days_overdue) for i in one.items] == [(i1, 21)]
    assert one.shipment_id == s1 and one.totals == [usd("1850.00")]
    refused("escalation_out_of_order", ar.issue_dunning_notice, CUSTOMER,
            dunning(DunningLevel.PRE_LEGAL, None, None, late), cs())  # i2 had no reminder
    ar.issue_dunning_notice(CUSTOMER, dunning(DunningLevel.PRE_LEGAL, None, [i1], late), cs())
    ar.dispute_invoice(CUSTOMER, i2, "container was late", cs())
    refused("invoice_disputed", ar.issue_dunning_notice, CUSTOMER, dunning(DunningLevel.REMINDER,
            None, [i2], late), cs())
    legal = ar.issue_dunning_notice(CUSTOMER, dunning(DunningLevel.LEGAL, None, None, late),
                                    cs()).result
    assert [i.invoice_number for i in legal.items] == [i1]  # the disputed one is left out
    assert ar.get(CUSTOMER).invoices[i1].dunning_level is DunningLevel.LEGAL
    refused("ar_role_required", ar.issue_dunning_notice, CUSTOMER, dunning(DunningLevel.REMINDER,
            None, None, late), meta("ops", "tracking"))


def test_over_limit_holds_the_account_and_blocks_a_booking_review(memory_service, ar):
    ar.change_terms(CUSTOMER, terms(credit_limits=[{"amount": "3000", "currency": "USD"},
                                                   {"amount": "5000", "currency": "CNY"}]),
                    fin())
    invoice(ar, job(memory_service, USUAL))
    r = ar.issue_invoice(CUSTOMER, invoice_request(job(memory_service, USUAL), CUSTOMER, "USD",
                                                   None, [], DAY),
                         cs())
    assert r.events == ["InvoiceIssued", "CreditHoldPlaced", "ChargesInvoiced"]
    assert ar.get(CUSTOMER).hold.reasons == ["over_credit_limit:USD"]
    booking = memory_service.request_booking(__import__("factories").order(), meta())
    memory_service.review(booking.shipment_id, [], meta())
    s = memory_service.get(booking.shipment_id)
    assert s.review_outcome is ReviewOutcome.ON_HOLD
    assert [v.rule for v in s.open_violations] == ["customer_on_credit_hold"]
    refused("finance_role_required", ar.release_hold, CUSTOMER, "paid", cs())
    refused("release_reason_required", ar.release_hold, CUSTOMER, " ", fin())
    ar.release_hold(CUSTOMER, "CFO approved: payment promised", fin())
    released = ar.get(CUSTOMER).release
    assert (released.released_by, released.reason) == ("fin.lee",
                                                       "CFO approved: payment promised")
    memory_service.review(booking.shipment_id, [], meta())
    assert memory_service.get(booking.shipment_id).review_outcome is ReviewOutcome.ACCEPTED
    # more exposure than the release accepted: on hold again
    r = ar.issue_invoice(CUSTOMER, invoice_request(job(memory_service, USUAL), CUSTOMER, "USD",
                                                   None, [], DAY),
                         cs())
    assert "CreditHoldPlaced" in r.events


def test_overdue_past_the_days_is_a_hold_even_before_anyone_records_it(memory_service, ar):
    i1 = invoice(ar, job(memory_service, USUAL)).number  # due 2026-12-20, hold after 30 days
    account = ar.get(CUSTOMER)
    assert account.hold_violation(date(2027, 1, 19)) is None
    assert account.hold_violation(date(2027, 1, 20)).rule == "customer_on_credit_hold"
    r = ar.check_credit(CUSTOMER, date(2027, 1, 20), cs())
    assert r.result == [f"overdue:{i1}"] and r.events == ["CreditHoldPlaced"]
    refused("already_on_hold", ar.place_hold, CUSTOMER, "", fin())
    ar.release_hold(CUSTOMER, "dispute being settled", fin(date(2027, 1, 20)))
    assert ar.get(CUSTOMER).hold_violation(date(2027, 2, 1)) is None  # i1 was accepted
    i2 = invoice(ar, job(memory_service, USUAL), on=date(2027, 1, 2)).number  # due Feb 1
    assert ar.get(CUSTOMER).uncovered_reasons(date(2027, 3, 5)) == [f"overdue:{i2}"]
    refused("not_on_hold", ar.release_hold, CUSTOMER, "x", fin(date(2027, 2, 1)))
    ar.place_hold(CUSTOMER, "customer in administration", fin())
    assert ar.get(CUSTOMER).hold.reasons[0] == "manual"


def test_finance_role_guards_money_and_holds(ar):
    refused("finance_role_required", ar.receive_payment, CUSTOMER, advice(usd(1), "", None, "Acme",
                                                                          T,
            None), cs())
    refused("finance_role_required", ar.place_hold, CUSTOMER, "", cs())
    refused("finance_role_required", ar.change_terms, CUSTOMER, terms(), cs())
    with pytest.raises(NotPermitted):
        ar.open_account("CUST-NEW", terms(), cs())
    refused("account_exists", ar.open_account, CUSTOMER, terms(), fin())
    refused("account_unchanged", ar.change_terms, CUSTOMER, terms(), fin())
    refused("amount_must_be_positive", ar.receive_payment, CUSTOMER, advice(usd(0), "", None, "A",
                                                                            T,
            None), fin())
    refused("amount_precision", ar.receive_payment, CUSTOMER, advice(usd("1", "JPY").model_copy(
        update={"amount": Decimal("1.5")}), "", None, "A", T, None), fin())
    refused("account_not_found", ar.get, "NOBODY")


def test_a_charge_stored_before_invoicing_existed_reads_as_not_invoiced():
    """Snapshots taken before ``Charge.invoice_number`` existed decode with None."""
    from shipflow.events.shipment.records import Charge
    from shipflow.events.transcodings import ModelTranscoding

    old = {"number": 1, "line": line("OFR", "10"), "amendment_number": None,
           "voided": False, "void_reason": None}
    charge = ModelTranscoding(Charge).decode(old)
    assert charge.invoice_number is None and charge.line.code == "OFR"
