"""The deliveries' state in SQL: claiming due deliveries in order, recording attempts.

**Order.** For one subscription and subject (shipment / account) at most one delivery is
open at a time: the first is ``pending`` (or ``sending``), the later ones ``waiting``. When
the open one finishes (succeeded or dead), the next waiting one becomes pending. So a later
message for a shipment waits while an earlier one is retrying; other shipments and
subscriptions go on, and claiming due deliveries is an index range scan, however long the
queues behind them. :func:`promote_stuck` repairs a queue left with no open delivery (a
dispatcher and a sender that raced on PostgreSQL); the sender runs it every few seconds.

**Claims.** Claiming sets ``status = 'sending'`` and a lease by compare-and-set, so two
senders (two processes) never send the same delivery at once; a lease that runs out (its
sender died) makes the delivery pending again: at-least-once, with the same ``webhook-id``.
A result is recorded only if the claim is still ours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, exists, func, or_, select, update
from sqlalchemy.orm import aliased

from shipflow.webhooks.policy import Policy
from shipflow.webhooks.tables import (
    webhook_attempts,
    webhook_deliveries,
    webhook_messages,
    webhook_secrets,
    webhook_subscriptions,
)

D, S, M = webhook_deliveries, webhook_subscriptions, webhook_messages
OPEN = ("pending", "sending")


@dataclass(frozen=True)
class Job:
    id: int
    subscription_id: str
    subject: str
    message_id: str
    url: str
    body: str
    attempts: int  # made before this one
    max_attempts: int | None
    secrets: tuple[str, ...]  # as stored (sealed): the sender opens them
    lease_until: datetime


@dataclass(frozen=True)
class Result:
    job: Job
    started_at: datetime
    latency_ms: int
    status_code: int | None
    outcome: str  # success, failure, timeout, refused, gone
    error: str | None = None
    excerpt: str | None = None
    retry_after_s: float | None = None


def relaxed(conn: Connection) -> None:
    """On PostgreSQL, commit this transaction without waiting for the disk. Safe here: a
    crash can only lose the last few bookkeeping commits whole, which makes the sender send
    those deliveries again with the same ``webhook-id`` (at-least-once), or the dispatcher
    dispatch that batch again (same message ids: still one delivery per message)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL synchronous_commit = off")


def release_expired(conn: Connection, now: datetime) -> int:
    """Claims whose lease ran out (their sender died) become pending again."""
    return conn.execute(update(D).where(D.c.status == "sending", D.c.lease_until < now)
                        .values(status="pending", lease_until=None)).rowcount


def claim(conn: Connection, limit: int, now: datetime, policy: Policy,
          busy: dict[str, int] | None = None) -> list[Job]:
    """Claim up to ``limit`` due deliveries (the first pending one of each subscription and
    subject), oldest due first, at most ``policy.per_subscription`` in flight for any one
    subscription (``busy``: how many this sender has in flight, per subscription)."""
    release_expired(conn, now)
    taken = dict(busy or {})
    ids = []
    for did, sid in conn.execute(
            select(D.c.id, D.c.subscription_id).join(S, S.c.id == D.c.subscription_id)
            .where(D.c.status == "pending", D.c.next_attempt_at <= now, S.c.enabled.is_(True))
            .order_by(D.c.next_attempt_at, D.c.id).limit(limit * 4)):
        if taken.get(sid, 0) < policy.per_subscription:
            taken[sid] = taken.get(sid, 0) + 1
            ids.append(did)
            if len(ids) == limit:
                break
    if not ids:
        return []
    lease = policy.lease(now)
    claimed = list(conn.execute(
        update(D).where(D.c.id.in_(ids), D.c.status == "pending")
        .values(status="sending", lease_until=lease).returning(D.c.id)).scalars())
    if not claimed:
        return []
    rows = conn.execute(
        select(D.c.id, D.c.subscription_id, D.c.subject, D.c.message_id, D.c.attempts,
               D.c.max_attempts,
               S.c.url, M.c.body)
        .join(S, S.c.id == D.c.subscription_id).join(M, M.c.id == D.c.message_id)
        .where(D.c.id.in_(claimed)).order_by(D.c.id)).all()
    keys = secrets_for(conn, {r.subscription_id for r in rows}, now)
    return [Job(r.id, r.subscription_id, r.subject, r.message_id, r.url, r.body, r.attempts,
                r.max_attempts, keys.get(r.subscription_id, ()), lease) for r in rows]


def secrets_for(conn: Connection, subscription_ids: set[str],
                now: datetime) -> dict[str, tuple[str, ...]]:
    """The secrets that sign now: the current one, and rotated-out ones still in grace."""
    t = webhook_secrets
    found: dict[str, list[str]] = {}
    for r in conn.execute(select(t.c.subscription_id, t.c.secret).where(
            t.c.subscription_id.in_(subscription_ids),
            or_(t.c.expires_at.is_(None), t.c.expires_at > now))
            .order_by(t.c.created_at.desc())):
        found.setdefault(r.subscription_id, []).append(r.secret)
    return {k: tuple(v) for k, v in found.items()}


def release(conn: Connection, jobs: list[Job]) -> None:
    """Give back claims not sent (the sender is stopping)."""
    for job in jobs:
        conn.execute(update(D).where(D.c.id == job.id, D.c.status == "sending",
                                     D.c.lease_until == job.lease_until)
                     .values(status="pending", lease_until=None))


