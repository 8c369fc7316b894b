"""Customer-account events (accounts receivable) as webhook types: the table for
:class:`~shipflow.events.account.aggregate.CustomerAccount`. Picked up by ``catalogue`` when the
accounts package is there."""

from __future__ import annotations

from typing import Any

from shipflow.events import topics
from shipflow.webhooks.catalogue import EventType, Source, jsonable


def summary(a: Any) -> dict[str, Any]:
    """What every account message carries as ``data.account``: where the account stands."""
    return {"customer_id": a.customer_id, "on_hold": a.hold is not None,
            "balances": {c: jsonable(v) for c, v in sorted(a.balances.items())}}


def _invoice(e: Any, a: Any) -> dict[str, Any]:
    inv = e.invoice
    return {"invoice_number": inv.number, "shipment_id": str(inv.shipment_id),
            "bill_to": inv.bill_to, "currency": inv.currency, "total": jsonable(inv.total),
            "issue_date": jsonable(inv.issue_date), "due_date": jsonable(inv.due_date),
            "reference": inv.reference, "replaces": inv.replaces,
            "lines": jsonable(inv.lines)}


def _applied(e: Any, a: Any) -> dict[str, Any]:
    p = a.payments[e.number]
    return {"payment_number": e.number, "on": jsonable(e.on),
            "applications": jsonable(e.applications), "amount": jsonable(p.amount),
            "payer": p.payer, "bank_reference": p.bank_reference,
            "value_date": jsonable(p.value_date)}


def _hold(e: Any, a: Any) -> dict[str, Any]:
    h = e.hold
    return {"on_hold": True, "placed_on": jsonable(h.placed_on), "reasons": list(h.reasons),
            "placed_by": h.placed_by, "automatic": h.automatic, "note": h.note}


def _release(e: Any, a: Any) -> dict[str, Any]:
    r = e.release
    return {"on_hold": False, "released_on": jsonable(r.released_on),
            "released_by": r.released_by, "reason": r.reason}


SOURCE = Source(
    name="account", stream=topics.ACCOUNT, subject_field="account_id",
    table={"InvoiceIssued": ("account.invoice_issued", _invoice),
           "PaymentApplied": ("account.payment_applied", _applied),
           "CreditHoldPlaced": ("account.credit_hold_changed", _hold),
           "CreditHoldReleased": ("account.credit_hold_changed", _release)},
    customer=lambda a: a.customer_id,
    types=(EventType("account.invoice_issued", "an invoice (or a re-bill) was issued", "account"),
           EventType("account.payment_applied", "a payment was applied to invoices", "account"),
           EventType("account.credit_hold_changed", "the account was put on credit hold, or "
                     "released from it (`data.on_hold`)", "account")),
    summary=summary, summary_key="account")
