"""A shipment's history as its customer sees it: :func:`shipment_history`, a pure fold over the
shipment's events.

Every event type has a line in :data:`PAYLOADS` (a test holds the table to the event
classes): the payload the customer sees, or ``None`` for a fact that is the forwarder's
alone. Metadata says when, from where (api, tms, carrier feed, system) and who as an
organisation (``forwarder`` / ``system``), never a person, role or correlation id.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic_core import to_jsonable_python

from shipflow.events.shipment.charges import ChargeLine
from shipflow.projections.customer_view import shipment as view
from shipflow.projections.customer_view.rules import Customer, actor_label, billed, timer_visible


class CustomerEvent(view.View):
    type: str
    version: int
    recorded_at: datetime
    occurred_at: datetime
    actor: str  # forwarder or system
    source: str
    payload: dict[str, Any]


@dataclass
class Seen:
    """What the fold remembers: the charges that are the customer's (their direction and
    bill-to never change after ``ChargeAdded``, so it decides once)."""

    customer: Customer
    charges: set[int] = field(default_factory=set)

    def numbers(self, numbers: Iterable[int]) -> list[int]:
        return [n for n in numbers if n in self.charges]


Payload = Callable[[Any, Seen], dict[str, Any] | None]


def _none(e: Any, seen: Seen) -> None:
    return None


def _empty(e: Any, seen: Seen) -> dict[str, Any]:
    """The fact shows (rejected, cancelled, closed …); the desk's reason or note does not:
    the customer hears it from its CS contact."""
    return {}


def _fields(*names: str) -> Payload:
    return lambda e, seen: {n: getattr(e, n) for n in names}


def _charge_added(e: Any, seen: Seen) -> dict[str, Any] | None:
    if not billed(seen.customer, e.line):
        return None
    seen.charges.add(e.number)
    return {"number": e.number, "line": e.line, "amendment_number": e.amendment_number}


def _charge_changed(e: Any, seen: Seen) -> dict[str, Any] | None:
    if e.number not in seen.charges:
        return None
    line: ChargeLine | None = getattr(e, "line", None)
    return {"number": e.number} | ({"line": line} if line is not None else {})


def _invoiced(e: Any, seen: Seen) -> dict[str, Any] | None:
    numbers = seen.numbers(e.charge_numbers)
    if e.customer_id != seen.customer.id or not numbers:
        return None
    return {"invoice_number": e.invoice_number, "customer_id": e.customer_id,
            "charge_numbers": numbers}


def _released(e: Any, seen: Seen) -> dict[str, Any] | None:
    numbers = seen.numbers(e.charge_numbers)
    if not numbers:
        return None
    return {"invoice_number": e.invoice_number, "credit_note_number": e.credit_note_number,
            "charge_numbers": numbers}


def _amendment_requested(e: Any, seen: Seen) -> dict[str, Any]:
    return {"number": e.number, "changes": view.changes(e.changes),
            "customer_confirmation_ref": e.customer_confirmation_ref,
            "charges": view.charge_lines(seen.customer, e.charges)}


def _notified(e: Any, seen: Seen) -> dict[str, Any]:
    n = e.notice
    return {"notice": {"kind": n.kind, "channel": n.channel, "reference": n.reference}}


def _breached(e: Any, seen: Seen) -> dict[str, Any] | None:
    if not timer_visible(e.kind):
        return None
    return {"timer": e.timer, "kind": e.kind, "started_at": e.started_at, "due_at": e.due_at}


PAYLOADS: dict[str, Payload] = {
    "BookingRequested": lambda e, seen: {"order": view.order(e.order)},
    # the outcome shows (the status says it too); violations and who confirmed a rule
    # (the route manager, sales) are the desk's review
    "BookingReviewed": _fields("outcome"),
    "CarrierConfirmed": _fields("confirmation"),
    "CarrierRejected": _empty,
    "BookingDeclined": _empty,
    "AmendmentRequested": _amendment_requested,
    "AmendmentApproved": lambda e, seen: {"number": e.number, "order": view.order(e.order)},
    "AmendmentRejected": _fields("number"),
    "ShippingInstructionsSubmitted": _fields("instructions", "revision"),
    "MilestoneRecorded": _fields("milestone", "superseded"),
    "ScheduleChanged": _fields("previous_etd", "etd", "previous_eta", "eta", "cause"),
    "RolledOver": _fields("leg", "from_vessel_voyage", "to_vessel_voyage", "new_etd",
                          "new_eta"),
    "ExceptionRaised": lambda e, seen: {"number": e.number, "kind": e.exception.kind,
                                        "location": e.exception.location},
    "ExceptionResolved": _fields("number"),
    "ChargeAdded": _charge_added,
    "ChargeAdjusted": _charge_changed,
    "ChargeVoided": _charge_changed,
    "ChargesInvoiced": _invoiced,
    "ChargesReleased": _released,
    "BlDraftApproved": _fields("approval", "draft_version"),
    # the manager's approval of a back-dated / advance B/L is internal compliance
    "BlDatingApproved": _none,
    "BlIssued": _fields("issue"),
    "SailingOutcomeRecorded": _fields("outcome"),
    "CustomerNotified": _notified,
    "SlaBreached": _breached,
    "ShipmentCancelled": _empty,
    "ShipmentClosed": _empty,
}


def shipment_history(events: Iterable[Any], customer: Customer) -> list[CustomerEvent]:
    """The events the customer sees, in order, with their customer payloads."""
    seen = Seen(customer)
    out = []
    for e in events:
        # an event type without a line (the table's test fails first) shows nothing
        payload = PAYLOADS.get(type(e).__name__, _none)(e, seen)
        if payload is None:
            continue
        meta = e.meta
        out.append(CustomerEvent(
            type=type(e).__name__, version=e.originator_version, recorded_at=e.timestamp,
            occurred_at=meta.occurred_at, actor=actor_label(meta.role),
            source=str(meta.source), payload=to_jsonable_python(payload)))
    return out
