"""The dispatcher: follows the notification log and turns events into deliveries.

Same exactly-once machinery as the projection runner: per batch, it reads the log after its
position, and in **one transaction** moves its position by compare-and-set, keeps the
``webhook_subscriptions`` rows from the subscriptions' own events, stores each new message's
body and inserts one delivery per (message, matching subscription). A crash mid-batch rolls
all of it back; a second dispatcher (another process) loses the CAS and retries from the new
position. Message ids are a function of (event, type), so a message is the same whichever
dispatcher built it, and a replay resends the same ``webhook-id``.

A subscription matches a message when it is enabled, one of its patterns matches the type
(``shipment.eta_changed``, ``shipment.*``, ``*``) and its customer filter (if any) is the
message's customer. A subscription with a customer filter is the customer's: it gets the
customer view of each message (:mod:`shipflow.webhooks.customer`: no payable charges, no
internal types or notes), in the same order and exactly once like any other.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, select, update

from shipflow import metrics
from shipflow.database import insert
from shipflow.follow import follow
from shipflow.projections.customer_view import Customer, customer_for
from shipflow.projections.engine import slots
from shipflow.projections.engine.runner import FoldCache
from shipflow.store import Shipflow
from shipflow.webhooks import catalogue, customer, outbox
from shipflow.webhooks.subscription import SUBSCRIPTION
from shipflow.webhooks.tables import (
    webhook_deliveries,
    webhook_messages,
    webhook_subscriptions,
    webhook_tracking,
)

log = logging.getLogger("shipflow.webhooks")

NAME = "dispatcher"
CONFIG_COLUMNS = ("url", "description", "event_types", "customer_id", "enabled",
                  "disabled_reason", "deleted", "version", "position", "created_at",
                  "updated_at")


def _now() -> datetime:
    return datetime.now(UTC)


# --- position ------------------------------------------------------------------------------


def ensure_registered(conn: Connection) -> None:
    conn.execute(insert(conn, webhook_tracking).values(
        name=NAME, position=0, updated_at=_now()).on_conflict_do_nothing())


def position(conn: Connection) -> int:
    return int(conn.execute(select(webhook_tracking.c.position).where(
        webhook_tracking.c.name == NAME)).scalar() or 0)


def advance(conn: Connection, start: int, end: int) -> None:
    """Move the position from ``start`` to ``end``, or raise ``LostRace`` (the CAS)."""
    slots.compare_and_set(conn, webhook_tracking, {"name": NAME}, start, end)


# --- matching ------------------------------------------------------------------------------


@dataclass
class Sub:
    id: str
    event_types: list[str]
    customer_id: str | None
    enabled: bool
    deleted: bool

    def wants(self, m: catalogue.Message) -> bool:
        return (self.enabled and not self.deleted and catalogue.matches(self.event_types, m.type)
                and (self.customer_id is None or self.customer_id == m.customer_id))


def load_subs(conn: Connection) -> dict[str, Sub]:
    t = webhook_subscriptions
    rows = conn.execute(select(t.c.id, t.c.event_types, t.c.customer_id, t.c.enabled,
                               t.c.deleted).where(t.c.deleted.is_(False)))
    return {r.id: Sub(r.id, list(r.event_types), r.customer_id, r.enabled, r.deleted)
            for r in rows}


def subscription_row(agg: Any, pos: int) -> dict[str, Any]:
    return {"id": str(agg.id), "url": agg.url, "description": agg.description,
            "event_types": list(agg.event_types), "customer_id": agg.customer_id,
            "enabled": agg.enabled, "disabled_reason": agg.disabled_reason,
            "deleted": agg.deleted, "version": agg.version, "position": pos,
            "created_at": agg.created_on, "updated_at": agg.modified_on}


def delivery_row(m: catalogue.Message, sub_id: str, origin: str, now: datetime) -> dict:
    return {"subscription_id": sub_id, "message_id": m.id, "type": m.type,
            "subject": m.subject, "position": m.position, "origin": origin,
            "status": "pending", "attempts": 0, "max_attempts": None, "next_attempt_at": now,
            "created_at": now}


@dataclass
class Batch:
    subscriptions: dict[str, dict[str, Any]]  # rows to upsert
    messages: dict[str, catalogue.Message]
    deliveries: list[dict[str, Any]]
    enabled: set[str] = field(default_factory=set)  # (re-)enabled: failures start afresh


def collect(store: Shipflow, cache: FoldCache, notifications: Sequence[Any],
            subs: dict[str, Sub], origin: str, now: datetime,
            only: str | None = None) -> Batch:
    """The messages and deliveries of these notifications (``only``: one subscription,
    for a replay; its rows are not touched)."""
    batch = Batch({}, {}, [])

    def enabled() -> list[Sub]:
        return [s for s in subs.values() if s.enabled and not s.deleted
                and (only is None or s.id == only)]

    live = enabled()
    customers: dict[str, Customer] = {}  # the batch's customers, with their bill-to names

    def customer_of(customer_id: str) -> Customer:
        if customer_id not in customers:
            customers[customer_id] = customer_for(store, customer_id)
        return customers[customer_id]

    for n in notifications:
        source = catalogue.source_for(n.topic)
        is_sub = SUBSCRIPTION.owns(n.topic)
        if source is None or (not live and not is_sub):
            continue
        event = store.mapper.to_domain_event(n)
        aggregate = cache.aggregate_after(event)
        if is_sub and only is None:
            row = subscription_row(aggregate, n.id)
            batch.subscriptions[row["id"]] = row
            if type(event).__name__ == "Enabled":
                batch.enabled.add(row["id"])
            subs[row["id"]] = Sub(row["id"], row["event_types"], row["customer_id"],
                                  row["enabled"], row["deleted"])
            live = enabled()
        if not live:
            continue
        patterns = [p for s in live for p in s.event_types]

        def wanted(type_: str, ps: list[str] = patterns) -> bool:
            return catalogue.matches(ps, type_)

        out = catalogue.payloads(source, event, aggregate, cache, wanted)
        if not out:
            continue
        # the forwarder's subscriptions get the messages as they are, the customer's own
        # (a customer filter) their customer view
        owner = source.customer(aggregate)
        staff = [s for s in live if s.customer_id is None]
        scoped = [s for s in live if s.customer_id is not None and s.customer_id == owner]
        readers: list[tuple[list[Sub], list[catalogue.Message]]] = []
        if staff:
            readers.append((staff, catalogue.messages(source, event, aggregate, n.id, out)))
        if scoped and owner is not None:
            readers.append((scoped, customer.messages(source, event, aggregate, n.id, out,
                                                      customer_of(owner))))
        for readers_subs, found in readers:
            for m in found:
                targets = [s.id for s in readers_subs if s.wants(m)]
                if targets:
                    batch.messages[m.id] = m
                    batch.deliveries += [delivery_row(m, sid, origin, now) for sid in targets]
    return batch


def write_batch(conn: Connection, batch: Batch, now: datetime) -> None:
    if batch.subscriptions:
        stmt = insert(conn, webhook_subscriptions)
        stmt = stmt.on_conflict_do_update(index_elements=["id"], set_={
            c: stmt.excluded[c] for c in CONFIG_COLUMNS})
        conn.execute(stmt, list(batch.subscriptions.values()))
    if batch.enabled:
        conn.execute(update(webhook_subscriptions).where(
            webhook_subscriptions.c.id.in_(batch.enabled)).values(failing_since=None))
    if batch.messages:
        conn.execute(insert(conn, webhook_messages).on_conflict_do_nothing(), [
            {"id": m.id, "type": m.type, "subject": m.subject, "customer_id": m.customer_id,
             "position": m.position, "body": m.body, "created_at": now}
            for m in batch.messages.values()])
    if batch.deliveries:
        # the first delivery of a queue (subscription, subject) with none open is pending,
        # the others wait their turn (outbox: order)
        busy = outbox.open_queues(conn, {(d["subscription_id"], d["subject"])
                                         for d in batch.deliveries})
        for d in batch.deliveries:
            queue = (d["subscription_id"], d["subject"])
            d["status"] = "waiting" if queue in busy else "pending"
            busy.add(queue)
        conn.execute(webhook_deliveries.insert(), batch.deliveries)
    gone = [k for k, row in batch.subscriptions.items() if row["deleted"]]
    if gone:  # a deleted subscription gets nothing more, not even what was pending
        dt = webhook_deliveries
        conn.execute(update(dt).where(dt.c.subscription_id.in_(gone),
                                      dt.c.status.in_(("pending", "waiting")))
                     .values(status="cancelled", finished_at=now))


class Dispatcher:
    def __init__(self, store: Shipflow, engine: Engine, *, batch_size: int = 500,
                 cache_size: int = 20_000, clock: Callable[[], datetime] = _now,
                 on_deliveries: Callable[[], None] | None = None) -> None:
        self.store = store
        self.engine = engine
        self.batch_size = batch_size
        self.cache = FoldCache(store, cache_size)
        self.clock = clock
        self.on_deliveries = on_deliveries
        with engine.begin() as conn:
            ensure_registered(conn)

    def position(self) -> int:
        with self.engine.connect() as conn:
            return position(conn)

    def run_batch(self) -> int:
        """Dispatch one batch; returns how many notifications it consumed (0: caught up)."""
        with self.engine.connect() as conn:
            start = position(conn)
            subs = load_subs(conn)
        notifications = self.store.recorder.select_notifications(
            start=start, limit=self.batch_size, inclusive_of_start=False)
        if not notifications:
            return 0
        now = self.clock()
        try:
            batch = collect(self.store, self.cache, notifications, subs, "live", now)
            with self.engine.begin() as conn:
                outbox.relaxed(conn)
                advance(conn, start, notifications[-1].id)
                self.write(conn, batch, now)
        except slots.LostRace:
            metrics.LOST_RACES.labels("webhooks").inc()
            log.info("webhook dispatcher lost the race for position %s; another process "
                     "applied the batch", start)
            self.cache.clear()
            return 0
        except Exception:
            self.cache.clear()
            raise
        if batch.deliveries and self.on_deliveries:
            self.on_deliveries()
        return len(notifications)

    def write(self, conn: Connection, batch: Batch, now: datetime) -> None:
        write_batch(conn, batch, now)

    def catch_up(self) -> int:
        total = 0
        while consumed := self.run_batch():
            total += consumed
        return total

    def run(self, stop: threading.Event, wake: threading.Event, idle_wait_s: float = 1.0,
            error_wait_s: float = 5.0) -> None:
        """Follow the log until ``stop``; sleep on ``wake`` (set when events are saved)."""
        follow(self.run_batch, stop, wake, "webhook dispatch", idle_wait_s, error_wait_s)


def replay(store: Shipflow, engine: Engine, subscription_id: str, from_position: int,
           now: datetime, batch_size: int = 1000) -> tuple[int, int]:
    """Resend the history after ``from_position - 1`` (up to the dispatcher's position: the
    rest it delivers live) to one subscription; returns (deliveries created, last position)."""
    with engine.connect() as conn:
        upto = position(conn)
        subs = {k: v for k, v in load_subs(conn).items() if k == subscription_id}
    if subscription_id not in subs:
        return 0, upto
    sub = subs[subscription_id]
    sub.enabled = True  # a disabled subscription gets them when it is enabled again
    cache = FoldCache(store, 5_000)
    start, created = max(from_position - 1, 0), 0
    while start < upto:
        notifications = store.recorder.select_notifications(
            start=start, limit=batch_size, stop=upto, inclusive_of_start=False)
        if not notifications:
            break
        batch = collect(store, cache, notifications, dict(subs), "replay", now,
                        only=subscription_id)
        with engine.begin() as conn:
            write_batch(conn, Batch({}, batch.messages, batch.deliveries), now)
        created += len(batch.deliveries)
        start = notifications[-1].id
    return created, upto
