"""The customer view: what a customer key (and a customer-scoped webhook) sees, defined once.

Staff see the forwarder's view; a customer sees its own shipments, accounts and documents
without the forwarder's business: no payable lines or costs, no internal timers or breaches,
no staff names but its CS contact, no desk notes. Pure functions of the aggregates' state and
events, in one place, so no route filters by itself:

- :mod:`.rules` — which charge lines are the customer's, which timers it was promised, which
  booking-order fields are internal, how staff are named;
- :mod:`.shipment` — the shipment now, as of a time, at a version;
- :mod:`.history` — the shipment's events (types and payload fields);
- :mod:`.account` — the account, its events and its statement.

The webhook payloads of a customer-scoped subscription follow the same rules
(:mod:`shipflow.webhooks.customer`). ``docs/api-access.md`` says field by field what shows.
"""

from shipflow.projections.customer_view.account import (
    CustomerAccountView,
    account_history,
    account_view,
    statement,
)
from shipflow.projections.customer_view.history import CustomerEvent, shipment_history
from shipflow.projections.customer_view.rules import (
    CUSTOMER_TIMERS,
    FORWARDER,
    Customer,
    actor_label,
    billed,
    bl_version,
    customer_for,
    timer_visible,
    timers,
)
from shipflow.projections.customer_view.shipment import CustomerShipment, shipment_view

__all__ = ["CUSTOMER_TIMERS", "FORWARDER", "Customer", "CustomerAccountView", "CustomerEvent",
           "CustomerShipment", "account_history", "account_view", "actor_label", "billed",
           "bl_version", "customer_for", "shipment_history", "shipment_view", "statement",
           "timer_visible", "timers"]