def record(conn: Connection, results: list[Result], now: datetime,
           policy: Policy) -> list[tuple[str, str, str]]:
    """Record the attempts and move each delivery on; returns the subscriptions to disable
    as (subscription id, reason, detail)."""
    conn.execute(webhook_attempts.insert(), [
        {"delivery_id": r.job.id, "attempt": r.job.attempts + 1, "started_at": r.started_at,
         "latency_ms": r.latency_ms, "status_code": r.status_code, "outcome": r.outcome,
         "error": r.error, "response_excerpt": r.excerpt} for r in results])
    updates = []
    succeeded: set[str] = set()
    failed: set[str] = set()
    gone: set[str] = set()
    for r in results:
        made = r.job.attempts + 1
        row: dict[str, Any] = {"b_id": r.job.id, "b_lease": r.job.lease_until,
                               "attempts": made, "last_status_code": r.status_code,
                               "last_error": r.error, "lease_until": None}
        if r.outcome == "success":
            row.update(status="succeeded", finished_at=now, next_attempt_at=now)
            succeeded.add(r.job.subscription_id)
        else:
            failed.add(r.job.subscription_id)
            if r.outcome == "gone":
                gone.add(r.job.subscription_id)
            limit = r.job.max_attempts or policy.attempts
            if made >= limit:
                row.update(status="dead", finished_at=now, next_attempt_at=now)
            else:
                delay = r.retry_after_s if r.retry_after_s is not None else policy.delay(made)
                row.update(status="pending", finished_at=None,
                           next_attempt_at=now + timedelta(seconds=delay))
        updates.append(row)
    conn.execute(update(D).where(D.c.id == bindparam("b_id"), D.c.status == "sending",
                                 D.c.lease_until == bindparam("b_lease"))
                 .values(status=bindparam("status"), attempts=bindparam("attempts"),
                         next_attempt_at=bindparam("next_attempt_at"),
                         finished_at=bindparam("finished_at"),
                         last_status_code=bindparam("last_status_code"),
                         last_error=bindparam("last_error"), lease_until=None), updates)
    finished = [{"b_sub": r.job.subscription_id, "b_subject": r.job.subject}
                for r, row in zip(results, updates, strict=True)
                if row["status"] in ("succeeded", "dead")]
    if finished:
        promote_next(conn, finished)
    if succeeded:
        conn.execute(update(S).where(S.c.id.in_(succeeded))
                     .values(failing_since=None, last_success_at=now))
    only_failed = failed - succeeded
    if only_failed:
        conn.execute(update(S).where(S.c.id.in_(only_failed))
                     .values(failing_since=func.coalesce(S.c.failing_since, now)))
    disable = [(sid, "endpoint_gone", "the endpoint answered 410 Gone") for sid in gone]
    limit_since = now - timedelta(seconds=policy.disable_after_s)
    for sid, since in conn.execute(select(S.c.id, S.c.failing_since).where(
            S.c.id.in_(only_failed - gone), S.c.enabled.is_(True),
            S.c.failing_since <= limit_since)):
        disable.append((sid, "failing", f"every delivery failed since {since.isoformat()}"))
    for sid, reason, _ in disable:  # stop at once; the Disabled event (next) says the same
        conn.execute(update(S).where(S.c.id == sid)
                     .values(enabled=False, disabled_reason=reason))
    return disable


def promote_next(conn: Connection, queues: list[dict[str, str]]) -> None:
    """Make the first waiting delivery of each (``b_sub``, ``b_subject``) pending."""
    w = aliased(D)
    first = (select(func.min(w.c.id)).where(w.c.subscription_id == bindparam("b_sub"),
                                            w.c.subject == bindparam("b_subject"),
                                            w.c.status == "waiting").scalar_subquery())
    conn.execute(update(D).where(D.c.id == first, D.c.status == "waiting")
                 .values(status="pending"), queues)


def promote_stuck(conn: Connection) -> int:
    """Make pending the first waiting delivery of every queue that has no open one."""
    w, o = aliased(D), aliased(D)
    heads = select(func.min(w.c.id)).where(w.c.status == "waiting").group_by(
        w.c.subscription_id, w.c.subject)
    open_ = exists().where(o.c.subscription_id == D.c.subscription_id,
                           o.c.subject == D.c.subject, o.c.status.in_(OPEN))
    return conn.execute(update(D).where(D.c.id.in_(heads), ~open_)
                        .values(status="pending")).rowcount


def open_queues(conn: Connection, pairs: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which of these (subscription, subject) queues have an open or waiting delivery."""
    if not pairs:
        return set()
    subs, subjects = {p[0] for p in pairs}, {p[1] for p in pairs}
    return {(r[0], r[1]) for r in conn.execute(
        select(D.c.subscription_id, D.c.subject).distinct().where(
            D.c.subscription_id.in_(subs), D.c.subject.in_(subjects),
            D.c.status.in_((*OPEN, "waiting"))))} & pairs


def due_soonest(conn: Connection) -> datetime | None:
    return conn.execute(select(func.min(D.c.next_attempt_at)).where(
        D.c.status == "pending")).scalar()


def counts(conn: Connection) -> dict[str, int]:
    return {status: n for status, n in conn.execute(
        select(D.c.status, func.count()).group_by(D.c.status))}

