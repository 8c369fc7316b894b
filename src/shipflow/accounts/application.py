"""The accounts-receivable application service: one method per command on a customer
account, sharing the one ``Shipflow`` event store (and notification log) with shipments.

An invoice, a credit note or a re-bill also changes the shipment whose charges it bills or
releases; both aggregates are saved in **one** ``store.save(account, shipment)``, so an
invoice never exists without its ``ChargesInvoiced`` on the shipment, nor the reverse.

Optimistic concurrency as for shipments: with ``expected_version`` (``If-Match``) a stale
account is refused; without it, a write that loses a race is retried once on fresh state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from shipflow import idempotency
from shipflow.accounts.account import CustomerAccount, account_id
from shipflow.accounts.values import (
    AccountTerms,
    Application,
    Cheque,
    CommitmentOutcome,
    ConceptExplanation,
    CreditNoteLine,
    DunningLevel,
    Money,
    PaymentMethod,
)
from shipflow.application import ConcurrentWrite
from shipflow.events.charges import ChargeChange
from shipflow.events.errors import NotFound, VersionConflict, Violation
from shipflow.events.shipment import Shipment
from shipflow.events.values import EventMeta
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


class AccountVersionConflict(VersionConflict):
    def __init__(self, expected: int, current: int) -> None:
        super().__init__(expected, current)
        self.detail = f"expected version {expected} but the account is at version {current}"


def credit_hold_violations(store: Shipflow, customer_id: str, on: date) -> list[Violation]:
    """``customer_on_credit_hold`` when the customer's account is on hold (or should be:
    over a limit or overdue past its days, and not released). No account: no violation."""
    try:
        account: CustomerAccount = store.repository.get(account_id(customer_id))
    except AggregateNotFoundError:
        return []
    violation = account.hold_violation(on)
    return [violation] if violation else []


class AccountService:
    def __init__(self, store: Shipflow) -> None:
        self.store = store

    # --- plumbing -------------------------------------------------------------------------------

    def _change(self, customer_id: str, expected_version: int | None,
                command: Callable[..., Any], shipment_id: UUID | None = None) -> AccountRecorded:
        for attempt in (1, 2):
            account = self.get(customer_id)
            if expected_version is not None and account.version != expected_version:
                raise AccountVersionConflict(expected_version, account.version)
            shipment = self._shipment(shipment_id) if shipment_id else None
            result = command(account, shipment) if shipment_id else command(account)
            pending = [*account.pending_events, *(shipment.pending_events if shipment else [])]
            names = [type(e).__name__ for e in pending]
            if not names:
                return AccountRecorded(account.customer_id, account.id, account.version, 0, [],
                                       result)
            try:
                recordings = idempotency.save(
                    self.store, [account, *([shipment] if shipment else [])],
                    AccountRecorded(account.customer_id, account.id, account.version, 0, names,
                                    result))
            except IntegrityError:
                if expected_version is not None:
                    raise AccountVersionConflict(expected_version,
                                                 self.get(customer_id).version) from None
                if attempt == 2:
                    raise ConcurrentWrite() from None
                continue
            return AccountRecorded(account.customer_id, account.id, account.version,
                                   recordings[-1].notification.id, names, result)
        raise AssertionError("unreachable")

    def _shipment(self, shipment_id: UUID) -> Shipment:
        try:
            return self.store.repository.get(shipment_id)
        except AggregateNotFoundError:
            raise NotFound("shipment_not_found", f"no shipment {shipment_id}") from None

    # --- queries --------------------------------------------------------------------------------

    def get(self, customer_id: str, version: int | None = None) -> CustomerAccount:
        try:
            return self.store.repository.get(account_id(customer_id), version=version)
        except AggregateNotFoundError:
            raise NotFound("account_not_found", f"no account for customer {customer_id}"
                           ) from None

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
        from shipflow.events.errors import InvalidTransition

        account = CustomerAccount.open(customer_id, terms, meta)
        try:
            recordings = idempotency.save(self.store, [account], AccountRecorded(
                account.customer_id, account.id, account.version, 0, ["AccountOpened"]))
        except IntegrityError:
            raise InvalidTransition("account_exists", f"{customer_id} has an account "
                                    "already: change its terms") from None
        return AccountRecorded(account.customer_id, account.id, account.version,
                               recordings[-1].notification.id, ["AccountOpened"])

    def change_terms(self, customer_id: str, terms: AccountTerms, meta: EventMeta,
                     expected_version: int | None = None) -> AccountRecorded:
        return self._change(customer_id, expected_version,
                            lambda a: a.change_terms(terms, meta))

    def issue_invoice(self, customer_id: str, shipment_id: UUID, bill_to: str, currency: str,
                      charge_numbers: list[int] | None, explanations: list[ConceptExplanation],
                      issue_date: date | None, meta: EventMeta,
                      expected_version: int | None = None) -> AccountRecorded:
        def command(a: CustomerAccount, s: Shipment) -> Any:
            invoice = a.issue_invoice(s, bill_to, currency, charge_numbers, explanations,
                                      issue_date, meta)
            s.record_invoiced(invoice.number, a.customer_id,
                              [ln.charge_number for ln in invoice.lines], meta)
            return invoice

        return self._change(customer_id, expected_version, command, shipment_id)

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

    def rebill(self, customer_id: str, invoice_number: str,
               adjustments: list[tuple[int, ChargeChange]], voids: list[tuple[int, str]],
               reason: str, explanations: list[ConceptExplanation], issue_date: date | None,
               meta: EventMeta, expected_version: int | None = None) -> AccountRecorded:
        """Credit the invoice, correct its charges on the shipment, bill them again."""

        def command(a: CustomerAccount, s: Shipment) -> Any:
            old = a._invoice(invoice_number)
            s.release_invoiced(invoice_number, a.next_number("CN"),
                               [ln.charge_number for ln in old.lines], meta)
            for number, change in adjustments:
                s.adjust_charge(number, change, meta)
            for number, why in voids:
                s.void_charge(number, why, meta)
            note, new = a.rebill(invoice_number, s, reason, explanations, issue_date, meta)
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

    def receive_payment(self, customer_id: str, amount: Money, bank_reference: str,
                        value_date: date | None, payer: str, method: PaymentMethod,
                        cheque: Cheque | None, meta: EventMeta,
                        expected_version: int | None = None) -> AccountRecorded:
        return self._change(customer_id, expected_version, lambda a: a.receive_payment(
            amount, bank_reference, value_date, payer, method, cheque, meta))

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

    def unapply_payment(self, customer_id: str, number: str, invoice_number: str,
                        amount: Money | None, reason: str, on: date | None, meta: EventMeta,
                        expected_version: int | None = None) -> AccountRecorded:
        return self._change(customer_id, expected_version, lambda a: a.unapply_payment(
            number, invoice_number, amount, reason, on, meta))

    def bounce_cheque(self, customer_id: str, number: str, on: date | None, reason: str,
                      meta: EventMeta, expected_version: int | None = None) -> AccountRecorded:
        return self._change(customer_id, expected_version,
                            lambda a: a.bounce_cheque(number, on, reason, meta))

    def record_commitment(self, customer_id: str, amount: Money, promised_date: date,
                          invoice_numbers: list[str], contact: str, note: str, meta: EventMeta,
                          expected_version: int | None = None) -> AccountRecorded:
        return self._change(customer_id, expected_version, lambda a: a.record_commitment(
            amount, promised_date, invoice_numbers, contact, note, meta))

    def record_commitment_outcome(self, customer_id: str, number: int,
                                  outcome: CommitmentOutcome, note: str, on: date | None,
                                  meta: EventMeta, expected_version: int | None = None
                                  ) -> AccountRecorded:
        return self._change(customer_id, expected_version, lambda a: a.record_commitment_outcome(
            number, outcome, note, on, meta))

    def issue_dunning_notice(self, customer_id: str, level: DunningLevel,
                             shipment_id: UUID | None, invoice_numbers: list[str] | None,
                             on: date | None, meta: EventMeta,
                             expected_version: int | None = None) -> AccountRecorded:
        return self._change(customer_id, expected_version, lambda a: a.issue_dunning_notice(
            level, shipment_id, invoice_numbers, on, meta))

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
