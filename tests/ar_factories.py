"""Accounts-receivable test data: account terms, charge lines, a shipment with charges."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from factories import meta, order
from shipflow.events.account.values import (
    AccountTerms,
    Application,
    Cheque,
    ConceptExplanation,
    DunningLevel,
    DunningRequest,
    InvoiceRequest,
    Money,
    PaymentAdvice,
    PaymentMethod,
    PromiseToPay,
    Unapplication,
)
from shipflow.events.shipment.charges import ChargeLine

CUSTOMER = "CUST-ACME"


def terms_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Acme Trading (Shanghai) Co.",
        "bill_to": [{"code": "CUST-ACME", "party": {"name": "Acme Trading (Shanghai) Co."}},
                    {"code": "ACME-HK", "party": {"name": "Acme Trading HK Ltd"}}],
        "currencies": ["USD", "CNY"],
        "credit_limits": [{"amount": "50000", "currency": "USD"},
                          {"amount": "200000", "currency": "CNY"}],
        "credit_term_days": 30,
        "settlement_mode": "PER_SHIPMENT",
        "collection_owner": "ar.zhang",
        "hold_after_days_overdue": 30,
    }
    data.update(overrides)
    return data


def terms(**overrides: Any) -> AccountTerms:
    return AccountTerms.model_validate(terms_data(**overrides))


def fin(on: date | None = None, **kw: Any):
    """Finance acting (on a given day)."""
    if on is not None:
        kw["occurred_at"] = datetime(on.year, on.month, on.day, 9, tzinfo=UTC)
    return meta("fin.lee", "finance", **kw)


def cs(on: date | None = None, **kw: Any):
    if on is not None:
        kw["occurred_at"] = datetime(on.year, on.month, on.day, 9, tzinfo=UTC)
    return meta("cs.wang", "cs", **kw)


def line(code: str, amount: str, currency: str = "USD", direction: str = "RECEIVABLE",
         counterparty: str = CUSTOMER, quantity: str = "1") -> ChargeLine:
    return ChargeLine.model_validate({
        "direction": direction, "code": code, "quantity": quantity,
        "counterparty": counterparty, "unit_price": {"amount": amount, "currency": currency}})


def usd(amount: str | int, currency: str = "USD") -> Money:
    return Money(amount=Decimal(str(amount)), currency=currency)


def app(invoice: str, amount: str | int, currency: str = "USD") -> Application:
    return Application(invoice_number=invoice, amount=usd(amount, currency))


def job(svc, charges: list[ChargeLine], **order_overrides: Any):
    """A booked shipment of CUST-ACME with these charges; the hand-over sold OFR and THC."""
    sid = svc.request_booking(order(**order_overrides), meta()).shipment_id
    for c in charges:
        svc.add_charge(sid, c, None, meta())
    return sid


#: The usual job: OFR in USD and THC in CNY (the hand-over's two concepts), a collect DTHC.
USUAL = [line("OFR", "1850"), line("THC", "1100", "CNY"), line("DTHC", "300", "USD", "COLLECT")]


def inv(n: int, customer: str = CUSTOMER) -> str:
    return f"INV-{customer}-{n:05d}"


def pay(n: int, customer: str = CUSTOMER) -> str:
    return f"PAY-{customer}-{n:05d}"


# --- commands as data, from their arguments in the order the desks say them ------------------


def invoice_request(shipment_id: Any, bill_to: str, currency: str,
                    charge_numbers: list[int] | None = None,
                    explanations: Sequence[ConceptExplanation] = (),
                    issue_date: date | None = None) -> InvoiceRequest:
    return InvoiceRequest(shipment_id=shipment_id, bill_to=bill_to, currency=currency,
                          charge_numbers=charge_numbers, explanations=list(explanations),
                          issue_date=issue_date)


def advice(amount: Money, bank_reference: str, value_date: date | None, payer: str,
           method: PaymentMethod, cheque: Cheque | None = None) -> PaymentAdvice:
    return PaymentAdvice(amount=amount, bank_reference=bank_reference, value_date=value_date,
                         payer=payer, method=method, cheque=cheque)


def promise(amount: Money, promised_date: date, invoice_numbers: list[str], contact: str = "",
            note: str = "") -> PromiseToPay:
    return PromiseToPay(amount=amount, promised_date=promised_date,
                        invoice_numbers=invoice_numbers, contact=contact, note=note)


def dunning(level: DunningLevel, shipment_id: Any = None,
            invoice_numbers: list[str] | None = None, on: date | None = None) -> DunningRequest:
    return DunningRequest(level=level, shipment_id=shipment_id,
                          invoice_numbers=invoice_numbers, on=on)


def unapplication(invoice_number: str, amount: Money | None, reason: str,
                  on: date | None = None) -> Unapplication:
    return Unapplication(invoice_number=invoice_number, amount=amount, reason=reason, on=on)
