"""The runner: follows the event store's notification log and keeps views up to date.

A batch is read and decoded once, and each shipment folded once, for all the views that are
at the batch's start; then **each view commits in a transaction of its own**: its rows and
its tracking position, moved by compare-and-set (:func:`~.slots.advance`). A crash rolls back
the view being committed; a second runner that raced us loses its CAS for that view. So
every event is applied to each view exactly once, whichever runner applies it.

**A view that cannot apply an event stops alone.** When an event fails in a view (decoding
it, folding the shipment, the view's ``evolve`` or its ``write``), that view commits nothing
of the batch; the others commit as usual. The runner then narrows the failure down for that
view alone: it applies the batch's events to it in smaller passes, each committed with its
position (exactly once, as any batch), halving the part that fails, until a pass of one
event fails. That event is recorded (:mod:`~.failures`) and the view stays at the position
before it; the events before it are applied. A view with an open failure is left out of
later batches (no hot loop) until an operator asks for a retry, or skips that one event.
A database outage is not a view's failure: it is raised, and the batch is tried again.

Fold state (each shipment's aggregate and views) is a cache keyed by shipment version; on a
miss the shipment's history is folded again from the event store, leaving out the events
skipped for the view. View rows are never read back.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Engine

from shipflow import metrics
from shipflow.follow import follow
from shipflow.projections.engine import failures, slots
from shipflow.projections.engine.base import Change, Projection, fold
from shipflow.projections.engine.failures import ViewFailure, is_outage
from shipflow.store import Shipflow

log = logging.getLogger("shipflow.projections")


def _now() -> datetime:
    return datetime.now(UTC)


class FoldCache:
    """Aggregates and their views at the version last folded, least recently used evicted."""

    def __init__(self, store: Shipflow, maxsize: int = 20_000) -> None:
        self.store = store
        self.maxsize = maxsize
        self.aggregates: OrderedDict[UUID, Any] = OrderedDict()
        self.views: dict[str, dict[UUID, tuple[int, Any]]] = {}
        #: Per view, per aggregate: the versions skipped for that view.
        self.skipped: dict[str, dict[UUID, frozenset[int]]] = {}

    def clear(self) -> None:
        self.aggregates.clear()
        self.views.clear()

    def forget(self, name: str) -> None:
        """Drop one view's folds (its skips changed, or its batch did not commit)."""
        self.views.pop(name, None)

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
        skipped = self.skipped.get(projection.name, {}).get(sid, frozenset())
        return fold(projection, self.store.events.get(sid, lte=version - 1), skipped=skipped)[1]

    def put_view(self, projection: Projection[Any], event: Any, view: Any) -> None:
        self.views[projection.name][event.originator_id] = (event.originator_version, view)


@dataclass(frozen=True)
class ViewState:
    """Where a view's slot stands for this runner: its position, and the failure it stopped
    on (if it has not got past it)."""

    slot: str
    position: int
    failure: ViewFailure | None = None

    @property
    def halted(self) -> bool:
        """Stopped on an event, and nobody asked for a retry yet."""
        return self.failure is not None and self.failure.retry_requested_at is None


@dataclass(frozen=True)
class _Stop:
    """Why a view could not apply a pass: the stage, the error, and which notification of
    the pass when that is known (not for a state-only view's evolve, nor for a write)."""

    index: int | None
    stage: str
    error: Exception


