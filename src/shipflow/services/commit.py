"""The commit loop every command goes through, for shipments and accounts alike.

1. An ``Idempotency-Key`` already answered is replayed (or refused if reused for another
   request) before anything is loaded.
2. The aggregates are loaded; with an expected version (``If-Match``) a stale primary
   aggregate is refused (412).
3. The command runs on them (the domain method: rules checked, events recorded).
4. Their new events are saved in **one** transaction together with the request's
   idempotency record. A write that loses a race to another writer is retried once on fresh
   state (the command is re-checked against it); the second loss is ``concurrent_write``.

Services pass in what to load, what to run and how to describe the result; the loop knows
nothing of HTTP. The described result travels back with the log position it reached.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, Self, TypeVar

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from shipflow.events.common import ConcurrentWrite, DomainError
from shipflow.services import idempotency
from shipflow.services.idempotency import IdempotencyRequest
from shipflow.store import Shipflow


class Positioned(Protocol):
    """What a command recorded, told its log position once saved."""

    def at(self, position: int) -> Self: ...


R = TypeVar("R", bound=Positioned)
T = TypeVar("T")


class Commits:
    def __init__(self, store: Shipflow, idempotency: IdempotencyRequest | None = None,
                 what: str = "shipment") -> None:
        self.store = store
        self.idempotency = idempotency
        self.what = what  # named in conflicts: "the shipment changed …"

    def create(self, aggregate: Aggregate, recorded: R,
               exists: Callable[[], DomainError]) -> R:
        """Save a new aggregate; ``exists`` says why an id already taken is refused."""
        self.check_key()
        try:
            recordings = self._save([aggregate], recorded)
        except IntegrityError:
            raise exists() from None
        return recorded.at(recordings[-1].notification.id)

    def change(self, load: Callable[[], Sequence[Any]], command: Callable[..., T],
               describe: Callable[[Sequence[Any], list[str], T], R],
               expected_version: int | None,
               stale: Callable[[int, int], DomainError]) -> R:
        """Run ``command(*load())`` and save what it recorded (see the module docstring)."""
        self.check_key()
        for attempt in (1, 2):
            aggregates = load()
            current = aggregates[0].version
            if expected_version is not None and current != expected_version:
                raise stale(expected_version, current)
            result = command(*aggregates)
            names = [type(e).__name__ for a in aggregates for e in a.pending_events]
            recorded = describe(aggregates, names, result)
            if not names:  # an idempotent command that had nothing to record
                return recorded
            try:
                recordings = self._save(list(aggregates), recorded)
            except IntegrityError:
                if expected_version is not None:
                    raise stale(expected_version, load()[0].version) from None
                if attempt == 2:
                    raise ConcurrentWrite(self.what) from None
                continue
            return recorded.at(recordings[-1].notification.id)
        raise AssertionError("unreachable")

    def save(self, aggregates: list[Aggregate], recorded: Any) -> int:
        """Save as is (no load, no retry), with the idempotency record; the position."""
        recordings = self._save(aggregates, recorded)
        return recordings[-1].notification.id if recordings else 0

    def check_key(self) -> None:
        """Replay the stored answer of this request's key, or refuse a reused key."""
        if self.idempotency is not None:
            self.idempotency.check(self.store)

    def _save(self, aggregates: list[Aggregate], recorded: Any) -> list[Any]:
        return idempotency.save(self.store, aggregates, recorded, self.idempotency)
