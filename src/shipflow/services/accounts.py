"""The accounts-receivable application service: one method per command on a customer
account, through the same commit loop as shipments (:mod:`shipflow.services.commit`), in the
one ``Shipflow`` event store (and notification log).

An invoice, a credit note or a re-bill also changes the shipment whose charges it bills or
releases; both aggregates are saved in **one** save, so an invoice never exists without its
``ChargesInvoiced`` on the shipment, nor the reverse.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import partial
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from shipflow.events.account.aggregate import CustomerAccount, account_id
from shipflow.events.account.values import (
    AccountTerms,
    Application,
    CommitmentOutcome,
    CreditNoteLine,
    DunningRequest,
    InvoiceRequest,
    PaymentAdvice,
    PromiseToPay,
    RebillRequest,
    Unapplication,
)
from shipflow.events.common import (
    EventMeta,
    InvalidTransition,
    NotFound,
    VersionConflict,
    Violation,
)
from shipflow.events.shipment.aggregate import Shipment
from shipflow.events.shipment.charges import ChargeChange
from shipflow.services.cache import AggregateCache
from shipflow.services.commit import Commits
from shipflow.services.idempotency import IdempotencyRequest
from shipflow.store import Shipflow


@dataclass(frozen=True)
class AccountRecorded:
    """What an account command wrote: the account's new version, the log position."""

    customer_id: str
    account_id: UUID
    version: int
    position: int
    events: list[str]
    result: Any = None

    def at(self, position: int) -> AccountRecorded:
        return replace(self, position=position)


def credit_hold_violations(store: Shipflow, customer_id: str, on: date) -> list[Violation]:
    """``customer_on_credit_hold`` when the customer's account is on hold (or should be:
    over a limit or overdue past its days, and not released). No account: no violation."""
    try:
        account: CustomerAccount = store.repository.get(account_id(customer_id))
    except AggregateNotFoundError:
        return []
    violation = account.hold_violation(on)
    return [violation] if violation else []


AccountVersionConflict = partial(VersionConflict, what="account")


