"""The statement of account, computed by one pure function from an account's **entries**.

An entry is one dated money movement on one open item (an invoice, or a payment's
unapplied cash), signed from the customer's side (+ owes more, − owes less):

=================  ==============================================  =====================
kind               item and sign                                    on the statement?
=================  ==============================================  =====================
INVOICE            the invoice, + total, on its issue date          yes (debit)
CREDIT_NOTE        the invoice it credits, − total, on its date     yes (credit)
PAYMENT            the payment, − amount, on its value date         yes (credit)
BOUNCED_CHEQUE     the payment, + amount, on the bounce date        yes (debit)
APPLICATION        − on the invoice and + on the payment, same day  no (moves cash)
UNAPPLICATION      the reverse of an application                    no
=================  ==============================================  =====================

So for any date: balance = Σ statement entries up to it = Σ open amounts of the items, and
the aging of open items always adds up to the closing balance. Both the live view (rows in
SQL) and ``?as_of=`` (the account's events folded up to a moment) feed this same function.
Amounts are Decimal throughout; currencies are never added together.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from shipflow.events.account.values import AccountTerms, CreditHold
from shipflow.events.common import minor_units

LEDGER_KINDS = ("INVOICE", "CREDIT_NOTE", "PAYMENT", "BOUNCED_CHEQUE")
BUCKETS = ("current", "1-30", "31-60", "61-90", "90+")
ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Entry:
    seq: int  # order of recording within the account
    currency: str
    on: date
    kind: str
    number: str  # the document: invoice, credit note or payment number
    item: str  # the open item it moves: an invoice or a payment number
    amount: Decimal
    reference: str = ""

    @property
    def ledger(self) -> bool:
        return self.kind in LEDGER_KINDS


@dataclass(frozen=True, slots=True)
class Item:
    """What the statement shows of an open item besides its amounts."""

    number: str
    kind: str  # INVOICE or PAYMENT
    currency: str
    on: date  # issue date or value date
    due_date: date | None = None
    shipment_id: UUID | None = None
    reference: str = ""
    disputed: bool = False


@dataclass(frozen=True)
class Line:
    on: date
    kind: str
    number: str
    reference: str
    due_date: date | None
    debit: Decimal
    credit: Decimal
    balance: Decimal


@dataclass(frozen=True)
class OpenItem:
    number: str
    kind: str
    on: date
    due_date: date | None
    days_overdue: int
    bucket: str  # one of BUCKETS, or "unapplied" for cash on account
    amount: Decimal  # the original amount
    open_amount: Decimal
    reference: str
    shipment_id: UUID | None
    disputed: bool


@dataclass(frozen=True)
class CurrencyStatement:
    currency: str
    opening_balance: Decimal
    invoices: Decimal
    credit_notes: Decimal
    payments: Decimal
    bounced_cheques: Decimal
    closing_balance: Decimal
    lines: list[Line]
    open_items: list[OpenItem]
    aging: dict[str, Decimal]
    unapplied_cash: Decimal
    overdue: Decimal
    credit_limit: Decimal
    exposure: Decimal
    available_credit: Decimal


@dataclass(frozen=True)
class Statement:
    customer_id: str
    name: str
    statement_date: date  # = period_to: balances, open items and aging are as at this day
    period_from: date
    period_to: date
    as_of: datetime | None  # what was known then (None: now)
    settlement_mode: str
    credit_term_days: int
    collection_owner: str
    on_hold: bool
    hold_reasons: list[str]
    currencies: list[CurrencyStatement] = field(default_factory=list)


def bucket(days_overdue: int) -> str:
    if days_overdue <= 0:
        return "current"
    if days_overdue <= 30:
        return "1-30"
    if days_overdue <= 60:
        return "31-60"
    if days_overdue <= 90:
        return "61-90"
    return "90+"


def _q(amount: Decimal, currency: str) -> Decimal:
    return amount.quantize(Decimal(1).scaleb(-minor_units(currency)))


@dataclass
class Totals:
    """One currency's movements, summed for a statement: what the SQL view answers with a
    few aggregates, and what :func:`summarize` computes from a folded account's entries."""

    opening: Decimal = ZERO  # statement entries dated before the period
    period: list[Entry] = field(default_factory=list)  # statement entries in the period
    due_dates: dict[str, date] = field(default_factory=dict)  # of the period's invoices
    open_items: list[tuple[Item, Decimal, Decimal]] = field(default_factory=list)
    # (item, open amount at the statement date, original amount), open amount not zero


