"""What a projection is: a pure fold over one shipment's events, and a writer for its rows.

``evolve(view, event, shipment)`` returns the view after ``event``. ``shipment`` is the
Shipment aggregate folded over the same events by the aggregate's own ``apply`` functions,
so a view only says what it adds (a B/L document, timers, a search row) and the rules of
how an event changes a shipment live in one place. Views are immutable values: evolve
returns a new one (or the same object when nothing changed).

Because folds are pure, the same code answers historical questions: :func:`fold` over a
shipment's events up to a version or time gives the view as it was then.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Generic, TypeVar
from uuid import UUID

from sqlalchemy import Connection

from shipflow.events.shipment import Shipment
from shipflow.projections.tables import SlotTables

V = TypeVar("V")

#: Topic prefix of the events a shipment projection folds.
SHIPMENT_TOPIC = "shipflow.events.shipment_events:"


@dataclass(frozen=True)
class Change(Generic[V]):
    """A view before and after one batch: what the writer must make the rows say."""

    before: V | None
    after: V | None


class Projection(ABC, Generic[V]):
    #: Name used for tracking, slots and the CLI (``shipflow projections rebuild NAME``).
    name: ClassVar[str]
    #: True when the view is a function of the shipment's state after an event alone (not
    #: of the previous view or of which event it was): the runner then evolves it once per
    #: shipment per batch, with the last event, instead of after every event.
    state_only: ClassVar[bool] = False
    #: Topic prefixes of the events this view folds (an aggregate's events module).
    topics: ClassVar[tuple[str, ...]] = (SHIPMENT_TOPIC,)

    def folds(self, topic: str) -> bool:
        return topic.startswith(self.topics)

    @abstractmethod
    def evolve(self, view: V | None, event: Any, shipment: Shipment) -> V | None:
        """The view after ``event``; ``shipment`` is the state after the same event (for a
        view of another aggregate's events, that aggregate)."""

    @abstractmethod
    def write(self, conn: Connection, tables: SlotTables,
              changes: Mapping[UUID, Change[V]]) -> None:
        """Make the slot's rows say ``change.after`` for each aggregate (None: no row);
        ``change.before`` None means there were no rows."""

    @abstractmethod
    def clear(self, conn: Connection, tables: SlotTables) -> None:
        """Empty this projection's tables in one slot (before a rebuild fills it)."""


def fold(projection: Projection[V], events: Iterable[Any],
         until: datetime | None = None) -> tuple[Any, V | None]:
    """Fold an aggregate's events (optionally only those recorded up to ``until``)."""
    shipment: Any = None
    view: V | None = None
    for event in events:
        if until is not None and event.timestamp > until:
            break
        shipment = event.mutate(shipment)
        view = projection.evolve(view, event, shipment)
    return shipment, view
