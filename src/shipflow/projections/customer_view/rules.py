"""The rules of the customer view, each stated once: which charge lines are the customer's,
which timers it was promised, which booking-order fields are the forwarder's own, and how
staff are named. The shipment, history, account and webhook views all apply these.

The one read here is :func:`customer_for` (the names the customer's account bills under);
everything else is a pure function.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from eventsourcing.application import AggregateNotFoundError

from shipflow.events.account.state import account_id
from shipflow.events.account.values import AccountTerms
from shipflow.events.shipment.charges import ChargeDirection, ChargeLine
from shipflow.projections.sla.config import KINDS

#: How every person and key of the forwarder appears to a customer: the organisation, never
#: a name (the booking's CS owner stays, as the customer's contact).
FORWARDER = "forwarder"
#: Facts shipflow records by itself (the SLA ticker, feeds of the system).
SYSTEM = "system"


def actor_label(role: str | None) -> str:
    """Who did it, as a customer sees it: the organisation, or the system."""
    return SYSTEM if role == "system" else FORWARDER


# --- charges ---------------------------------------------------------------------------------

#: The directions a customer is ever billed on: receivable from a bill-to party, collect (到付)
#: at destination. PAYABLE lines are the forwarder's costs (the carrier's buy rate, the
#: trucker's bill): with the receivable lines they give the margin, so they never show.
BILLED_DIRECTIONS = frozenset({ChargeDirection.RECEIVABLE, ChargeDirection.COLLECT})


def _norm(name: str) -> str:
    return " ".join(name.split()).casefold()


@dataclass(frozen=True)
class Customer:
    """Who the view is for: the customer id, and every name its account bills under (the
    id, each bill-to code and party name, compared as ``BillTo.matches`` does)."""

    id: str
    names: frozenset[str]

    @classmethod
    def of(cls, customer_id: str, terms: AccountTerms | None = None) -> Customer:
        names = {_norm(customer_id)}
        for b in terms.bill_to if terms is not None else ():
            names |= {_norm(b.code), _norm(b.party.name)}
        return cls(customer_id, frozenset(names))

    def bills(self, counterparty: str) -> bool:
        return _norm(counterparty) in self.names


def billed(customer: Customer, line: ChargeLine) -> bool:
    """A charge line the customer sees: receivable or collect, billed to one of its own
    names. A line billed to another party (a third-party payer, the consignee's collect
    charges, an agent) is that party's business."""
    return line.direction in BILLED_DIRECTIONS and customer.bills(line.counterparty)


def customer_for(store: Any, customer_id: str) -> Customer:
    """The customer with its account's bill-to names (only its id when it has no account)."""
    try:
        account = store.repository.get(account_id(customer_id))
    except AggregateNotFoundError:
        return Customer.of(customer_id)
    return Customer.of(customer_id, account.terms)


# --- timers ----------------------------------------------------------------------------------

#: Timers the customer was promised or must act on: the carrier's cut-offs are the customer's
#: own deadlines (SI, VGM, cargo at the CY), and free time ends when demurrage or detention
#: starts to be billed to it. Their breaches are facts about the customer's cargo.
CUSTOMER_TIMERS = frozenset({"si_cutoff", "vgm_cutoff", "cy_cutoff", "demurrage",
                             "detention"})
#: The forwarder's own service levels (domain.md §2.4, seeds [002]-[004]): how fast CS reviews
#: an order, confirms the booking and tells the customer of a delay, picks up, marks the
#: sailing outcome and resolves claims and exceptions. They measure the desks (KPIs); a
#: forwarder does not publish its own breaches.
INTERNAL_TIMERS = frozenset(KINDS) - CUSTOMER_TIMERS


def timer_visible(kind: str) -> bool:
    return kind in CUSTOMER_TIMERS


# --- the booking order -------------------------------------------------------------------------

#: Booking-order fields that are the forwarder's own data: the sales owner (a staff name), how
#: the business came in (direct / co-loader / nominated by our agent), the sold rates of the
#: sales hand-over (what sales sold it at; what the customer is billed is its charge lines) and
#: the route manager's internal approval. Everything else on the order is what the customer
#: booked, and shows (``booked_rates`` are the rates on its own booking order).
INTERNAL_ORDER_FIELDS = frozenset({"sales_owner", "business_source", "sold_rates",
                                   "route_manager_approval"})


def order_field_visible(path: str) -> bool:
    """A dotted path into the booking order (an amendment's change) the customer may see."""
    return path.split(".", 1)[0] not in INTERNAL_ORDER_FIELDS


# --- small views ---------------------------------------------------------------------------------


class Timer(Protocol):
    @property
    def kind(self) -> str: ...


T = TypeVar("T", bound=Timer)


def timers(found: Iterable[T]) -> list[T]:
    """The SLA timers the customer was promised, of those found."""
    return [t for t in found if timer_visible(t.kind)]


def bl_version(row: dict[str, Any]) -> dict[str, Any]:
    """A B/L draft version: the document is the customer's; who recorded the change is a
    member of staff (every version is caused by a desk, a feed or the customer's approval
    as a desk recorded it)."""
    return {**row, "actor": FORWARDER}
