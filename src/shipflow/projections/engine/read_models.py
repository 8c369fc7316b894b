"""The read side as one object: its database, its projections, their status (running, or
stopped on an event), retries and skips of a stopped view, and blue/green rebuilds."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine

from shipflow.config import Settings
from shipflow.database import make_engine
from shipflow.projections.engine import failures, slots
from shipflow.projections.engine.base import Projection
from shipflow.projections.engine.failures import (
    NotTheFailingEvent,
    Skip,
    ViewFailure,
    ViewNotFailed,
)
from shipflow.projections.engine.runner import Runner, ViewState
from shipflow.projections.registry import default_projections
from shipflow.store import Shipflow

RUNNING, FAILED = "running", "failed"


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ViewStatus:
    name: str
    active_slot: str
    position: int
    head: int
    #: The event the live slot stopped on, while it has not got past it.
    failure: ViewFailure | None = None
    #: Every event skipped for this view (its dead letters), in log order.
    skipped: tuple[Skip, ...] = ()

    @property
    def lag(self) -> int:
        return max(self.head - self.position, 0)

    @property
    def state(self) -> str:
        return FAILED if self.failure is not None else RUNNING


class ViewStopped(Exception):
    """A reader waits for a position that a view it reads has stopped before."""

    def __init__(self, name: str, view: ViewState, wanted: int) -> None:
        assert view.failure is not None
        super().__init__(
            f"view {name} stopped at position {view.position}: it cannot apply the event at "
            f"position {view.failure.position} ({view.failure.event_type}), so it does not "
            f"include position {wanted}; an operator must retry or skip that event "
            "(GET /projections)")
        self.name = name
        self.view = view


@dataclass(frozen=True)
class Rebuilt:
    """What a rebuild did: the slot each view was built in, the events it read, the recorded
    skips it honoured, and the views that stopped on an event (left on their old slot)."""

    targets: dict[str, str]
    consumed: int
    skipped: dict[str, list[Skip]]
    stopped: dict[str, ViewFailure]

    @property
    def switched(self) -> dict[str, str]:
        return {n: s for n, s in self.targets.items() if n not in self.stopped}

    def __iter__(self) -> Iterator[Any]:
        """``targets, consumed = rebuild(…)``, as a rebuild answered before it had more."""
        return iter((self.targets, self.consumed))


class ReadModels:
    def __init__(self, settings: Settings, store: Shipflow,
                 projections: Iterable[Projection[Any]] | None = None,
                 engine: Engine | None = None,
                 clock: Callable[[], datetime] = _now) -> None:
        self.settings = settings
        self.store = store
        self.engine = engine or make_engine(settings)
        self.clock = clock
        if projections is None:
            projections = default_projections(settings)
        self.projections = {p.name: p for p in projections}

    def get(self, name: str) -> Projection[Any]:
        try:
            return self.projections[name]
        except KeyError:
            known = ", ".join(self.projections)
            raise KeyError(f"no projection {name!r}; known: {known}") from None

    def runner(self, names: Iterable[str] | None = None, **kwargs: Any) -> Runner:
        chosen = [self.get(n) for n in names] if names else list(self.projections.values())
        kwargs.setdefault("clock", self.clock)
        return Runner(self.store, self.engine, chosen, **kwargs)

    # --- where each view stands --------------------------------------------------------

    def _views(self, conn: Connection, names: Iterable[str]) -> dict[str, ViewState]:
        """Each view's live slot, position and the failure it stopped on (read only)."""
        result = {}
        for name in names:
            slot = slots.active_slot(conn, name)
            result[name] = ViewState(slot, slots.position(conn, name, slot))
        for f in failures.open_failures(conn, list(result)):
            view = result[f.name]
            if f.slot == view.slot and f.position > view.position and view.failure is None:
                result[f.name] = ViewState(view.slot, view.position, f)
        return result

    def failed(self) -> dict[str, ViewFailure]:
        """The views stopped on an event in their live slot (cheap: for ``/health``)."""
        with self.engine.connect() as conn:
            return {n: v.failure for n, v in self._views(conn, self.projections).items()
                    if v.failure is not None}

    def status(self, names: Iterable[str] | None = None) -> list[ViewStatus]:
        chosen = list(names) if names is not None else list(self.projections)
        head = self.store.recorder.max_notification_id() or 0
        with self.engine.begin() as conn:
            for name in chosen:
                slots.ensure_registered(conn, name)
            views = self._views(conn, chosen)
            skipped = failures.skips(conn, chosen)
        return [ViewStatus(name, v.slot, v.position, head, v.failure,
                           tuple(skipped.get(name, ()))) for name, v in views.items()]

    def view_status(self, name: str) -> ViewStatus:
        self.get(name)
        [status] = self.status([name])
        return status

    def wait_for(self, position: int, names: Iterable[str], timeout_s: float) -> bool:
        """Block until every named view has applied the log up to ``position``; raise
        :class:`ViewStopped` at once if one has stopped on an event before it."""
        deadline = time.monotonic() + timeout_s
        wanted = list(names)
        while True:
            with self.engine.connect() as conn:
                behind = {n: v for n, v in self._views(conn, wanted).items()
                          if v.position < position}
            if not behind:
                return True
            for name, view in behind.items():
                if view.failure is not None:
                    raise ViewStopped(name, view, position)
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)

    # --- an operator's way out of a failure --------------------------------------------

    def retry(self, name: str, by: str) -> ViewStatus:
        """Try the event the view stopped on again (after a fix): one batch of this view
        alone, here and now; the live runners follow on. Fails again: one more attempt
        recorded, and the view stays stopped."""
        projection = self.get(name)
        with self.engine.begin() as conn:
            view = self._views(conn, [name])[name]
            if view.failure is None:
                raise ViewNotFailed(f"view {name} has not stopped on an event: nothing to "
                                    "retry")
            failures.request_retry(conn, view.failure, by, self.clock())
        self.runner([projection.name]).run_batch()
        return self.view_status(name)

    def skip(self, name: str, position: int, reason: str, by: str) -> ViewStatus:
        """Move the view past the one event it stopped on, without applying it, and record
        who decided it and why (the dead letter). Only the recorded failing event can be
        skipped; a rebuild of the view leaves it out too."""
        self.get(name)
        now = self.clock()
        with self.engine.begin() as conn:
            live_slot = slots.active_slot(conn, name)
            stuck = [f for f in failures.open_failures(conn, [name])
                     if slots.position(conn, name, f.slot, for_update=True) == f.stopped_at]
            hits = [f for f in stuck if f.position == position]
            if not hits:
                shown = sorted(stuck, key=lambda f: f.slot != live_slot)
                if not shown:
                    raise ViewNotFailed(f"view {name} has not stopped on an event: nothing "
                                        "to skip")
                raise NotTheFailingEvent(name, position, shown[0].position)
            failures.add_skip(conn, hits[0], reason, by, now)
            for f in hits:
                slots.advance(conn, name, f.slot, f.stopped_at, f.position)
                failures.resolve(conn, name, f.slot, f.position, failures.SKIPPED, by, now)
        return self.view_status(name)

    # --- blue/green --------------------------------------------------------------------

    def rebuild(self, names: str | Iterable[str], progress: Callable[[int], None] | None = None,
                batch_size: int = 2_000) -> Rebuilt:
        """Build fresh copies in the inactive slots, then make them live (blue/green).

        Several views are rebuilt in one pass over the log: one read, one decode and one
        shipment fold per event, whatever the number of views. Events skipped for a view
        stay skipped; a view that stops on an event is not switched (its live slot stays)."""
        chosen = [self.get(n) for n in ([names] if isinstance(names, str) else names)]
        now = self.clock()
        with self.engine.begin() as conn:
            targets = {}
            for p in chosen:
                slots.ensure_registered(conn, p.name)
                targets[p.name] = slots.other_slot(slots.active_slot(conn, p.name))
                p.clear(conn, targets[p.name])
                slots.reset(conn, p.name, targets[p.name])
                failures.resolve(conn, p.name, targets[p.name], None, failures.REBUILT,
                                 "rebuild", now)  # the slot starts over
            skipped = failures.skips(conn, targets)
        runner = self.runner(targets, target_slots=targets, batch_size=batch_size)
        consumed = runner.catch_up(progress)
        stopped = {n: s.failure for n, s in runner.states().items() if s.failure is not None}
        with self.engine.begin() as conn:
            for name, slot in targets.items():
                if name in stopped:
                    continue
                replaced = slots.active_slot(conn, name)
                slots.switch(conn, name, slot)
                failures.resolve(conn, name, replaced, None, failures.REBUILT, "rebuild", now)
        return Rebuilt(targets, consumed, {n: skipped.get(n, []) for n in targets}, stopped)

    def close(self) -> None:
        self.engine.dispose()
