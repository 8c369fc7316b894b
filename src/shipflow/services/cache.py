"""The aggregates this process last saved, handed to the next command on them.

Loading an aggregate for a command costs a read of its snapshot and later events and a
replay; most commands follow one another on the same shipment in the same process, so the
saved aggregate *is* the state the next command needs. Invariants:

- A command holds its aggregates' locks from load to save (:meth:`holding`): commands on one
  shipment run one at a time in a process, so they never race each other for a version.
- A cached aggregate is exactly what was saved (or loaded): a command that raises, or a
  save that fails, evicts what it touched — its state may be half-changed.
- Another process's write is not looked for on a hit; it is caught where it matters, by the
  version check of the save (the loop retries on fresh state), and an ``If-Match`` that does
  not match the cache is checked against the store before it is refused.
- Reads (:meth:`read`) catch up with the store first (one query for newer events) and get a
  shallow copy: the state's values are replaced, never mutated, by events, so the copy cannot
  change under the reader.
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from shipflow.store import Shipflow


class AggregateCache:
    def __init__(self, store: Shipflow, maxsize: int = 5_000) -> None:
        self.store = store
        self.maxsize = maxsize
        self._items: OrderedDict[UUID, Any] = OrderedDict()
        self._guard = threading.Lock()  # for the two dicts, never held while waiting
        self._locks: dict[UUID, tuple[threading.RLock, int]] = {}  # id → (lock, users)

    # --- locks ---------------------------------------------------------------------------

    @contextmanager
    def holding(self, ids: Sequence[UUID]) -> Iterator[None]:
        """Hold each aggregate's lock (in a fixed order: two commands on the same pair of
        aggregates cannot deadlock; re-entrant: a command may read what it holds)."""
        with ExitStack() as stack:
            for aggregate_id in sorted(set(ids)):
                lock = self._use(aggregate_id)
                stack.callback(self._disuse, aggregate_id)
                lock.acquire()
                stack.callback(lock.release)
            yield

    def _use(self, aggregate_id: UUID) -> threading.RLock:
        with self._guard:
            lock, users = self._locks.get(aggregate_id, (threading.RLock(), 0))
            self._locks[aggregate_id] = (lock, users + 1)
            return lock

    def _disuse(self, aggregate_id: UUID) -> None:
        with self._guard:
            lock, users = self._locks[aggregate_id]
            if users == 1:
                del self._locks[aggregate_id]
            else:
                self._locks[aggregate_id] = (lock, users - 1)

    # --- the aggregates (call with the lock held) -----------------------------------------

    def get(self, aggregate_id: UUID) -> Any:
        """The aggregate for a command: cached, else loaded (AggregateNotFoundError)."""
        with self._guard:
            found = self._items.get(aggregate_id)
            if found is not None:
                self._items.move_to_end(aggregate_id)
                return found
        return self._keep(self.store.repository.get(aggregate_id))

    def fresh(self, aggregate_id: UUID) -> Any:
        """Load from the store, whatever is cached."""
        self.evict([aggregate_id])
        return self.get(aggregate_id)

    def keep(self, aggregates: Sequence[Any]) -> None:
        """After a save: the aggregates as saved are the state the next command needs."""
        for aggregate in aggregates:
            self._keep(aggregate)

    def evict(self, ids: Sequence[UUID]) -> None:
        with self._guard:
            for aggregate_id in ids:
                self._items.pop(aggregate_id, None)

    def _keep(self, aggregate: Any) -> Any:
        with self._guard:
            self._items[aggregate.id] = aggregate
            self._items.move_to_end(aggregate.id)
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)
        return aggregate

    # --- reads ------------------------------------------------------------------------------

    def read(self, aggregate_id: UUID) -> Any:
        """The current state for a reader: caught up with the store, a copy of its own."""
        with self.holding([aggregate_id]):
            with self._guard:
                cached = self._items.get(aggregate_id)
            if cached is None:
                return copy.copy(self.get(aggregate_id))
            newer: list[Any] = list(self.store.events.get(aggregate_id, gt=cached.version))
            if newer:
                caught_up = copy.copy(cached)
                caught_up.__dict__["_pending_events"] = []
                for event in newer:
                    caught_up = event.mutate(caught_up)
                if caught_up is None:
                    raise AggregateNotFoundError(aggregate_id)
                cached = self._keep(caught_up)
            return copy.copy(cached)
