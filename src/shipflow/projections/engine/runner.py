"""The runner: follows the event store's notification log and keeps views up to date.

Each batch is applied in **one read-model transaction** together with the projection's
tracking position, moved by compare-and-set (:func:`~.slots.advance`): a crash mid-batch
rolls the whole batch back, and a second runner that raced us loses its CAS and retries from
the new position. So every event is applied exactly once, whichever runner applies it.

Fold state (each shipment's aggregate and views) is a cache keyed by shipment version; on a
miss the shipment's history is folded again from the event store, so view rows are never
read back and a cache is never trusted across a failed batch.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import Engine

from shipflow import metrics
from shipflow.follow import follow
from shipflow.projections.engine import slots
from shipflow.projections.engine.base import Change, Projection, fold
from shipflow.store import Shipflow

log = logging.getLogger("shipflow.projections")


class FoldCache:
    """Aggregates and their views at the version last folded, least recently used evicted."""

    def __init__(self, store: Shipflow, maxsize: int = 20_000) -> None:
        self.store = store
        self.maxsize = maxsize
        self.aggregates: OrderedDict[UUID, Any] = OrderedDict()
        self.views: dict[str, dict[UUID, tuple[int, Any]]] = {}

    def clear(self) -> None:
        self.aggregates.clear()
        self.views.clear()

    def aggregate_after(self, event: Any) -> Any:
        sid, version = event.originator_id, event.originator_version
        cached = self.aggregates.pop(sid, None)
        if cached is None or cached.version != version - 1:
            cached = self.store.repository.get(sid, version=version - 1) if version > 1 else None
        shipment = event.mutate(cached)
        self.aggregates[sid] = shipment
        if len(self.aggregates) > self.maxsize:
            evicted, _ = self.aggregates.popitem(last=False)
            for views in self.views.values():
                views.pop(evicted, None)
        return shipment

    def view_before(self, projection: Projection[Any], event: Any) -> Any:
        sid, version = event.originator_id, event.originator_version
        entry = self.views.setdefault(projection.name, {}).get(sid)
        if entry is not None and entry[0] == version - 1:
            return entry[1]
        if version == 1:
            return None
        return fold(projection, self.store.events.get(sid, lte=version - 1))[1]

    def put_view(self, projection: Projection[Any], event: Any, view: Any) -> None:
        self.views[projection.name][event.originator_id] = (event.originator_version, view)


class Runner:
    """Applies new events to a set of projections, batch by batch.

    Without ``target_slots`` it follows each projection's active slot (the live runner); a
    rebuild names the slot it fills for each projection (``{name: slot}``).
    """

    def __init__(self, store: Shipflow, engine: Engine, projections: Sequence[Projection[Any]],
                 *, target_slots: Mapping[str, str] | None = None, batch_size: int = 500,
                 cache_size: int = 20_000) -> None:
        self.store = store
        self.engine = engine
        self.projections = list(projections)
        self.fixed_slots = dict(target_slots or {})
        self.batch_size = batch_size
        self.cache = FoldCache(store, cache_size)
        with engine.begin() as conn:
            for p in self.projections:
                slots.ensure_registered(conn, p.name)

    def positions(self) -> dict[str, tuple[str, int]]:
        """Each projection's slot and position, as this runner sees them."""
        with self.engine.connect() as conn:
            result = {}
            for p in self.projections:
                slot = self.fixed_slots.get(p.name) or slots.active_slot(conn, p.name)
                result[p.name] = (slot, slots.position(conn, p.name, slot))
            return result

    def run_batch(self) -> int:
        """Apply one batch; returns how many notifications it consumed (0: caught up)."""
        state = self.positions()
        start = min(pos for _, pos in state.values())
        group = [p for p in self.projections if state[p.name][1] == start]
        ahead = [pos for _, pos in state.values() if pos > start]
        # A projection that lags (e.g. just rebuilt) catches up alone to the others.
        notifications = self.store.recorder.select_notifications(
            start=start, limit=self.batch_size, stop=min(ahead) if ahead else None,
            inclusive_of_start=False)
        if not notifications:
            return 0
        changes: dict[str, dict[UUID, Change[Any]]] = {p.name: {} for p in group}
        per_batch = [p for p in group if p.state_only]
        first_and_last: dict[UUID, tuple[Any, Any, Any, str]] = {}
        try:
            for n in notifications:
                folding = [p for p in group if p.folds(n.topic)]
                if not folding:
                    continue
                event = self.store.mapper.to_domain_event(n)
                aggregate = self.cache.aggregate_after(event)
                for p in folding:
                    if not p.state_only:
                        self._evolve(p, event, event, aggregate, changes[p.name])
                sid = event.originator_id
                first = first_and_last.get(sid)
                first_and_last[sid] = (first[0] if first else event, event, aggregate, n.topic)
            for p in per_batch:
                for first_event, last_event, aggregate, topic in first_and_last.values():
                    if p.folds(topic):
                        self._evolve(p, first_event, last_event, aggregate, changes[p.name])
            end = notifications[-1].id
            with self.engine.begin() as conn:
                for p in group:
                    slot = state[p.name][0]
                    slots.advance(conn, p.name, slot, start, end)
                    if changes[p.name]:
                        p.write(conn, slot, changes[p.name])
        except slots.LostRace:
            metrics.LOST_RACES.labels("views").inc()
            log.info("view runner lost the race for position %s; another process applied "
                     "the batch", start)
            self.cache.clear()
            return 0
        except Exception:
            self.cache.clear()
            raise
        return len(notifications)

    def _evolve(self, p: Projection[Any], first: Any, last: Any, aggregate: Any,
                changes: dict[UUID, Change[Any]]) -> None:
        """Evolve ``p`` from its view before ``first`` to after ``last`` (the same event, or
        for a state-only view the shipment's first and last events of the batch)."""
        sid = last.originator_id
        before = self.cache.view_before(p, first)
        after = p.evolve(before, last, aggregate)
        self.cache.put_view(p, last, after)
        known = changes.get(sid)
        changes[sid] = Change(known.before if known else before, after)

    def catch_up(self, progress: Callable[[int], None] | None = None) -> int:
        """Run batches until the log is exhausted; returns notifications consumed."""
        total = 0
        while consumed := self.run_batch():
            total += consumed
            if progress:
                progress(consumed)
        return total

    def run(self, stop: threading.Event, wake: threading.Event, idle_wait_s: float = 1.0,
            error_wait_s: float = 5.0) -> None:
        """Follow the log until ``stop``; sleep on ``wake`` (set when events are saved)."""
        follow(self.run_batch, stop, wake, "projection batch", idle_wait_s, error_wait_s)