class AccountService:
    def __init__(self, store: Shipflow, idempotency: IdempotencyRequest | None = None,
                 cache: AggregateCache | None = None) -> None:
        self.store = store
        self.cache = cache or AggregateCache(store)  # share the shipments' (app.py does)
        self.commits = Commits(store, self.cache, idempotency, "account")

    def for_request(self, idempotency: IdempotencyRequest | None) -> AccountService:
        return AccountService(self.store, idempotency, self.cache)

    # --- plumbing -------------------------------------------------------------------------------

    def _change(self, customer_id: str, expected_version: int | None,
                command: Callable[..., Any], shipment_id: UUID | None = None) -> AccountRecorded:
        """Run ``command(account)``, or ``command(account, shipment)`` with a shipment."""

        ids = [account_id(customer_id), *([shipment_id] if shipment_id else [])]

        def load(get: Callable[[UUID], Any]) -> list[Any]:
            account = self._account(get, customer_id)
            return [account, self._shipment(get, shipment_id)] if shipment_id else [account]

        def describe(loaded: Sequence[Any], names: list[str], result: Any) -> AccountRecorded:
            a = loaded[0]
            return AccountRecorded(a.customer_id, a.id, a.version, 0, names, result)

        return self.commits.change(ids, load, command, describe, expected_version,
                                   AccountVersionConflict)

    @staticmethod
    def _shipment(get: Callable[[UUID], Any], shipment_id: UUID) -> Shipment:
        try:
            shipment = get(shipment_id)
        except AggregateNotFoundError:
            shipment = None
        if not isinstance(shipment, Shipment):
            raise NotFound("shipment_not_found", f"no shipment {shipment_id}")
        return shipment

    @staticmethod
    def _account(get: Callable[[UUID], Any], customer_id: str) -> CustomerAccount:
        try:
            account = get(account_id(customer_id))
        except AggregateNotFoundError:
            account = None
        if not isinstance(account, CustomerAccount):
            raise NotFound("account_not_found", f"no account for customer {customer_id}")
        return account

    # --- queries --------------------------------------------------------------------------------

    def get(self, customer_id: str, version: int | None = None) -> CustomerAccount:
        """The account now (caught up with the store) or at a version."""
        if version is None:
            return self._account(self.cache.read, customer_id)
        return self._account(lambda i: self.store.repository.get(i, version=version),
                             customer_id)

    def history(self, customer_id: str) -> list[Any]:
        events = list(self.store.events.get(account_id(customer_id)))
        if not events:
            raise NotFound("account_not_found", f"no account for customer {customer_id}")
        return events

    def history_until(self, customer_id: str, as_of: datetime) -> list[Any]:
        """The events recorded up to ``as_of`` (what the system knew then)."""
        events = [e for e in self.history(customer_id) if e.timestamp <= as_of]
        if not events:
            raise NotFound("account_not_yet_opened", f"the account of {customer_id} did not "
                           f"exist at {as_of.isoformat()}")
        return events

    # --- commands -------------------------------------------------------------------------------

    def open_account(self, customer_id: str, terms: AccountTerms,
                     meta: EventMeta) -> AccountRecorded:
        account = CustomerAccount.open(customer_id, terms, meta)
        recorded = AccountRecorded(account.customer_id, account.id, account.version, 0,
                                   ["AccountOpened"])
        return self.commits.create(account, recorded, lambda: InvalidTransition(
            "account_exists", f"{customer_id} has an account already: change its terms"))

    def change_terms(self, customer_id: str, terms: AccountTerms, meta: EventMeta,
                     expected_version: int | None = None) -> AccountRecorded:
        return self._change(customer_id, expected_version,
                            lambda a: a.change_terms(terms, meta))

    def issue_invoice(self, customer_id: str, request: InvoiceRequest, meta: EventMeta,
                      expected_version: int | None = None) -> AccountRecorded:
        def command(a: CustomerAccount, s: Shipment) -> Any:
            invoice = a.issue_invoice(s, request, meta)
            s.record_invoiced(invoice.number, a.customer_id,
                              [ln.charge_number for ln in invoice.lines], meta)
            return invoice

        return self._change(customer_id, expected_version, command, request.shipment_id)

    def _invoice_shipment(self, customer_id: str, invoice_number: str) -> UUID:
        return self.get(customer_id)._invoice(invoice_number).shipment_id

    def issue_credit_note(self, customer_id: str, invoice_number: str,
                          lines: list[CreditNoteLine], reason: str, issue_date: date | None,
                          meta: EventMeta, expected_version: int | None = None
                          ) -> AccountRecorded:
        def command(a: CustomerAccount, s: Shipment) -> Any:
            note = a.issue_credit_note(invoice_number, lines, reason, issue_date, meta)
            s.release_invoiced(invoice_number, note.number,
                               [ln.charge_number for ln in note.lines
                                if ln.charge_number is not None], meta)
            return note

        return self._change(customer_id, expected_version, command,
                            self._invoice_shipment(customer_id, invoice_number))

    def rebill(self, customer_id: str, invoice_number: str, request: RebillRequest,
               meta: EventMeta, expected_version: int | None = None) -> AccountRecorded:
        """Credit the invoice, correct its charges on the shipment, bill them again."""

        def command(a: CustomerAccount, s: Shipment) -> Any:
            old = a._invoice(invoice_number)
            s.release_invoiced(invoice_number, a.next_number("CN"),
                               [ln.charge_number for ln in old.lines], meta)
            for adj in request.adjustments:
                s.adjust_charge(adj.charge_number, ChargeChange(
                    quantity=adj.quantity, unit_price=adj.unit_price, reason=adj.reason), meta)
            for void in request.voids:
                s.void_charge(void.charge_number, void.reason, meta)
            note, new = a.rebill(invoice_number, s, request, meta)
            s.record_invoiced(new.number, a.customer_id,
                              [ln.charge_number for ln in new.lines], meta)
            return {"credit_note": note, "invoice": new}

        return self._change(customer_id, expected_version, command,
                            self._invoice_shipment(customer_id, invoice_number))

    def dispute_invoice(self, customer_id: str, invoice_number: str, reason: str,
                        meta: EventMeta, expected_version: int | None = None) -> AccountRecorded:
        return self._change(customer_id, expected_version,
                            lambda a: a.dispute_invoice(invoice_number, reason, meta))

    def resolve_dispute(self, customer_id: str, invoice_number: str, resolution: str,
                        meta: EventMeta, expected_version: int | None = None) -> AccountRecorded:
        return self._change(customer_id, expected_version,
                            lambda a: a.resolve_dispute(invoice_number, resolution, meta))

    def receive_payment(self, customer_id: str, advice: PaymentAdvice, meta: EventMeta,
                        expected_version: int | None = None) -> AccountRecorded:
        return self._change(customer_id, expected_version,
                            lambda a: a.receive_payment(advice, meta))

    def confirm_payment(self, customer_id: str, number: str, note: str, meta: EventMeta,
                        expected_version: int | None = None) -> AccountRecorded:
        return self._change(customer_id, expected_version,
                            lambda a: a.confirm_payment(number, note, meta))

    def reject_payment(self, customer_id: str, number: str, reason: str, meta: EventMeta,
                       expected_version: int | None = None) -> AccountRecorded:
        return self._change(customer_id, expected_version,
                            lambda a: a.reject_payment(number, reason, meta))

    def apply_payment(self, customer_id: str, number: str, applications: list[Application],
                      on: date | None, meta: EventMeta,
                      expected_version: int | None = None) -> AccountRecorded:
        return self._change(customer_id, expected_version,
                            lambda a: a.apply_payment(number, applications, on, meta))

    def unapply_payment(self, customer_id: str, number: str, unapplication: Unapplication,
                        meta: EventMeta, expected_version: int | None = None
                        ) -> AccountRecorded:
        return self._change(customer_id, expected_version,
                            lambda a: a.unapply_payment(number, unapplication, meta))

    def bounce_cheque(self, customer_id: str, number: str, on: date | None, reason: str,
                      meta: EventMeta, expected_version: int | None = None) -> AccountRecorded:
        return self._change(customer_id, expected_version,
                            lambda a: a.bounce_cheque(number, on, reason, meta))

    def record_commitment(self, customer_id: str, promise: PromiseToPay, meta: EventMeta,
                          expected_version: int | None = None) -> AccountRecorded:
        return self._change(customer_id, expected_version,
                            lambda a: a.record_commitment(promise, meta))

    def record_commitment_outcome(self, customer_id: str, number: int,
                                  outcome: CommitmentOutcome, note: str, on: date | None,
                                  meta: EventMeta, expected_version: int | None = None
                                  ) -> AccountRecorded:
        return self._change(customer_id, expected_version, lambda a: a.record_commitment_outcome(
            number, outcome, note, on, meta))

    def issue_dunning_notice(self, customer_id: str, request: DunningRequest, meta: EventMeta,
                             expected_version: int | None = None) -> AccountRecorded:
        return self._change(customer_id, expected_version,
                            lambda a: a.issue_dunning_notice(request, meta))

    def check_credit(self, customer_id: str, on: date | None, meta: EventMeta,
                     expected_version: int | None = None) -> AccountRecorded:
        return self._change(customer_id, expected_version,
                            lambda a: a.check_credit(on, meta))

    def place_hold(self, customer_id: str, note: str, meta: EventMeta,
                   expected_version: int | None = None) -> AccountRecorded:
        return self._change(customer_id, expected_version, lambda a: a.place_hold(note, meta))

    def release_hold(self, customer_id: str, reason: str, meta: EventMeta,
                     expected_version: int | None = None) -> AccountRecorded:
        return self._change(customer_id, expected_version,
                            lambda a: a.release_hold(reason, meta))