class Runner:
    """Applies new events to a set of projections, batch by batch.

    Without ``target_slots`` it follows each projection's active slot (the live runner); a
    rebuild names the slot it fills for each projection (``{name: slot}``).
    """

    def __init__(self, store: Shipflow, engine: Engine, projections: Sequence[Projection[Any]],
                 *, target_slots: Mapping[str, str] | None = None, batch_size: int = 500,
                 cache_size: int = 20_000, clock: Callable[[], datetime] = _now) -> None:
        self.store = store
        self.engine = engine
        self.projections = list(projections)
        self.fixed_slots = dict(target_slots or {})
        self.batch_size = batch_size
        self.clock = clock
        self.cache = FoldCache(store, cache_size)
        #: Per view: the positions skipped for it (notification id: aggregate and version).
        self.skips: dict[str, dict[int, tuple[UUID, int]]] = {}
        with engine.begin() as conn:
            for p in self.projections:
                slots.ensure_registered(conn, p.name)

    def states(self) -> dict[str, ViewState]:
        """Each projection's slot, position and open failure, as this runner sees them; also
        reloads the skips (a view whose skips changed forgets its folds)."""
        names = [p.name for p in self.projections]
        with self.engine.connect() as conn:
            result = {}
            for name in names:
                slot = self.fixed_slots.get(name) or slots.active_slot(conn, name)
                result[name] = ViewState(slot, slots.position(conn, name, slot))
            for f in failures.open_failures(conn, names):
                view = result[f.name]
                if f.slot == view.slot and f.position > view.position and view.failure is None:
                    result[f.name] = replace(view, failure=f)
            found = failures.skips(conn, names)
        for name in names:
            skips = {s.position: (UUID(s.aggregate_id), s.aggregate_version)
                     for s in found.get(name, [])}
            if skips != self.skips.get(name, {}):
                self.cache.forget(name)
                by_aggregate: dict[UUID, set[int]] = {}
                for sid, version in skips.values():
                    by_aggregate.setdefault(sid, set()).add(version)
                self.cache.skipped[name] = {k: frozenset(v) for k, v in by_aggregate.items()}
            self.skips[name] = skips
        return result

    def positions(self) -> dict[str, tuple[str, int]]:
        """Each projection's slot and position, as this runner sees them."""
        return {name: (s.slot, s.position) for name, s in self.states().items()}

    def run_batch(self) -> int:
        """Apply one batch; returns how many notifications it consumed (0: caught up, or every
        view it follows has stopped on an event)."""
        state = self.states()
        live = [p for p in self.projections if not state[p.name].halted]
        if not live:
            return 0
        start = min(state[p.name].position for p in live)
        group = [p for p in live if state[p.name].position == start]
        ahead = [state[p.name].position for p in live if state[p.name].position > start]
        # A projection that lags (e.g. just rebuilt, or retried) catches up alone to the others.
        notifications = self.store.recorder.select_notifications(
            start=start, limit=self.batch_size, stop=min(ahead) if ahead else None,
            inclusive_of_start=False)
        if not notifications:
            return 0
        notifications = self._cut_at_skips(notifications, group)
        stops, _ = self._apply(group, state, start, notifications, self.cache)
        for p in group:
            if p.name in stops:
                self.cache.forget(p.name)
                self._narrow(p, state[p.name], notifications, stops[p.name])
        return len(notifications)

    def _cut_at_skips(self, notifications: Sequence[Any],
                      group: Sequence[Projection[Any]]) -> Sequence[Any]:
        """End the batch before an event skipped for one of the views, or make it that event
        alone: a view then leaves out a whole pass, never part of one (a state-only view
        folds a shipment's last state of the pass)."""
        marked = {pos for p in group for pos in self.skips.get(p.name, {})}
        for i, n in enumerate(notifications):
            if n.id in marked:
                return notifications[:i] if i else notifications[:1]
        return notifications

    def _apply(self, group: Sequence[Projection[Any]], state: Mapping[str, ViewState],
               start: int, notifications: Sequence[Any],
               cache: FoldCache) -> tuple[dict[str, _Stop], set[str]]:
        """Fold the notifications once for the group, then commit each view alone. Returns
        the views that could not apply them (and why), and those that lost a race."""
        changes: dict[str, dict[UUID, Change[Any]]] = {p.name: {} for p in group}
        stops: dict[str, _Stop] = {}
        # A skipped event is alone in its pass (_cut_at_skips): its views only move past it.
        working = [p for p in group if notifications[0].id not in self.skips.get(p.name, {})]
        last_seen: dict[UUID, tuple[Any, Any, Any, str]] = {}
        for i, n in enumerate(notifications):
            folding = [p for p in working if p.folds(n.topic) and p.name not in stops]
            if not folding:
                continue
            stage = "decode"
            try:
                event = self.store.mapper.to_domain_event(n)
                stage = "fold"
                aggregate = cache.aggregate_after(event)
            except Exception as e:
                if is_outage(e):
                    raise
                stops.update({p.name: _Stop(i, stage, e) for p in folding})
                continue
            for p in folding:
                if not p.state_only:
                    try:
                        self._evolve(cache, p, event, event, aggregate, changes[p.name])
                    except Exception as e:
                        if is_outage(e):
                            raise
                        stops[p.name] = _Stop(i, "evolve", e)
            sid = event.originator_id
            first = last_seen.get(sid)
            last_seen[sid] = (first[0] if first else event, event, aggregate, n.topic)
        for p in working:
            if not p.state_only or p.name in stops:
                continue
            for first_event, last_event, aggregate, topic in last_seen.values():
                if p.folds(topic):
                    try:
                        self._evolve(cache, p, first_event, last_event, aggregate,
                                     changes[p.name])
                    except Exception as e:
                        if is_outage(e):
                            raise
                        stops[p.name] = _Stop(None, "evolve", e)
                        break
        lost: set[str] = set()
        end = notifications[-1].id
        for p in group:
            if p.name not in stops:
                try:
                    self._commit(p, state[p.name], start, end, changes[p.name])
                except slots.LostRace:
                    metrics.LOST_RACES.labels(f"view:{p.name}").inc()
                    log.info("view %s lost the race for position %s; another process "
                             "applied the batch", p.name, start)
                    cache.forget(p.name)
                    lost.add(p.name)
                except Exception as e:
                    if is_outage(e):
                        raise
                    stops[p.name] = _Stop(None, "write", e)
        return stops, lost

    def _commit(self, p: Projection[Any], view: ViewState, start: int, end: int,
                changes: Mapping[UUID, Change[Any]]) -> None:
        """The view's rows and position, in one transaction of its own."""
        with self.engine.begin() as conn:
            slots.advance(conn, p.name, view.slot, start, end)
            if changes:
                p.write(conn, view.slot, changes)
            if view.failure is not None and view.failure.position <= end:
                failures.resolve(conn, p.name, view.slot, end, failures.RETRIED,
                                 view.failure.retry_requested_by or "runner", self.clock())

    def _narrow(self, p: Projection[Any], view: ViewState, notifications: Sequence[Any],
                stop: _Stop) -> None:
        """Apply ``notifications`` to ``p`` alone in smaller passes, each committed, until a
        pass of one event fails: record that event as the view's failure."""
        cache = FoldCache(self.store, self.cache.maxsize)  # the others' folds stay as they are
        cache.skipped = self.cache.skipped
        todo, hint, position = list(notifications), stop.index, view.position
        while todo:
            folded = [i for i, n in enumerate(todo) if p.folds(n.topic)]
            if not folded:
                return
            if len(folded) == 1:
                split = len(todo)
            elif hint is not None and hint > folded[0]:
                split = hint  # everything before the event that failed
            elif hint is not None:
                split = folded[0] + 1  # the event that failed, alone
            else:
                split = folded[len(folded) // 2]
            head = todo[:split]
            stops, lost = self._apply([p], {p.name: replace(view, position=position)},
                                      position, head, cache)
            if lost:
                return  # another runner has the view now
            if p.name not in stops:
                position, todo = head[-1].id, todo[split:]
                hint = hint - split if hint is not None and hint >= split else None
                continue
            stop = stops[p.name]
            mine = [n for n in head if p.folds(n.topic)]
            if len(mine) == 1:
                self._record(p, view.slot, position, mine[0], stop)
                return
            todo, hint = head, stop.index

    def _record(self, p: Projection[Any], slot: str, stopped_at: int, n: Any,
                stop: _Stop) -> None:
        error_class, message = failures.describe(stop.error)
        attempt = failures.Attempt(
            name=p.name, slot=slot, position=n.id, stopped_at=stopped_at,
            event_type=n.topic.rpartition(":")[2][:200], aggregate_id=str(n.originator_id),
            aggregate_version=n.originator_version, stage=stop.stage,
            error_class=error_class, error_message=message)
        with self.engine.begin() as conn:
            if slots.position(conn, p.name, slot, for_update=True) != stopped_at:
                return  # the view moved on meanwhile (another runner, an operator)
            failures.record(conn, attempt, self.clock())
        log.error("view %s (slot %s) stopped before position %s: %s of %s v%s failed in %s: "
                  "%s: %s; the other views go on (shipflow projections status)", p.name,
                  slot, n.id, attempt.event_type, attempt.aggregate_id,
                  attempt.aggregate_version, stop.stage, error_class, message,
                  exc_info=stop.error)

    def _evolve(self, cache: FoldCache, p: Projection[Any], first: Any, last: Any,
                aggregate: Any, changes: dict[UUID, Change[Any]]) -> None:
        """Evolve ``p`` from its view before ``first`` to after ``last`` (the same event, or
        for a state-only view the shipment's first and last events of the batch)."""
        sid = last.originator_id
        before = cache.view_before(p, first)
        after = p.evolve(before, last, aggregate)
        cache.put_view(p, last, after)
        known = changes.get(sid)
        changes[sid] = Change(known.before if known else before, after)

    def catch_up(self, progress: Callable[[int], None] | None = None) -> int:
        """Run batches until the log is exhausted (or every view has stopped on an event);
        returns notifications consumed."""
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
