"""The hash chain per stream, made where every event is stored.

Every save of the one ``Shipflow`` application — the commit loop's, the SLA ticker's, a
webhook subscription's, an idempotency record's — reaches the library's
``EventStore.put``, which turns domain events into stored events and inserts them in one
transaction. :class:`ChainedEventStore` is that event store with one step more: before the
insert, each stored event's JSON state gets a ``_chain`` member,

    {"prev": <hash of the stream's previous version> | null, "hash": <its own hash>}

(and ``"start": N`` on the first chained event of a stream whose earlier versions were stored
before chaining existed: the recorded fact "chain started at version N", their rows are not
rewritten). The hash is :func:`shipflow.audit.evidence.event_hash`: SHA-256 of a canonical
encoding of the topic, originator id and version, and the state as stored less the hash
itself (docs/audit.md). It is computed from what is stored, never from the decoded event, so
an upcaster changes nothing of it.

The predecessor's hash comes from the events of the same save, else from a small cache of
hashes of committed rows (filled whenever an event is read, as loading an aggregate does, and
after each successful insert), else from the store. Two writers racing on a stream both chain
to the same predecessor, and the library's version check lets only one of them commit.

:class:`ChainingMapper` removes ``_chain`` when an event is read back, so aggregates,
views, webhooks and the ``/events`` history see the events as they were before chaining.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import (
    EventStore,
    Mapper,
    Notification,
    ProgrammingError,
    Recording,
    StoredEvent,
)

from shipflow.audit.evidence import CHAIN, event_hash, parse


class ChainHeads:
    """Hashes of committed events by (stream, version): a row once committed never changes,
    so an entry is never stale. Bounded; a miss costs one read of the store."""

    def __init__(self, maxsize: int = 20_000) -> None:
        self.maxsize = maxsize
        self._items: OrderedDict[tuple[UUID, int], tuple[str, bool]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[UUID, int]) -> tuple[str, bool] | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: tuple[UUID, int], value: tuple[str, bool]) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)


def stored_hash(stored: StoredEvent) -> tuple[str, bool]:
    """A stored event's hash and whether it is chained (an event stored before chaining
    began is hashed the same way, over its content as stored)."""
    state, floats = parse(stored.state)
    chain = state.get(CHAIN)
    if isinstance(chain, dict) and isinstance(chain.get("hash"), str):
        return chain["hash"], True
    return event_hash(str(stored.originator_id), stored.originator_version, stored.topic,
                      state, floats), False


class ChainingMapper(Mapper[UUID]):
    """The library's mapper, reading ``_chain`` out of stored events (into the cache)."""

    def __init__(self, *args: Any, heads: ChainHeads, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.heads = heads

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        event = super().to_domain_event(stored_event)
        chain = event.__dict__.pop(CHAIN, None)
        if isinstance(chain, dict) and isinstance(chain.get("hash"), str):
            key = (UUID(str(stored_event.originator_id)), stored_event.originator_version)
            self.heads.put(key, (chain["hash"], True))
        return event


class ChainedEventStore(EventStore[UUID]):
    def __init__(self, mapper: Mapper[UUID], recorder: Any, heads: ChainHeads) -> None:
        super().__init__(mapper, recorder)
        self.heads = heads

    def put(self, domain_events: Sequence[Any], **kwargs: Any) -> list[Recording[UUID]]:
        batch: dict[UUID, tuple[int, str]] = {}
        chained = [self._chained(self.mapper.to_stored_event(e), batch) for e in domain_events]
        stored = [s for s, _ in chained]
        notification_ids = self.recorder.insert_events(stored, **kwargs)
        for s, own in chained:  # committed: later saves may chain to them
            self.heads.put((UUID(str(s.originator_id)), s.originator_version), (own, True))
        if not notification_ids:
            return []
        return [Recording(d, Notification(originator_id=s.originator_id,
                                          originator_version=s.originator_version,
                                          topic=s.topic, state=s.state, id=n))
                for d, s, n in zip(domain_events, stored, notification_ids, strict=True)]

    def _chained(self, s: StoredEvent,
                 batch: dict[UUID, tuple[int, str]]) -> tuple[StoredEvent, str]:
        stream = UUID(str(s.originator_id))
        state, floats = parse(s.state)
        if not isinstance(state, dict) or CHAIN in state:
            raise ProgrammingError(f"an event's state may not have a {CHAIN!r} member: "
                                   "it carries the hash chain")
        chain: dict[str, Any] = {"prev": None}
        if s.originator_version > 1:
            prev, chained = self._predecessor(stream, s.originator_version - 1, batch)
            chain["prev"] = prev
            if not chained:  # the stream's earlier versions predate chaining
                chain["start"] = s.originator_version
        state[CHAIN] = chain
        own = event_hash(str(stream), s.originator_version, s.topic, state, floats)
        chain["hash"] = own
        batch[stream] = (s.originator_version, own)
        text = s.state.rstrip()
        member = b'"' + CHAIN.encode() + b'":' + json.dumps(chain, separators=(",", ":")
                                                            ).encode()
        state_bytes = text[:-1] + (b"," if text != b"{}" else b"") + member + b"}"
        return StoredEvent(originator_id=s.originator_id,
                           originator_version=s.originator_version, topic=s.topic,
                           state=state_bytes), own

    def _predecessor(self, stream: UUID, version: int,
                     batch: dict[UUID, tuple[int, str]]) -> tuple[str | None, bool]:
        in_batch = batch.get(stream)
        if in_batch is not None and in_batch[0] == version:
            return in_batch[1], True
        cached = self.heads.get((stream, version))
        if cached is not None:
            return cached
        rows = list(self.recorder.select_events(stream, gt=version - 1, lte=version))
        if not rows:
            return None, True  # no such version: the insert fails or starts a stream anew
        found = stored_hash(rows[0])
        self.heads.put((stream, version), found)
        return found
