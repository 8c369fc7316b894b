"""A customer account as its customer sees it: the account (:func:`account_view`), its history
(:func:`account_history`) and its statement (:func:`statement`), pure functions of the
CustomerAccount state, its events and the statement.

Every bill-to party on the account is the customer's own, so they all show. What stays
inside: staff names (the collection owner, who recorded, placed, released or issued),
finance's notes and reasons on payments, holds and commitments, the pre-invoice explanations
(why a concept sold on the hand-over is not billed: the sales hand-over is internal) and the
internal credit policy (after how many days overdue an account is held). The documents the
customer receives show as issued: invoices, credit notes (with their reason), dunning notices.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

from pydantic import BaseModel
from pydantic_core import to_jsonable_python

from shipflow.events.account.values import (
    BillTo,
    Cheque,
    CommitmentOutcome,
    CreditNote,
    DunningItem,
    DunningLevel,
    InvoiceLine,
    PaymentMethod,
    PaymentStatus,
    SettlementMode,
)
from shipflow.events.common import Money
from shipflow.projections.customer_view.history import CustomerEvent
from shipflow.projections.customer_view.rules import FORWARDER, actor_label
from shipflow.projections.customer_view.shipment import View
from shipflow.projections.statements.statement import Statement

M = TypeVar("M", bound=BaseModel)


def pick(model: type[M], value: Any) -> M:
    """The customer model of a domain value: only the fields the model names."""
    return model(**{name: getattr(value, name) for name in model.model_fields})


class CustomerTerms(View):
    name: str
    bill_to: list[BillTo]
    currencies: list[str]
    credit_limits: list[Money]
    credit_term_days: int
    settlement_mode: SettlementMode


class CustomerInvoice(View):
    number: str
    shipment_id: UUID
    bill_to: str
    currency: str
    lines: list[InvoiceLine]
    total: Decimal
    issue_date: date
    due_date: date
    replaces: str | None
    reference: str
    credited: Decimal
    paid: Decimal
    credited_charges: list[int]
    replaced_by: str | None
    dispute: str | None  # the customer's own reason
    dunning_level: DunningLevel | None


class CustomerPayment(View):
    number: str
    amount: Money
    bank_reference: str
    value_date: date
    payer: str
    method: PaymentMethod
    cheque: Cheque | None
    status: PaymentStatus
    applied: dict[str, Decimal]
    status_on: date | None


class CustomerCommitment(View):
    number: int
    amount: Money
    promised_date: date
    invoice_numbers: list[str]
    contact: str  # the customer's own person who promised
    recorded_on: date
    outcome: CommitmentOutcome | None
    outcome_on: date | None


class CustomerDunningNotice(View):
    number: str
    level: DunningLevel
    shipment_id: UUID | None
    issued_on: date
    items: list[DunningItem]
    totals: list[Money]


class CustomerHold(View):
    placed_on: date
    reasons: list[str]  # over_credit_limit:USD, overdue:INV-…
    automatic: bool


class CustomerRelease(View):
    released_on: date


class CustomerAccountView(View):
    customer_id: str
    account_id: UUID
    version: int
    terms: CustomerTerms
    balances: list[Money]
    credit_hold: CustomerHold | None
    last_release: CustomerRelease | None
    credit_reasons: list[str]
    invoices: list[CustomerInvoice]
    credit_notes: list[CreditNote]
    payments: list[CustomerPayment]
    commitments: list[CustomerCommitment]
    dunning_notices: list[CustomerDunningNotice]


def account_view(a: Any, on: date) -> CustomerAccountView:
    """The customer's view of a CustomerAccount (its state now, or at a version)."""
    return CustomerAccountView(
        customer_id=a.customer_id, account_id=a.id, version=a.version,
        terms=pick(CustomerTerms, a.terms),
        balances=[Money(amount=v, currency=c) for c, v in sorted(a.balances.items())],
        credit_hold=pick(CustomerHold, a.hold) if a.hold else None,
        last_release=pick(CustomerRelease, a.release) if a.release else None,
        credit_reasons=a.credit_reasons(on),
        invoices=[pick(CustomerInvoice, i) for i in sorted(a.invoices.values(),
                                                            key=lambda i: i.number)],
        credit_notes=sorted(a.credit_notes.values(), key=lambda c: c.number),
        payments=[pick(CustomerPayment, p) for p in sorted(a.payments.values(),
                                                            key=lambda p: p.number)],
        commitments=[pick(CustomerCommitment, c) for c in sorted(a.commitments.values(),
                                                                  key=lambda c: c.number)],
        dunning_notices=[pick(CustomerDunningNotice, n) for n in sorted(
            a.notices.values(), key=lambda n: n.number)])


# --- history ---------------------------------------------------------------------------------

#: Terms whose change is the forwarder's business (a new collector, the hold policy).
INTERNAL_TERMS = frozenset({"collection_owner", "hold_after_days_overdue"})


def _fields(*names: str) -> Callable[[Any], dict[str, Any]]:
    return lambda e: {n: getattr(e, n) for n in names}


def _changed(e: Any) -> dict[str, Any] | None:
    shown = [c for c in e.changes if c not in INTERNAL_TERMS]
    return {"terms": pick(CustomerTerms, e.terms), "changes": shown} if shown else None


ACCOUNT_PAYLOADS: dict[str, Callable[[Any], dict[str, Any] | None]] = {
    "AccountOpened": lambda e: {"customer_id": e.customer_id,
                                "terms": pick(CustomerTerms, e.terms)},
    "AccountChanged": _changed,
    "InvoiceIssued": lambda e: {"invoice": pick(CustomerInvoice, e.invoice)},
    "CreditNoteIssued": _fields("credit_note"),
    "InvoiceDisputed": _fields("invoice_number", "reason"),  # the customer's own words
    "DisputeResolved": _fields("invoice_number"),
    "PaymentReceived": lambda e: {"payment": pick(CustomerPayment, e.payment)},
    "PaymentConfirmed": _fields("number"),
    "PaymentRejected": _fields("number"),
    "PaymentApplied": _fields("number", "applications", "on"),
    "PaymentUnapplied": _fields("number", "invoice_number", "amount", "on"),
    "ChequeBounced": _fields("number", "on", "reversed"),
    "CommitmentRecorded": lambda e: {"commitment": pick(CustomerCommitment, e.commitment)},
    "CommitmentOutcomeRecorded": _fields("number", "outcome", "on"),
    "DunningNoticeIssued": lambda e: {"notice": pick(CustomerDunningNotice, e.notice)},
    "CreditHoldPlaced": lambda e: {"hold": pick(CustomerHold, e.hold)},
    "CreditHoldReleased": lambda e: {"release": pick(CustomerRelease, e.release)},
}


def account_history(events: Iterable[Any]) -> list[CustomerEvent]:
    out = []
    for e in events:
        shape = ACCOUNT_PAYLOADS.get(type(e).__name__)
        payload = shape(e) if shape is not None else None  # unknown: shows nothing
        if payload is None:
            continue
        out.append(CustomerEvent(
            type=type(e).__name__, version=e.originator_version, recorded_at=e.timestamp,
            occurred_at=e.meta.occurred_at, actor=actor_label(e.meta.role),
            source=str(e.meta.source), payload=to_jsonable_python(payload)))
    return out


def statement(st: Statement) -> Statement:
    """The statement of account is the customer's document; who chases it is internal."""
    return dataclasses.replace(st, collection_owner=FORWARDER)
