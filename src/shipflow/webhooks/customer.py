"""What a subscription scoped to one customer (``customer_id`` set) receives: the customer view
of each message, by the rules of :mod:`shipflow.projections.customer_view.rules`.

Every webhook type has a line in :data:`CUSTOMER_DATA` (a test holds the table to the
catalogue): how its ``data`` is reshaped for the customer, or :func:`hidden` when the type is
the forwarder's alone. The shape is the staff payload with fields taken out, never renamed, so
one parser reads both. A customer message has its own ``webhook-id`` (the message id names the
view), stable across retries and replays like any other.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shipflow.projections.customer_view import shipment as view
from shipflow.projections.customer_view.rules import (
    Customer,
    billed,
    order_field_visible,
    timer_visible,
)
from shipflow.webhooks import catalogue
from shipflow.webhooks.catalogue import jsonable

VIEW = "customer"

#: (data, event, aggregate, customer) → the customer's data, or None: not sent to it.
CustomerShape = Callable[[dict[str, Any], Any, Any, Customer], dict[str, Any] | None]


def same(data: dict[str, Any], e: Any, a: Any, c: Customer) -> dict[str, Any]:
    return data


def hidden(data: dict[str, Any], e: Any, a: Any, c: Customer) -> None:
    return None


def _drop(data: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in names}


def without(*names: str) -> CustomerShape:
    """The data less the desk's own fields (a reason, a note, who decided)."""
    return lambda data, e, a, c: _drop(data, names)


def _amendment(*names: str) -> CustomerShape:
    def shape(data: dict[str, Any], e: Any, s: Any, c: Customer) -> dict[str, Any]:
        found = next(a for a in s.amendments if a.number == e.number)
        return {**_drop(data, names),
                "changes": jsonable(view.changes(found.changes)),
                "charges": jsonable(view.charge_lines(c, found.charges))}

    return shape


def _charge(data: dict[str, Any], e: Any, s: Any, c: Customer) -> dict[str, Any] | None:
    line = next(ch.line for ch in s.charges if ch.number == e.number)
    if not billed(c, line):
        return None
    # the line's own reason prints on the bill; why it was adjusted or voided does not
    return {**data, "reason": line.reason}


def _breach(data: dict[str, Any], e: Any, s: Any, c: Customer) -> dict[str, Any] | None:
    return data if timer_visible(data["kind"]) else None


def _requested(data: dict[str, Any], e: Any, s: Any, c: Customer) -> dict[str, Any]:
    return {k: v for k, v in data.items() if order_field_visible(k)}


CUSTOMER_DATA: dict[str, CustomerShape] = {
    "shipment.booking_requested": _requested,
    "shipment.booking_reviewed": without("violations", "confirmations"),
    "shipment.booking_confirmed": same,
    "shipment.booking_rejected": without("reason"),
    "shipment.booking_declined": without("reason"),
    "shipment.amendment_requested": _amendment("reason", "notify_parties"),
    "shipment.amended": _amendment("reason", "notify_parties", "approved_by"),
    "shipment.amendment_rejected": without("reason"),
    "shipment.shipping_instructions_submitted": same,
    "shipment.milestone_recorded": same,
    "shipment.eta_changed": same,
    "shipment.etd_changed": same,
    "shipment.rolled_over": without("reason"),
    "shipment.exception_raised": without("description"),
    "shipment.exception_resolved": without("resolution"),
    "shipment.charge_added": _charge,
    "shipment.charge_adjusted": _charge,
    "shipment.charge_voided": _charge,
    "shipment.bl_draft_changed": same,
    "shipment.bl_draft_approved": same,  # approved_by is the customer's own contact
    "shipment.bl_issued": without("dating"),
    "shipment.sailing_outcome_recorded": without("reason"),
    "shipment.customer_notified": without("note"),
    "sla.breached": _breach,
    "shipment.cancelled": without("reason"),
    "shipment.closed": without("note"),
    "webhook.subscription_disabled": without("disabled_by"),
    "account.invoice_issued": same,
    "account.payment_applied": same,
    "account.credit_hold_changed": without("placed_by", "note", "released_by", "reason"),
}


def messages(source: catalogue.Source, event: Any, aggregate: Any, position: int,
             out: catalogue.Payloads, customer: Customer) -> list[catalogue.Message]:
    """The customer's messages of one event's payloads."""

    def shape(type_: str, data: dict[str, Any], e: Any, a: Any) -> dict[str, Any] | None:
        # a type without a line (its test fails first) is not sent: fail closed
        return CUSTOMER_DATA.get(type_, hidden)(data, e, a, customer)

    return catalogue.messages(source, event, aggregate, position, out, VIEW, shape)
