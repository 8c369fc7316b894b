"""The statement view's rows: writing an account's changes, reading its statement back, and
the AR work queue across accounts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

from pydantic_core import to_jsonable_python
from sqlalchemy import Connection, and_, func, or_, select
from sqlalchemy.orm import aliased

from shipflow.database import upsert
from shipflow.events.account.values import AccountTerms, CreditHold
from shipflow.events.common import minor_units
from shipflow.projections.statements.statement import (
    LEDGER_KINDS,
    Entry,
    Item,
    Statement,
    Totals,
    build_statement,
)
from shipflow.projections.statements.tables import AccountTables

if TYPE_CHECKING:
    from shipflow.projections.statements.projection import StatementView


def _json(obj: Any) -> Any:
    return to_jsonable_python(obj) if obj is not None else None


def write_account(conn: Connection, t: AccountTables, before: StatementView | None,
                  after: StatementView) -> None:
    """Make the rows say ``after`` (``before``: what they said, or None when nothing)."""
    aid = str(after.account_id)
    terms = after.terms
    upsert(conn, t.accounts, ("account_id",), [{
        "account_id": aid, "customer_id": after.customer_id, "name": terms.name,
        "settlement_mode": str(terms.settlement_mode),
        "credit_term_days": terms.credit_term_days, "collection_owner": terms.collection_owner,
        "on_hold": after.hold is not None, "hold": _json(after.hold),
        "release": _json(after.release), "terms": _json(terms), "version": after.version,
        "updated_at": after.updated_at}])
    new = after.entries.since(before.entry_count if before else 0) if after.entries else []
    if new:
        conn.execute(t.entries.insert(), [{
            "account_id": aid, "seq": e.seq, "currency": e.currency, "entry_date": e.on,
            "kind": e.kind, "number": e.number, "item": e.item, "amount": e.amount,
            "reference": e.reference[:500]} for e in new])
    docs = []
    for n in after.invoices.changed(before.invoices if before else None):
        i = after.invoices[n]
        docs.append(_doc(aid, after.customer_id, "INVOICE", n, i.currency, i.issue_date,
                         i.due_date, i.total, i.open_amount,
                         "REPLACED" if i.replaced_by else "OPEN" if i.open_amount > 0
                         else "SETTLED", i.shipment_id, i.reference, i.dispute is not None,
                         i.dunning_level, None, i))
    for n in after.payments.changed(before.payments if before else None):
        p = after.payments[n]
        docs.append(_doc(aid, after.customer_id, "PAYMENT", n, p.amount.currency,
                         p.value_date, None, p.amount.amount, p.unapplied, str(p.status),
                         None, p.bank_reference, False, None, p.duplicate_of, p))
    for n in after.credit_notes.changed(before.credit_notes if before else None):
        c = after.credit_notes[n]
        docs.append(_doc(aid, after.customer_id, "CREDIT_NOTE", n, c.currency, c.issue_date,
                         None, c.total, Decimal(0), "ISSUED", c.shipment_id,
                         c.invoice_number, False, None, None, c))
    for n in after.notices.changed(before.notices if before else None):
        d = after.notices[n]
        docs.append(_doc(aid, after.customer_id, "DUNNING", n, None, d.issued_on, None,
                         None, None, str(d.level), d.shipment_id, "", False, d.level, None, d))
    upsert(conn, t.documents, ("account_id", "number"), docs)
    upsert(conn, t.commitments, ("account_id", "number"), [{
        "account_id": aid, "number": c.number, "customer_id": after.customer_id,
        "currency": c.amount.currency, "amount": c.amount.amount,
        "promised_date": c.promised_date, "outcome": str(c.outcome) if c.outcome else None,
        "outcome_on": c.outcome_on, "document": _json(c)}
        for c in (after.commitments[n] for n in after.commitments.changed(
            before.commitments if before else None))])


def _doc(aid: str, customer_id: str, kind: str, number: str, currency: str | None,
         doc_date: date, due_date: date | None, amount: Decimal | None,
         open_amount: Decimal | None, status: str, shipment_id: UUID | None, reference: str,
         disputed: bool, dunning_level: Any, duplicate_of: str | None, doc: Any
         ) -> dict[str, Any]:
    return {"account_id": aid, "number": number, "customer_id": customer_id, "kind": kind,
            "currency": currency, "doc_date": doc_date, "due_date": due_date,
            "amount": amount, "open_amount": open_amount, "status": status,
            "shipment_id": str(shipment_id) if shipment_id else None,
            "reference": reference[:500], "disputed": disputed,
            "dunning_level": str(dunning_level) if dunning_level else None,
            "duplicate_of": duplicate_of, "document": _json(doc)}


# --- reads ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountRow:
    account_id: str
    customer_id: str
    version: int
    terms: AccountTerms
    hold: CreditHold | None
    row: dict[str, Any]


def account_row(conn: Connection, t: AccountTables, customer_id: str) -> AccountRow | None:
    r = conn.execute(select(t.accounts).where(t.accounts.c.customer_id == customer_id)).first()
    if r is None:
        return None
    m = dict(r._mapping)
    return AccountRow(m["account_id"], m["customer_id"], m["version"],
                      AccountTerms.model_validate(m["terms"]),
                      CreditHold.model_validate(m["hold"]) if m["hold"] else None, m)


def statement(conn: Connection, t: AccountTables, account: AccountRow, period_from: date,
              period_to: date, currency: str | None = None) -> Statement:
    """The statement from the rows, summed in SQL (opening balances, open amounts per
    item); the same statement function as ``?as_of=`` folds then shapes it."""
    e, d = t.entries.c, t.documents.c
    mine = [e.account_id == account.account_id, *([e.currency == currency] if currency else [])]
    ledger = e.kind.in_(LEDGER_KINDS)
    totals: dict[str, Totals] = {}

    def of(cur: str) -> Totals:
        return totals.get(cur) or totals.setdefault(cur, Totals())

    for cur, amount in conn.execute(select(e.currency, func.sum(e.amount)).where(
            *mine, ledger, e.entry_date < period_from).group_by(e.currency)):
        of(cur).opening = Decimal(amount)
    due = aliased(t.documents)
    for r in conn.execute(
            select(e.seq, e.currency, e.entry_date, e.kind, e.number, e.item, e.amount,
                   e.reference, due.c.due_date)
            .outerjoin(due, and_(due.c.account_id == e.account_id, due.c.number == e.item,
                                 e.kind == "INVOICE"))
            .where(*mine, ledger, e.entry_date >= period_from, e.entry_date <= period_to)):
        t_ = of(r.currency)
        t_.period.append(Entry(r.seq, r.currency, r.entry_date, r.kind, r.number, r.item,
                               r.amount, r.reference))
        if r.due_date is not None:
            t_.due_dates[r.item] = r.due_date
    sums = (select(e.item, e.currency, func.sum(e.amount).label("open"))
            .where(*mine, e.entry_date <= period_to).group_by(e.item, e.currency)
            .having(func.sum(e.amount) != 0).subquery())
    for o in conn.execute(
            select(sums.c.item, sums.c.currency, sums.c.open, d.kind, d.doc_date, d.due_date,
                   d.shipment_id, d.reference, d.disputed, d.amount)
            .join(t.documents, and_(d.account_id == account.account_id,
                                    d.number == sums.c.item))):
        item = Item(number=o.item, kind=o.kind, currency=o.currency, on=o.doc_date,
                    due_date=o.due_date,
                    shipment_id=UUID(o.shipment_id) if o.shipment_id else None,
                    reference=o.reference, disputed=o.disputed)
        of(o.currency).open_items.append((item, Decimal(o.open), o.amount))
    return build_statement(account.customer_id, account.terms, account.hold, totals,
                           period_from, period_to, currency)


def documents(conn: Connection, t: AccountTables, customer_id: str,
              kind: str | None = None) -> list[dict[str, Any]]:
    d = t.documents.c
    q = select(t.documents).where(d.customer_id == customer_id)
    if kind:
        q = q.where(d.kind == kind)
    return [dict(r._mapping) for r in conn.execute(q.order_by(d.doc_date, d.number))]


def work_queue(conn: Connection, t: AccountTables, on: date, owner: str | None = None,
               limit: int = 200) -> dict[str, list[dict[str, Any]]]:
    """Overdue accounts (per currency, largest amount then oldest first), broken or lapsed
    commitments, possible duplicate payments, accounts on hold."""
    a, d, c = t.accounts.c, t.documents.c, t.commitments.c
    owned = [a.collection_owner == owner] if owner else []
    oldest = func.min(d.due_date)
    overdue = conn.execute(
        select(d.customer_id, a.name, a.collection_owner, a.on_hold, d.currency,
               func.sum(d.open_amount).label("overdue"), oldest.label("oldest_due"),
               func.count().label("items"))
        .join(t.accounts, a.account_id == d.account_id)
        .where(d.kind == "INVOICE", d.open_amount > 0, d.due_date < on, *owned)
        .group_by(d.customer_id, a.name, a.collection_owner, a.on_hold, d.currency)
        .order_by(d.currency, func.sum(d.open_amount).desc(), oldest, d.customer_id)
        .limit(limit))
    rows = []
    for r in overdue:
        m = dict(r._mapping)
        m["overdue"] = Decimal(m["overdue"]).quantize(
            Decimal(1).scaleb(-minor_units(m["currency"])))
        m["days_overdue"] = (on - m["oldest_due"]).days
        rows.append(m)
    broken = conn.execute(
        select(t.commitments, a.name, a.collection_owner)
        .join(t.accounts, a.account_id == c.account_id)
        .where(or_(c.outcome == "BROKEN", and_(c.outcome.is_(None), c.promised_date < on)),
               *owned).order_by(c.promised_date).limit(limit))
    duplicates = conn.execute(
        select(t.documents, a.name, a.collection_owner)
        .join(t.accounts, a.account_id == d.account_id)
        .where(d.kind == "PAYMENT", d.status == "FLAGGED", *owned)
        .order_by(d.doc_date, d.number).limit(limit))
    holds = conn.execute(select(t.accounts).where(a.on_hold.is_(True), *owned)
                         .order_by(a.customer_id).limit(limit))
    return {"overdue": rows,
            "broken_commitments": [dict(r._mapping) for r in broken],
            "possible_duplicates": [dict(r._mapping) for r in duplicates],
            "holds": [dict(r._mapping) for r in holds]}
