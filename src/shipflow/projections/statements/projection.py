"""The ``statements`` view: a fold of each customer account's events into its ledger
entries (see :mod:`shipflow.projections.statements.statement`) and its documents as they stand.

``evolve`` is constant-time per event, however large the account: the view keeps the
account's persistent maps as they were after the event (shared, never copied) and appends
the event's entries to a linked list. So the same fold answers ``?as_of=`` over a 20,000
event account, and the writer finds what a batch changed by identity (``PMap.changed``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, delete

from shipflow.events import topics
from shipflow.events.account import events as ev
from shipflow.events.account.aggregate import CustomerAccount
from shipflow.events.account.pmap import PMap
from shipflow.events.account.values import (
    AccountTerms,
    CreditHold,
    HoldRelease,
    Invoice,
    Payment,
    PaymentStatus,
)
from shipflow.projections.engine.base import Change, Projection
from shipflow.projections.statements.statement import (
    Entry,
    Item,
    Statement,
    build_statement,
    summarize,
)
from shipflow.projections.statements.tables import NAME, TABLES


@dataclass(frozen=True, slots=True)
class Entries:
    """An append-only list sharing its past: each node adds one event's entries."""

    prev: Entries | None
    entries: tuple[Entry, ...]
    count: int

    def since(self, count: int) -> list[Entry]:
        chunks: list[tuple[Entry, ...]] = []
        node: Entries | None = self
        while node is not None and node.count > count:
            chunks.append(node.entries)
            node = node.prev
        return [e for chunk in reversed(chunks) for e in chunk]


@dataclass(frozen=True)
class StatementView:
    account_id: UUID
    customer_id: str
    version: int
    updated_at: datetime
    terms: AccountTerms
    hold: CreditHold | None
    release: HoldRelease | None
    invoices: PMap[Any]
    credit_notes: PMap[Any]
    payments: PMap[Any]
    commitments: PMap[Any]
    notices: PMap[Any]
    entries: Entries | None = None

    @property
    def entry_count(self) -> int:
        return self.entries.count if self.entries else 0

    def all_entries(self) -> list[Entry]:
        return self.entries.since(0) if self.entries else []

    def items(self) -> dict[str, Item]:
        return {**{n: invoice_item(i) for n, i in self.invoices.items()},
                **{n: payment_item(p) for n, p in self.payments.items()}}

    def statement(self, period_from: date, period_to: date, currency: str | None = None,
                  as_of: datetime | None = None) -> Statement:
        totals = summarize(self.all_entries(), self.items(), period_from, period_to)
        return build_statement(self.customer_id, self.terms, self.hold, totals, period_from,
                               period_to, currency, as_of)


def invoice_item(i: Invoice) -> Item:
    return Item(number=i.number, kind="INVOICE", currency=i.currency, on=i.issue_date,
                due_date=i.due_date, shipment_id=i.shipment_id, reference=i.reference,
                disputed=i.dispute is not None)


def payment_item(p: Payment) -> Item:
    return Item(number=p.number, kind="PAYMENT", currency=p.amount.currency, on=p.value_date,
                reference=p.bank_reference)


def entries_for(event: Any, a: CustomerAccount) -> list[tuple[Any, ...]]:
    """(currency, on, kind, number, item, amount, reference) for each money movement."""
    if isinstance(event, ev.InvoiceIssued):
        i = event.invoice
        return [(i.currency, i.issue_date, "INVOICE", i.number, i.number, i.total, i.reference)]
    if isinstance(event, ev.CreditNoteIssued):
        c = event.credit_note
        return [(c.currency, c.issue_date, "CREDIT_NOTE", c.number, c.invoice_number,
                 -c.total, c.invoice_number)]
    if isinstance(event, ev.PaymentReceived | ev.PaymentConfirmed):
        p = a.payments[event.payment.number if isinstance(event, ev.PaymentReceived)
                       else event.number]
        if p.status is not PaymentStatus.RECEIVED:
            return []
        return [(p.amount.currency, p.value_date, "PAYMENT", p.number, p.number,
                 -p.amount.amount, p.bank_reference)]
    if isinstance(event, ev.PaymentApplied):
        return _moves(a, event.number, [(x.invoice_number, x.amount.amount)
                                        for x in event.applications], event.on, "APPLICATION")
    if isinstance(event, ev.PaymentUnapplied):
        return _moves(a, event.number, [(event.invoice_number, -event.amount.amount)],
                      event.on, "UNAPPLICATION")
    if isinstance(event, ev.ChequeBounced):
        p = a.payments[event.number]
        back = _moves(a, event.number, [(x.invoice_number, -x.amount.amount)
                                        for x in event.reversed], event.on, "UNAPPLICATION")
        return [(p.amount.currency, event.on, "BOUNCED_CHEQUE", p.number, p.number,
                 p.amount.amount, event.reason), *back]
    return []


def _moves(a: CustomerAccount, number: str, moves: list[tuple[str, Decimal]], on: date,
           kind: str) -> list[tuple[Any, ...]]:
    p = a.payments[number]
    out = []
    for invoice_number, amount in moves:
        inv = a.invoices[invoice_number]
        day = max(on, p.value_date, inv.issue_date)  # cash moves once both exist
        out += [(p.amount.currency, day, kind, number, invoice_number, -amount, number),
                (p.amount.currency, day, kind, number, number, amount, invoice_number)]
    return out


class StatementProjection(Projection[StatementView]):
    name = NAME
    stream = topics.ACCOUNT

    def evolve(self, view: StatementView | None, event: Any,
               account: Any) -> StatementView | None:
        if isinstance(event, ev.AccountOpened):
            view = None
        moves = entries_for(event, account)
        entries = view.entries if view else None
        if moves:
            start = entries.count if entries else 0
            entries = Entries(entries, tuple(
                Entry(start + k + 1, *m) for k, m in enumerate(moves)), start + len(moves))
        fresh = dict(
            version=account.version, updated_at=event.timestamp, terms=account.terms,
            hold=account.hold, release=account.release, invoices=account.invoices,
            credit_notes=account.credit_notes, payments=account.payments,
            commitments=account.commitments, notices=account.notices, entries=entries)
        if view is None:
            return StatementView(account_id=account.id, customer_id=account.customer_id,
                                 **fresh)
        return replace(view, **fresh)

    def write(self, conn: Connection, slot: str,
              changes: Mapping[UUID, Change[StatementView]]) -> None:
        from shipflow.projections.statements import rows

        t = TABLES[slot]
        for change in changes.values():
            if change.after is not None:
                rows.write_account(conn, t, change.before, change.after)

    def clear(self, conn: Connection, slot: str) -> None:
        t = TABLES[slot]
        for table in (t.accounts, t.entries, t.documents, t.commitments):
            conn.execute(delete(table))


__all__ = ["Entries", "StatementProjection", "StatementView"]
