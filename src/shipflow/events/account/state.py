"""What a customer account knows about itself, the credit rules read from it, and the guards
its commands share: the typed base of
:class:`~shipflow.events.account.aggregate.CustomerAccount`.

Only events change this state (their ``apply`` in :mod:`shipflow.events.account.events`).
Documents live in persistent maps (:mod:`~shipflow.events.account.pmap`), so an event
changes an account with 10,000 invoices in constant time and a view may keep the maps as
they were after any event.

Credit rules (domain.md §2.6, [001]): an account is on hold, or should be, when a currency's
balance is over its limit or an undisputed item is overdue past ``hold_after_days_overdue``;
a release by finance accepts the reasons as they stood, not new ones.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

from shipflow.events.account import events as ev
from shipflow.events.account.pmap import PMap
from shipflow.events.account.values import (
    AccountTerms,
    CreditHold,
    CreditNote,
    HoldRelease,
    Invoice,
    Payment,
)
from shipflow.events.common import EventMeta, NotFound, NotPermitted, Violation

ACCOUNTS_NAMESPACE = UUID("5b0f3c1e-8d4a-4f7e-9a51-6c2f0e7d3a10")

#: Roles that may invoice, record disputes, commitments and dunning notices, check credit.
AR_ROLES = frozenset({"finance", "cs", "manager", "admin", "integration"})


def account_id(customer_id: str) -> UUID:
    return uuid5(ACCOUNTS_NAMESPACE, customer_id.strip())


def require_finance(meta: EventMeta, doing: str) -> None:
    if meta.role != "finance":
        raise NotPermitted("finance_role_required", f"only the finance role may {doing}")


def require_ar(meta: EventMeta, doing: str) -> None:
    if meta.role not in AR_ROLES:
        raise NotPermitted("ar_role_required", f"only {', '.join(sorted(AR_ROLES))} may "
                           f"{doing}")


class AccountState(Aggregate):
    def __init__(self, meta: EventMeta, customer_id: str, terms: AccountTerms) -> None:
        self.customer_id = customer_id
        self.terms = terms
        self.invoices: PMap[Invoice] = PMap()
        self.credit_notes: PMap[CreditNote] = PMap()
        self.payments: PMap[Payment] = PMap()
        self.commitments: PMap[Any] = PMap()
        self.notices: PMap[Any] = PMap()
        self.open_invoices: PMap[date] = PMap()  # number → due date, while anything is open
        self.payment_keys: PMap[str] = PMap()  # payer|amount|reference → first payment
        self.balances: dict[str, Decimal] = {}  # per currency: invoiced − credited − paid
        self.invoice_seq = 0
        self.credit_note_seq = 0
        self.payment_seq = 0
        self.notice_seq = 0
        self.hold: CreditHold | None = None
        self.release: HoldRelease | None = None

    # --- state changes the events share -------------------------------------------------------

    def _put_invoice(self, inv: Invoice) -> None:
        self.invoices = self.invoices.set(inv.number, inv)
        if inv.open_amount > 0:
            if self.open_invoices.get(inv.number) != inv.due_date:
                self.open_invoices = self.open_invoices.set(inv.number, inv.due_date)
        elif inv.number in self.open_invoices:
            self.open_invoices = self.open_invoices.delete(inv.number)

    def _add_balance(self, currency: str, delta: Decimal) -> None:
        self.balances = {**self.balances,
                         currency: self.balances.get(currency, Decimal(0)) + delta}

    # --- look-ups -------------------------------------------------------------------------------

    def _invoice(self, number: str) -> Invoice:
        inv = self.invoices.get(number)
        if inv is None:
            raise NotFound("invoice_not_found", f"no invoice {number} on this account")
        return inv

    def _payment(self, number: str) -> Payment:
        p = self.payments.get(number)
        if p is None:
            raise NotFound("payment_not_found", f"no payment {number} on this account")
        return p

    def next_number(self, kind: str) -> str:
        seq = {"INV": self.invoice_seq, "CN": self.credit_note_seq, "PAY": self.payment_seq,
               "DN": self.notice_seq}[kind]
        return f"{kind}-{self.customer_id}-{seq + 1:05d}"

    # --- credit ---------------------------------------------------------------------------------

    def credit_reasons(self, on: date) -> list[str]:
        """Why the account should be on hold at ``on``: a currency over its limit, an
        undisputed item overdue more than ``hold_after_days_overdue`` days."""
        reasons = [f"over_credit_limit:{cur}" for cur, balance in sorted(self.balances.items())
                   if balance > self.terms.limit(cur)]
        days = self.terms.hold_after_days_overdue
        reasons += sorted(f"overdue:{n}" for n, due in self.open_invoices.items()
                          if (on - due).days > days and self.invoices[n].dispute is None)
        return reasons

    def uncovered_reasons(self, on: date) -> list[str]:
        """The reasons a release by finance did not accept: new overdue items, or exposure
        above what it was when released."""
        return [r for r in self.credit_reasons(on) if not self._covered(r)]

    def _covered(self, reason: str) -> bool:
        if self.release is None or reason not in self.release.covered:
            return False
        kind, _, currency = reason.partition(":")
        if kind != "over_credit_limit":
            return True
        accepted = next((m.amount for m in self.release.covered_exposure
                         if m.currency == currency), Decimal(0))
        return self.balances.get(currency, Decimal(0)) <= accepted

    def hold_violation(self, on: date) -> Violation | None:
        """The review violation for a booking of this customer, if it is on credit hold."""
        reasons = list(self.hold.reasons) if self.hold else self.uncovered_reasons(on)
        if not reasons:
            return None
        since = f" since {self.hold.placed_on}" if self.hold else ""
        return Violation(rule="customer_on_credit_hold", field="customer_id",
                         detail=f"{self.customer_id} is on credit hold{since} "
                                f"({', '.join(reasons)}); finance must release it")

    def _hold_if_over_limit(self, currency: str, on: date, meta: EventMeta) -> None:
        reason = f"over_credit_limit:{currency}"
        over = self.balances.get(currency, Decimal(0)) > self.terms.limit(currency)
        if self.hold is None and over and not self._covered(reason):
            self.trigger_event(ev.CreditHoldPlaced, meta=meta, hold=CreditHold(
                placed_on=on, reasons=[reason], placed_by=meta.actor, automatic=True,
                note=f"exposure {self.balances[currency]} {currency} over the limit "
                     f"{self.terms.limit(currency)}"))