def summarize(entries: Iterable[Entry], items: Mapping[str, Item], period_from: date,
              period_to: date) -> dict[str, Totals]:
    """Per currency, from every entry of an account (those after ``period_to`` ignored)."""
    out: dict[str, Totals] = {}
    open_: dict[tuple[str, str], Decimal] = {}
    original: dict[str, Decimal] = {}
    for e in entries:
        if e.on > period_to:
            continue
        t = out.get(e.currency) or out.setdefault(e.currency, Totals())
        key = (e.currency, e.item)
        open_[key] = open_.get(key, ZERO) + e.amount
        if e.kind in ("INVOICE", "PAYMENT") and e.item == e.number:
            original[e.item] = abs(e.amount)
        if not e.ledger:
            continue
        if e.on < period_from:
            t.opening += e.amount
        else:
            t.period.append(e)
            if e.kind == "INVOICE" and e.item in items:
                t.due_dates[e.item] = items[e.item].due_date  # type: ignore[assignment]
    for (currency, number), amount in open_.items():
        if amount:
            item = items.get(number) or Item(number=number, kind="INVOICE",
                                             currency=currency, on=period_to)
            out[currency].open_items.append((item, amount, original.get(number, amount)))
    return out


def currency_statement(currency: str, totals: Totals, period_from: date, period_to: date,
                       limit: Decimal) -> CurrencyStatement:
    """One currency's statement from its summed movements."""
    sums = dict.fromkeys(LEDGER_KINDS, ZERO)
    q = lambda a: _q(a, currency)  # noqa: E731
    lines, running = [], totals.opening
    for e in sorted(totals.period, key=lambda e: (e.on, e.seq)):
        running += e.amount
        sums[e.kind] += e.amount
        lines.append(Line(on=e.on, kind=e.kind, number=e.number, reference=e.reference,
                          due_date=totals.due_dates.get(e.item) if e.kind == "INVOICE"
                          else None, debit=q(max(e.amount, ZERO)),
                          credit=q(max(-e.amount, ZERO)), balance=q(running)))
    aging = dict.fromkeys(BUCKETS, ZERO)
    unapplied = overdue = ZERO
    open_items = []
    for item, amount, original in totals.open_items:
        days = (period_to - item.due_date).days if item.due_date else 0
        where = bucket(days) if item.kind == "INVOICE" else "unapplied"
        if where == "unapplied":
            unapplied += amount
        else:
            aging[where] += amount
            overdue += amount if days > 0 else ZERO
        open_items.append(OpenItem(
            number=item.number, kind=item.kind, on=item.on, due_date=item.due_date,
            days_overdue=max(days, 0), bucket=where, amount=q(original),
            open_amount=q(amount), reference=item.reference, shipment_id=item.shipment_id,
            disputed=item.disputed))
    open_items.sort(key=lambda o: (o.kind != "INVOICE", o.due_date or o.on, o.number))
    closing = totals.opening + sum(sums.values(), ZERO)
    return CurrencyStatement(
        currency=currency, opening_balance=q(totals.opening), invoices=q(sums["INVOICE"]),
        credit_notes=q(-sums["CREDIT_NOTE"]), payments=q(-sums["PAYMENT"]),
        bounced_cheques=q(sums["BOUNCED_CHEQUE"]), closing_balance=q(closing),
        lines=lines, open_items=open_items, aging={k: q(v) for k, v in aging.items()},
        unapplied_cash=q(-unapplied), overdue=q(overdue), credit_limit=q(limit),
        exposure=q(closing), available_credit=q(limit - closing))


def build_statement(customer_id: str, terms: AccountTerms, hold: CreditHold | None,
                    totals: Mapping[str, Totals], period_from: date, period_to: date,
                    currency: str | None = None, as_of: datetime | None = None) -> Statement:
    """The statement for the period, one section per currency (or just ``currency``):
    every currency the account is invoiced in or has moved money in."""
    currencies = [currency] if currency else sorted(set(totals) | set(terms.currencies))
    return Statement(
        customer_id=customer_id, name=terms.name, statement_date=period_to,
        period_from=period_from, period_to=period_to, as_of=as_of,
        settlement_mode=str(terms.settlement_mode), credit_term_days=terms.credit_term_days,
        collection_owner=terms.collection_owner, on_hold=hold is not None,
        hold_reasons=list(hold.reasons) if hold else [],
        currencies=[currency_statement(c, totals.get(c) or Totals(), period_from, period_to,
                                       terms.limit(c)) for c in currencies])
