"""Idempotency keys: the first response to a command, stored with the command's events.

A client retrying a POST with the same ``Idempotency-Key`` gets the stored response and
nothing is written again. The response is recorded as an event of a small
:class:`IdempotencyRecord` aggregate (one per key and **API key**) in the same save as the
events the command wrote, so a crash can record neither or both, and two concurrent requests
with one key cannot both commit: the second loses on the record's version and is answered
with the first one's response.

Records are per API key (its id, not its owner): a key replays only what that key did, and
only after the request passed the endpoint's role and tenant checks (the lookup happens in
the commit loop, :mod:`shipflow.services.commit`, which runs inside the endpoint).

The only part of a response not known before commit is the log position it reached; it is
the record event's own notification id (saved last), looked up when the response is replayed.
"""

from __future__ import annotations

import copy
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from shipflow.events.common import InvalidTransition
from shipflow.events.topics import register_moved_topics

_NAMESPACE = uuid.UUID("6f7a0d5e-9a3b-4f3e-8a51-2c0f1d9b7e44")


class ResponseRecorded(Aggregate.Created):
    request_hash: str
    status: int
    body: Any
    headers: dict[str, str]
    expires_at: datetime


class ResponseRecordedAgain(Aggregate.Event):
    """The key was used again after its previous record expired."""

    request_hash: str
    status: int
    body: Any
    headers: dict[str, str]
    expires_at: datetime

    def apply(self, record: IdempotencyRecord) -> None:  # type: ignore[override]
        record.request_hash, record.status = self.request_hash, self.status
        record.body, record.headers = self.body, self.headers
        record.expires_at = self.expires_at


class IdempotencyRecord(Aggregate):
    def __init__(self, request_hash: str, status: int, body: Any, headers: dict[str, str],
                 expires_at: datetime) -> None:
        self.request_hash, self.status, self.body = request_hash, status, body
        self.headers, self.expires_at = headers, expires_at

    @staticmethod
    def id_for(api_key_id: str, key: str) -> uuid.UUID:
        return uuid.uuid5(_NAMESPACE, f"{api_key_id}\n{key}")

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at


@dataclass(frozen=True)
class Response:
    status: int
    body: Any
    headers: dict[str, str]


class IdempotentReplay(Exception):
    """This key has a response already: answer with it (and write nothing)."""

    def __init__(self, record: IdempotencyRecord) -> None:
        super().__init__("replay")
        self.record = record


class IdempotencyKeyReused(InvalidTransition):
    def __init__(self) -> None:
        super().__init__("idempotency_key_reused", "this Idempotency-Key was used for a "
                         "different request", "Idempotency-Key")


@dataclass
class IdempotencyRequest:
    """A command request carrying an Idempotency-Key, as the API hands it to a service."""

    record_id: uuid.UUID
    request_hash: str
    expires_at: datetime
    now: datetime
    #: The endpoint's answer, from what the service recorded (without its position).
    respond: Callable[[Any], Response]
    #: An expired record of the same key, which this request records again.
    existing: IdempotencyRecord | None = None

    @classmethod
    def of(cls, api_key_id: str, key: str, request_hash: str, now: datetime, ttl_s: float,
           respond: Callable[[Any], Response]) -> IdempotencyRequest:
        return cls(IdempotencyRecord.id_for(api_key_id, key), request_hash,
                   now + timedelta(seconds=ttl_s), now, respond)

    def check(self, store: Any) -> None:
        """Before doing anything: replay the stored answer, or refuse a reused key."""
        try:
            record = store.repository.get(self.record_id)
        except AggregateNotFoundError:
            return
        if record.expired(self.now):
            self.existing = record
            return
        if record.request_hash != self.request_hash:
            raise IdempotencyKeyReused()
        raise IdempotentReplay(record)

    def record(self, recorded: Any) -> IdempotencyRecord:
        """The record to save with a command's events."""
        response = self.respond(recorded)
        args = dict(request_hash=self.request_hash, status=response.status,
                    body=response.body, headers=response.headers, expires_at=self.expires_at)
        if self.existing is None:
            return IdempotencyRecord._create(ResponseRecorded, id=self.record_id, **args)
        record = copy.deepcopy(self.existing)  # a retry starts from the stored record
        record.trigger_event(ResponseRecordedAgain, **args)
        return record


def save(store: Any, aggregates: list[Aggregate], recorded: Any,
         idempotency: IdempotencyRequest | None) -> list[Any]:
    """Save the aggregates' new events with the request's idempotency record (if it has a
    key) in one transaction. ``recorded`` is the command's result without its position."""
    from eventsourcing.persistence import IntegrityError

    extra = [idempotency.record(recorded)] if idempotency is not None else []
    try:
        return store.save(*aggregates, *extra)
    except IntegrityError:
        if extra:  # did the same key commit meanwhile? Then answer with its response.
            try:
                current = store.repository.get(extra[0].id)
            except AggregateNotFoundError:
                raise IntegrityError("an aggregate changed") from None
            if current.version >= extra[0].version:
                raise IdempotentReplay(current) from None
        raise


# Records stored before this module moved name it as ``shipflow.idempotency``.
register_moved_topics({"shipflow.idempotency": sys.modules[__name__]})
