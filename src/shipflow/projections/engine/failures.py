"""A view that cannot apply an event: the failure it stopped on, and the events an operator
skipped for it (the dead letters).

``projection_failures`` holds one row per view, slot and failing event: where the view
stopped (``stopped_at``, the position before the event), which event (its position, type,
aggregate and version), where it failed (``decode``, ``fold``, ``evolve`` or ``write``), the
error, when, and how many attempts. A row is *open* until the view gets past the event: by a
retry that succeeds (``retried``), a skip (``skipped``) or a rebuild that replaces the slot
(``rebuilt``). An open row whose view has not passed its position halts that view (and only
that view) until an operator asks for a retry.

``projection_skips`` is the dead-letter table: for each view, each event it was told to do
without, with the failure that led to it, who decided and why. Skips are per view, not per
slot: a rebuild of the view leaves the same events out. Nothing is skipped without a row here.

Only this module's own tables are touched here; moving positions is the caller's
(:mod:`~shipflow.projections.engine.slots`), in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

import sqlalchemy.exc
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Integer,
    String,
    Table,
    Text,
    and_,
    select,
    update,
)

from shipflow.database import UtcDateTime, insert, metadata
from shipflow.outages import classify

RETRIED, SKIPPED, REBUILT = "retried", "skipped", "rebuilt"
#: Where in applying an event a view failed.
STAGES = ("decode", "fold", "evolve", "write")
#: Room kept for an error's message (the driver's words can quote a whole row).
MESSAGE_LIMIT = 2000

projection_failures = Table(
    "projection_failures", metadata,
    Column("name", String(40), primary_key=True),
    Column("slot", String(1), primary_key=True),
    Column("position", BigInteger, primary_key=True),  # the notification it cannot apply
    Column("stopped_at", BigInteger, nullable=False),  # the view's position: the one before
    Column("event_type", String(200), nullable=False),
    Column("aggregate_id", String(36), nullable=False),
    Column("aggregate_version", Integer, nullable=False),
    Column("stage", String(10), nullable=False),
    Column("error_class", String(200), nullable=False),
    Column("error_message", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("first_failed_at", UtcDateTime(), nullable=False),
    Column("failed_at", UtcDateTime(), nullable=False),
    Column("retry_requested_at", UtcDateTime()),
    Column("retry_requested_by", String(200)),
    Column("resolved_at", UtcDateTime()),
    Column("resolution", String(10)),
    Column("resolved_by", String(200)),
)

projection_skips = Table(
    "projection_skips", metadata,
    Column("name", String(40), primary_key=True),
    Column("position", BigInteger, primary_key=True),
    Column("slot", String(1), nullable=False),  # the slot that failed on it
    Column("event_type", String(200), nullable=False),
    Column("aggregate_id", String(36), nullable=False),
    Column("aggregate_version", Integer, nullable=False),
    Column("error_class", String(200), nullable=False),
    Column("error_message", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("skipped_by", String(200), nullable=False),
    Column("skipped_at", UtcDateTime(), nullable=False),
)


@dataclass(frozen=True)
class Attempt:
    """One failed attempt to apply an event to a view, as the runner saw it."""

    name: str
    slot: str
    position: int
    stopped_at: int
    event_type: str
    aggregate_id: str
    aggregate_version: int
    stage: str
    error_class: str
    error_message: str


    @property
    def event(self) -> str:
        return f"{self.event_type} of {self.aggregate_id} v{self.aggregate_version}"

    @property
    def summary(self) -> str:
        return (f"the event at position {self.position} ({self.event}) failed in "
                f"{self.stage}: {self.error_class}: {self.error_message}")


@dataclass(frozen=True)
class ViewFailure(Attempt):
    attempts: int
    first_failed_at: datetime
    failed_at: datetime
    retry_requested_at: datetime | None = None
    retry_requested_by: str | None = None
    resolved_at: datetime | None = None
    resolution: str | None = None
    resolved_by: str | None = None


@dataclass(frozen=True)
class Skip:
    name: str
    position: int
    slot: str
    event_type: str
    aggregate_id: str
    aggregate_version: int
    error_class: str
    error_message: str
    reason: str
    skipped_by: str
    skipped_at: datetime

    @property
    def summary(self) -> str:
        return (f"position {self.position}: {self.event_type} of {self.aggregate_id} "
                f"v{self.aggregate_version} ({self.error_class}) skipped by {self.skipped_by} "
                f"on {self.skipped_at:%Y-%m-%d %H:%M}: {self.reason}")


class ViewNotFailed(Exception):
    """Retry or skip asked of a view that has not stopped."""


class NotTheFailingEvent(Exception):
    """A skip naming another position than the one the view stopped on."""

    def __init__(self, name: str, asked: int, failing: int) -> None:
        super().__init__(f"view {name} stopped on the event at position {failing}, not "
                         f"{asked}: only that event can be skipped")
        self.failing = failing


# --- what counts as the view's failure ---------------------------------------------------


def is_outage(exc: BaseException) -> bool:
    """A database that is down (or a lock wait, a deadlock) is nobody's event's fault: the
    batch is tried again later as a whole, and nothing is recorded against a view."""
    return classify(exc) is not None


def describe(exc: BaseException) -> tuple[str, str]:
    """The error's class (the driver's, under SQLAlchemy's wrapper) and its message, without
    the statement and its parameters, NUL bytes shown, cut to :data:`MESSAGE_LIMIT`."""
    shown: BaseException = exc
    if isinstance(exc, sqlalchemy.exc.DBAPIError) and exc.orig is not None:
        shown = exc.orig
    message = str(shown).split("\n[SQL:")[0].strip() or type(shown).__name__
    message = message.replace("\x00", "\\x00")
    if len(message) > MESSAGE_LIMIT:
        message = message[:MESSAGE_LIMIT - 1] + "…"
    kind = type(shown)
    return f"{kind.__module__}.{kind.__qualname__}"[:200], message


# --- failures ----------------------------------------------------------------------------


def _failure(row: Any) -> ViewFailure:
    return ViewFailure(**{f.name: getattr(row, f.name) for f in fields(ViewFailure)})


def _key(name: str, slot: str, position: int) -> Any:
    t = projection_failures
    return and_(t.c.name == name, t.c.slot == slot, t.c.position == position)


def open_failures(conn: Connection, names: Iterable[str] | None = None) -> list[ViewFailure]:
    """Failures not resolved yet (of these views), oldest event first."""
    t = projection_failures
    query = select(t).where(t.c.resolved_at.is_(None)).order_by(t.c.position)
    if names is not None:
        query = query.where(t.c.name.in_(list(names)))
    return [_failure(r) for r in conn.execute(query)]


def record(conn: Connection, attempt: Attempt, now: datetime) -> None:
    """Record a failed attempt: a new failure, or one more attempt at a failure an operator
    asked to retry. Another runner failing on the same event before anyone asked for a retry
    is the same attempt, not a new one."""
    t = projection_failures
    key = _key(attempt.name, attempt.slot, attempt.position)
    values = {f.name: getattr(attempt, f.name) for f in fields(Attempt)}
    fresh = {**values, "attempts": 1, "first_failed_at": now, "failed_at": now,
             "retry_requested_at": None, "retry_requested_by": None, "resolved_at": None,
             "resolution": None, "resolved_by": None}
    row = conn.execute(select(t.c.resolved_at).where(key).with_for_update()).first()
    if row is None:
        conn.execute(insert(conn, t).values(**fresh).on_conflict_do_nothing())
    elif row.resolved_at is not None:  # the slot stopped on this event again, later
        conn.execute(update(t).where(key).values(**fresh))
    else:
        conn.execute(update(t).where(key, t.c.retry_requested_at.is_not(None)).values(
            **values, attempts=t.c.attempts + 1, failed_at=now, retry_requested_at=None,
            retry_requested_by=None))


def request_retry(conn: Connection, failure: ViewFailure, by: str, now: datetime) -> None:
    conn.execute(update(projection_failures)
                 .where(_key(failure.name, failure.slot, failure.position))
                 .values(retry_requested_at=now, retry_requested_by=by))


def resolve(conn: Connection, name: str, slot: str, up_to: int | None, resolution: str,
            by: str, now: datetime) -> None:
    """Close the open failures of a view's slot at positions up to ``up_to`` (the view has
    got past them; None: all of them, the slot was emptied or replaced by a rebuild)."""
    t = projection_failures
    where = [t.c.name == name, t.c.slot == slot, t.c.resolved_at.is_(None)]
    if up_to is not None:
        where.append(t.c.position <= up_to)
    conn.execute(update(t).where(*where)
                 .values(resolved_at=now, resolution=resolution, resolved_by=by))


# --- skips (dead letters) ----------------------------------------------------------------


def add_skip(conn: Connection, failure: ViewFailure, reason: str, by: str,
             now: datetime) -> None:
    conn.execute(insert(conn, projection_skips).values(
        name=failure.name, position=failure.position, slot=failure.slot,
        event_type=failure.event_type, aggregate_id=failure.aggregate_id,
        aggregate_version=failure.aggregate_version, error_class=failure.error_class,
        error_message=failure.error_message, reason=reason, skipped_by=by, skipped_at=now,
    ).on_conflict_do_nothing())  # the same event skipped for the view's other slot


def skips(conn: Connection, names: Iterable[str] | None = None) -> dict[str, list[Skip]]:
    """Each view's skipped events, in log order."""
    t = projection_skips
    query = select(t).order_by(t.c.name, t.c.position)
    if names is not None:
        query = query.where(t.c.name.in_(list(names)))
    result: dict[str, list[Skip]] = {}
    for row in conn.execute(query):
        skip = Skip(**{f.name: getattr(row, f.name) for f in fields(Skip)})
        result.setdefault(skip.name, []).append(skip)
    return result
