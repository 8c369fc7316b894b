"""The commit loop every command goes through, for shipments and accounts alike.

1. An ``Idempotency-Key`` already answered is replayed (or refused if reused for another
   request) before anything is loaded.
2. The aggregates' locks are taken (:mod:`shipflow.services.cache`): commands on one
   aggregate run one at a time in this process, so they never race each other.
3. The aggregates are loaded — as this process last saved them, when it did; with an
   expected version (``If-Match``) a stale primary aggregate is refused (412), after
   checking the store when the cache disagrees.
4. The command runs on them (the domain method: rules checked, events recorded).
5. Their new events are saved in **one** transaction together with the request's
   idempotency record. A write that loses a race to another process is retried on fresh
   state after a short random pause, growing each time (the command is re-checked against
   the new state); losing all :data:`ATTEMPTS` is ``concurrent_write``. A command that
   raises or a save that fails evicts the aggregates from the cache.

Services pass in what to load, what to run and how to describe the result; the loop knows
nothing of HTTP. The described result travels back with the log position it reached.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol, Self, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from shipflow import metrics
from shipflow.events.common import ConcurrentWrite, DomainError
from shipflow.services import idempotency
from shipflow.services.cache import AggregateCache
from shipflow.services.idempotency import IdempotencyRequest
from shipflow.store import Shipflow

#: How often a command without ``If-Match`` is tried when other processes keep winning the
#: race for its aggregate (in-process writers never race: they wait for the lock).
ATTEMPTS = 4

#: How a command is given its aggregates: ``load(get)`` with ``get(id)`` the cache's or the
#: store's (fresh) aggregate.
Loader = Callable[[Callable[[UUID], Any]], Sequence[Any]]


class Positioned(Protocol):
    """What a command recorded, told its log position once saved."""

    def at(self, position: int) -> Self: ...


R = TypeVar("R", bound=Positioned)
T = TypeVar("T")


class Commits:
    def __init__(self, store: Shipflow, cache: AggregateCache,
                 idempotency: IdempotencyRequest | None = None, what: str = "shipment") -> None:
        self.store = store
        self.cache = cache
        self.idempotency = idempotency
        self.what = what  # named in conflicts: "the shipment changed …"

    def create(self, aggregate: Aggregate, recorded: R,
               exists: Callable[[], DomainError]) -> R:
        """Save a new aggregate; ``exists`` says why an id already taken is refused."""
        self.check_key()
        command = type(aggregate.pending_events[0]).__name__
        try:
            recordings = self._save([aggregate], recorded)
        except IntegrityError:
            self._count(command, "refused")
            raise exists() from None
        self._count(command, "ok")
        self.cache.keep([aggregate])
        return recorded.at(recordings[-1].notification.id)

    def change(self, ids: Sequence[UUID], load: Loader, command: Callable[..., T],
               describe: Callable[[Sequence[Any], list[str], T], R],
               expected_version: int | None,
               stale: Callable[[int, int], DomainError]) -> R:
        """Run ``command(*load(get))`` on the aggregates ``ids`` and save what it recorded
        (see the module docstring)."""
        self.check_key()
        with self.cache.holding(ids):
            for attempt in range(1, ATTEMPTS + 1):
                aggregates = load(self.cache.get if attempt == 1 else self.cache.fresh)
                if expected_version is not None and aggregates[0].version != expected_version:
                    aggregates = load(self.cache.fresh)  # another process may have written
                    if aggregates[0].version != expected_version:
                        raise stale(expected_version, aggregates[0].version)
                names: list[str] = []
                try:
                    result = command(*aggregates)
                    names = [type(e).__name__ for a in aggregates for e in a.pending_events]
                    recorded = describe(aggregates, names, result)
                    if not names:  # an idempotent command that had nothing to record
                        self._count("none", "nothing")
                        return recorded
                    recordings = self._save(list(aggregates), recorded)
                except IntegrityError:
                    self.cache.evict(ids)
                    if expected_version is not None:
                        raise stale(expected_version, load(self.cache.fresh)[0].version
                                    ) from None
                    metrics.CONFLICTS.labels(self.what, names[0]).inc()
                    if attempt == ATTEMPTS:
                        self._count(names[0], "concurrent_write")
                        raise ConcurrentWrite(self.what) from None
                    # Apart, the racers' next tries rarely meet again.
                    time.sleep(random.uniform(0.002, 0.02) * 2 ** attempt)  # noqa: S311
                    continue
                except DomainError as refused:
                    self.cache.evict(ids)  # a half-changed state never serves another command
                    self._count(refused.rule, "refused")
                    raise
                except BaseException:
                    self.cache.evict(ids)
                    raise
                self._count(names[0], "ok")
                self.cache.keep(aggregates)
                return recorded.at(recordings[-1].notification.id)
        raise AssertionError("unreachable")

    def save(self, aggregates: list[Aggregate], recorded: Any) -> int:
        """Save as is (no load, no retry), with the idempotency record; the position."""
        recordings = self._save(aggregates, recorded)
        return recordings[-1].notification.id if recordings else 0

    def check_key(self) -> None:
        """Replay the stored answer of this request's key, or refuse a reused key."""
        if self.idempotency is not None:
            try:
                self.idempotency.check(self.store)
            except idempotency.IdempotentReplay:
                self._count("-", "replayed")
                raise

    def _count(self, command: str, outcome: str) -> None:
        """``command``: the event it recorded first, or for a refusal the rule it broke."""
        metrics.COMMANDS.labels(self.what, command, outcome).inc()

    def _save(self, aggregates: list[Aggregate], recorded: Any) -> list[Any]:
        return idempotency.save(self.store, aggregates, recorded, self.idempotency)
