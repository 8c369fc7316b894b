"""What a projection is: a pure fold over one aggregate's events, and a writer for its rows.

A view owns its tables (defined in its own module, once per slot with ``slots.by_slot``) and
is told which slot to write; it declares the stream it folds from :mod:`shipflow.events.topics`.

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
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Generic, TypeVar
from uuid import UUID

from sqlalchemy import Connection

from shipflow.events import topics
from shipflow.events.shipment.aggregate import Shipment

V = TypeVar("V")


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
    #: The stream of events this view folds (its current and older topics).
    stream: ClassVar[topics.Stream] = topics.SHIPMENT

    def folds(self, topic: str) -> bool:
        return self.stream.owns(topic)

    @abstractmethod
    def evolve(self, view: V | None, event: Any, shipment: Shipment) -> V | None:
        """The view after ``event``; ``shipment`` is the state after the same event (for a
        view of another aggregate's events, that aggregate)."""

    @abstractmethod
    def write(self, conn: Connection, slot: str, changes: Mapping[UUID, Change[V]]) -> None:
        """Make the rows of the view's tables in ``slot`` say ``change.after`` for each
        aggregate (None: no row); ``change.before`` None means there were no rows."""

    @abstractmethod
    def clear(self, conn: Connection, slot: str) -> None:
        """Empty this projection's tables in one slot (before a rebuild fills it)."""


def fold(projection: Projection[V], events: Iterable[Any], until: datetime | None = None,
         skipped: Collection[int] = ()) -> tuple[Any, V | None]:
    """Fold an aggregate's events (optionally only those recorded up to ``until``).

    ``skipped``: versions of the aggregate an operator told this view to do without (see
    :mod:`~shipflow.projections.engine.failures`); the aggregate itself still has them."""
    shipment: Any = None
    view: V | None = None
    for event in events:
        if until is not None and event.timestamp > until:
            break
        shipment = event.mutate(shipment)
        if event.originator_version not in skipped:
            view = projection.evolve(view, event, shipment)
    return shipment, view
