"""Topics: how stored events and snapshots name their classes, today's and older ones.

The ``eventsourcing`` library stores each event's class as a *topic*, ``module:QualName``
(``shipflow.events.shipment.events:BookingRequested``), and a snapshot names its aggregate's
class the same way. Moving a class changes the topic it is written under, but rows written
before the move keep the old one forever (events are immutable). So:

- every module that held stored classes before is listed in :data:`MOVED` with the module
  that holds them now, and :func:`register_moved_topics` registers each old topic for its
  class (``eventsourcing.utils.register_topic``) before anything is decoded;
- followers of the log (projections, webhooks) match a stream by :class:`Stream`, which
  accepts the current module and every older one.

A test reads a fixture of rows written before the move (``tests/fixtures``) on SQLite and
PostgreSQL. Never remove an entry here: old rows name it.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from types import ModuleType

from eventsourcing.utils import register_topic

from shipflow.events.account import aggregate as account_aggregate
from shipflow.events.account import events as account_events
from shipflow.events.shipment import aggregate as shipment_aggregate
from shipflow.events.shipment import events as shipment_events


@dataclass(frozen=True)
class Stream:
    """The events of one kind of aggregate: the module that defines them and the module
    paths they were stored under before."""

    module: str
    legacy: tuple[str, ...] = ()

    @property
    def prefixes(self) -> tuple[str, ...]:
        return tuple(f"{m}:" for m in (self.module, *self.legacy))

    def owns(self, topic: str) -> bool:
        return topic.startswith(self.prefixes)


SHIPMENT = Stream(shipment_events.__name__, legacy=("shipflow.events.shipment_events",))
ACCOUNT = Stream(account_events.__name__, legacy=("shipflow.accounts.events",))

#: Old module path → the module its stored classes live in now (layout of 2026-12).
MOVED: dict[str, ModuleType] = {
    "shipflow.events.shipment_events": shipment_events,
    "shipflow.events.shipment": shipment_aggregate,
    "shipflow.accounts.events": account_events,
    "shipflow.accounts.account": account_aggregate,
}


def register_moved_topics(moved: dict[str, ModuleType] | None = None) -> None:
    """Register ``old_module:Name`` for every class defined in (or re-exported by) the
    module that replaced ``old_module``, nested classes included. Idempotent."""
    for old, module in (MOVED if moved is None else moved).items():
        for name, cls in vars(module).items():
            if inspect.isclass(cls) and cls.__module__.startswith("shipflow."):
                register_topic(f"{old}:{name}", cls)
