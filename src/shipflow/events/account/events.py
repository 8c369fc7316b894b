"""The facts of a customer account's life (accounts receivable). Each event says what
happened and how it changes the account (``apply``); the commands on
:class:`~shipflow.events.account.aggregate.CustomerAccount` check the rules before recording it.

Every event carries :class:`EventMeta` (who, role, source, when, correlation).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from eventsourcing.domain import Aggregate

from shipflow.events.account.values import (
    AccountTerms,
    Application,
    Commitment,
    CommitmentOutcome,
    CreditHold,
    CreditNote,
    DunningNotice,
    HoldRelease,
    Invoice,
    Money,
    Payment,
    PaymentStatus,
)
from shipflow.events.common import EventMeta

if TYPE_CHECKING:
    from shipflow.events.account.aggregate import CustomerAccount

class AccountEvent(Aggregate.Event):
    meta: EventMeta

    def apply(self, account: CustomerAccount) -> None:  # noqa: D102 - overridden per event
        pass


class AccountOpened(Aggregate.Created):
    meta: EventMeta
    customer_id: str
    terms: AccountTerms


class AccountChanged(AccountEvent):
    terms: AccountTerms  # as they read afterwards
    changes: list[str]  # the names of the terms that changed

    def apply(self, a: CustomerAccount) -> None:
        a.terms = self.terms


class InvoiceIssued(AccountEvent):
    invoice: Invoice

    def apply(self, a: CustomerAccount) -> None:
        inv = self.invoice
        a.invoice_seq += 1
        a._put_invoice(inv)
        a._add_balance(inv.currency, inv.total)
        if inv.replaces:
            a._put_invoice(a.invoices[inv.replaces].model_copy(
                update={"replaced_by": inv.number}))


class CreditNoteIssued(AccountEvent):
    credit_note: CreditNote

    def apply(self, a: CustomerAccount) -> None:
        cn = self.credit_note
        a.credit_note_seq += 1
        a.credit_notes = a.credit_notes.set(cn.number, cn)
        inv = a.invoices[cn.invoice_number]
        charges = [ln.charge_number for ln in cn.lines if ln.charge_number is not None]
        a._put_invoice(inv.model_copy(update={
            "credited": inv.credited + cn.total, "dispute": None,
            "credited_charges": [*inv.credited_charges, *charges]}))
        a._add_balance(cn.currency, -cn.total)


class InvoiceDisputed(AccountEvent):
    invoice_number: str
    reason: str

    def apply(self, a: CustomerAccount) -> None:
        inv = a.invoices[self.invoice_number]
        a._put_invoice(inv.model_copy(update={"dispute": self.reason}))


class DisputeResolved(AccountEvent):
    invoice_number: str
    resolution: str

    def apply(self, a: CustomerAccount) -> None:
        inv = a.invoices[self.invoice_number]
        a._put_invoice(inv.model_copy(update={"dispute": None}))


class PaymentReceived(AccountEvent):
    payment: Payment  # RECEIVED, or FLAGGED as a possible duplicate of ``duplicate_of``

    def apply(self, a: CustomerAccount) -> None:
        p = self.payment
        a.payment_seq += 1
        a.payments = a.payments.set(p.number, p)
        key = a.duplicate_key(p)
        if key not in a.payment_keys:
            a.payment_keys = a.payment_keys.set(key, p.number)
        if p.status is PaymentStatus.RECEIVED:
            a._add_balance(p.amount.currency, -p.amount.amount)


class PaymentConfirmed(AccountEvent):
    """A flagged payment is not a duplicate: it counts and can be applied."""

    number: str
    note: str

    def apply(self, a: CustomerAccount) -> None:
        p = a.payments[self.number]
        a.payments = a.payments.set(self.number, p.model_copy(update={
            "status": PaymentStatus.RECEIVED, "status_reason": self.note,
            "status_on": self.meta.occurred_at.date()}))
        a._add_balance(p.amount.currency, -p.amount.amount)


class PaymentRejected(AccountEvent):
    """A flagged payment is a duplicate (the same money recorded twice): never counted."""

    number: str
    reason: str

    def apply(self, a: CustomerAccount) -> None:
        p = a.payments[self.number]
        a.payments = a.payments.set(self.number, p.model_copy(update={
            "status": PaymentStatus.REJECTED, "status_reason": self.reason,
            "status_on": self.meta.occurred_at.date()}))


class PaymentApplied(AccountEvent):
    number: str
    applications: list[Application]
    on: date

    def apply(self, a: CustomerAccount) -> None:
        p = a.payments[self.number]
        applied = dict(p.applied)
        for app in self.applications:
            n, amount = app.invoice_number, app.amount.amount
            applied[n] = applied.get(n, Decimal(0)) + amount
            inv = a.invoices[n]
            a._put_invoice(inv.model_copy(update={"paid": inv.paid + amount}))
        a.payments = a.payments.set(self.number, p.model_copy(update={"applied": applied}))


class PaymentUnapplied(AccountEvent):
    number: str
    invoice_number: str
    amount: Money
    on: date
    reason: str

    def apply(self, a: CustomerAccount) -> None:
        _unapply(a, self.number, self.invoice_number, self.amount.amount)


class ChequeBounced(AccountEvent):
    number: str
    on: date
    reason: str
    reversed: list[Application]  # the applications it undid

    def apply(self, a: CustomerAccount) -> None:
        for app in self.reversed:
            _unapply(a, self.number, app.invoice_number, app.amount.amount)
        p = a.payments[self.number]
        a.payments = a.payments.set(self.number, p.model_copy(update={
            "status": PaymentStatus.BOUNCED, "status_reason": self.reason,
            "status_on": self.on}))
        a._add_balance(p.amount.currency, p.amount.amount)


def _unapply(a: CustomerAccount, number: str, invoice_number: str, amount: Decimal) -> None:
    p = a.payments[number]
    applied = dict(p.applied)
    applied[invoice_number] -= amount
    if not applied[invoice_number]:
        del applied[invoice_number]
    a.payments = a.payments.set(number, p.model_copy(update={"applied": applied}))
    inv = a.invoices[invoice_number]
    a._put_invoice(inv.model_copy(update={"paid": inv.paid - amount}))


class CommitmentRecorded(AccountEvent):
    commitment: Commitment

    def apply(self, a: CustomerAccount) -> None:
        a.commitments = a.commitments.set(str(self.commitment.number), self.commitment)


class CommitmentOutcomeRecorded(AccountEvent):
    number: int
    outcome: CommitmentOutcome
    note: str
    on: date

    def apply(self, a: CustomerAccount) -> None:
        c = a.commitments[str(self.number)]
        a.commitments = a.commitments.set(str(self.number), c.model_copy(update={
            "outcome": self.outcome, "outcome_note": self.note, "outcome_on": self.on}))


class DunningNoticeIssued(AccountEvent):
    notice: DunningNotice

    def apply(self, a: CustomerAccount) -> None:
        n = self.notice
        a.notice_seq += 1
        a.notices = a.notices.set(n.number, n)
        for item in n.items:
            inv = a.invoices[item.invoice_number]
            a._put_invoice(inv.model_copy(update={"dunning_level": n.level}))


class CreditHoldPlaced(AccountEvent):
    hold: CreditHold

    def apply(self, a: CustomerAccount) -> None:
        a.hold = self.hold


class CreditHoldReleased(AccountEvent):
    release: HoldRelease

    def apply(self, a: CustomerAccount) -> None:
        a.hold = None
        a.release = self.release


#: Every account event class by name.
_CLASSES: list[type] = [AccountOpened, *AccountEvent.__subclasses__()]
EVENT_TYPES: dict[str, type] = {cls.__name__: cls for cls in _CLASSES}
