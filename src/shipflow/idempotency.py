"""Idempotency keys: the first response to a command, stored with the command's events.

A client retrying a POST with the same ``Idempotency-Key`` gets the stored response and
nothing is written again. The response is recorded as an event of a small
:class:`IdempotencyRecord` aggregate (one per key and key owner) **in the same save** as the
events the command wrote, so a crash can record neither or both, and two concurrent requests
with one key cannot both commit: the second loses on the record's version and is answered
with the first one's response.

The only part of a response not known before commit is the log position it reached; it is
the record event's own notification id (saved last), looked up when the response is replayed.
"""

from __future__ import annotations

import contextvars
import copy
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from eventsourcing.domain import Aggregate

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

    def apply(self, record: IdempotencyRecord) -> None:
        record.request_hash, record.status = self.request_hash, self.status
        record.body, record.headers = self.body, self.headers
        record.expires_at = self.expires_at


class IdempotencyRecord(Aggregate):
    def __init__(self, request_hash: str, status: int, body: Any, headers: dict[str, str],
                 expires_at: datetime) -> None:
        self.request_hash, self.status, self.body = request_hash, status, body
        self.headers, self.expires_at = headers, expires_at

    @staticmethod
    def id_for(owner: str, key: str) -> uuid.UUID:
        return uuid.uuid5(_NAMESPACE, f"{owner}\n{key}")

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at


@dataclass(frozen=True)
class Response:
    status: int
    body: Any
    headers: dict[str, str]


@dataclass
class Pending:
    """A request carrying an Idempotency-Key whose command has not committed yet."""

    record_id: uuid.UUID
    request_hash: str
    expires_at: datetime
    respond: Callable[[Any], Response]  # what the endpoint answers, from what was recorded
    existing: IdempotencyRecord | None = None  # an expired record the key reuses


#: Set by the API for the duration of a request with an Idempotency-Key.
PENDING: contextvars.ContextVar[Pending | None] = contextvars.ContextVar(
    "shipflow_idempotency", default=None)


class IdempotentReplay(Exception):
    """The same key committed meanwhile (a concurrent request): answer with its response."""

    def __init__(self, record: IdempotencyRecord) -> None:
        super().__init__("replay")
        self.record = record


def record_for(recorded: Any) -> list[Aggregate]:
    """The record to save with a command's events, if this request carries a key."""
    pending = PENDING.get()
    if pending is None:
        return []
    response = pending.respond(recorded)
    args = dict(request_hash=pending.request_hash, status=response.status, body=response.body,
                headers=response.headers, expires_at=pending.expires_at)
    if pending.existing is None:
        record = IdempotencyRecord._create(ResponseRecorded, id=pending.record_id, **args)
    else:
        record = copy.deepcopy(pending.existing)  # a retry starts from the stored record
        record.trigger_event(ResponseRecordedAgain, **args)
    return [record]


def expiry(now: datetime, ttl_s: float) -> datetime:
    return now + timedelta(seconds=ttl_s)


def save(store: Any, aggregates: list[Aggregate], recorded: Any) -> list[Any]:
    """Save the aggregates' new events with this request's idempotency record (if it has a
    key) in one transaction. ``recorded`` is the command's result without its position."""
    from eventsourcing.application import AggregateNotFoundError
    from eventsourcing.persistence import IntegrityError

    extra = record_for(recorded)
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
