"""Managing subscriptions and reading the delivery log: what the API calls.

Subscription changes are events on the :class:`WebhookSubscription` aggregate; the dispatcher
applies them to ``webhook_subscriptions`` in log order (:func:`wait_applied` waits for it).
Secrets go straight into ``webhook_secrets`` (before the event that names them), encrypted
(:mod:`shipflow.webhooks.secretbox`).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from eventsourcing.application import AggregateNotFoundError
from sqlalchemy import Engine, func, select, update

from shipflow.config import Settings
from shipflow.events.common import DomainError, EventMeta, NotFound
from shipflow.services import idempotency
from shipflow.services.idempotency import IdempotencyRequest
from shipflow.store import Shipflow
from shipflow.webhooks import catalogue, dispatcher, signing, ssrf
from shipflow.webhooks.secretbox import SecretBox
from shipflow.webhooks.subscription import WebhookSubscription
from shipflow.webhooks.tables import (
    webhook_attempts,
    webhook_deliveries,
    webhook_messages,
    webhook_secrets,
    webhook_subscriptions,
)

D, S = webhook_deliveries, webhook_subscriptions


class WebhookService:
    def __init__(self, settings: Settings, store: Shipflow, engine: Engine,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 idempotency: IdempotencyRequest | None = None) -> None:
        self.clock = clock
        self.idempotency = idempotency  # this request's key: its answer is saved with it
        self.settings = settings
        self.store = store
        self.engine = engine
        self.allowed = ssrf.networks(settings.webhook_allowed_networks)
        self.box = SecretBox.for_settings(settings)

    # --- validation ------------------------------------------------------------------------

    def check_url(self, url: str) -> None:
        try:
            ssrf.check(url, self.allowed)
        except ssrf.UrlRefused as e:
            raise DomainError(e.rule, e.detail, "url") from None

    @staticmethod
    def check_types(patterns: list[str]) -> None:
        if not patterns:
            raise DomainError("event_types_required", "subscribe to at least one event type "
                              "(e.g. shipment.* or shipment.eta_changed)", "event_types")
        bad = catalogue.invalid_patterns(patterns)
        if bad:
            raise DomainError("event_type_unknown", f"unknown event type(s): {', '.join(bad)}; "
                              "see GET /webhooks/event-types", "event_types")

    # --- commands --------------------------------------------------------------------------

    def get(self, subscription_id: uuid.UUID) -> WebhookSubscription:
        sub: Any
        try:
            sub = self.store.repository.get(subscription_id)
        except AggregateNotFoundError:
            sub = None
        if not isinstance(sub, WebhookSubscription) or sub.deleted:
            raise NotFound("subscription_not_found", f"no subscription {subscription_id}")
        return sub

    def _save(self, sub: WebhookSubscription) -> int:
        """Save, with the request's idempotency record (if it has a key) in the same save."""
        recordings = idempotency.save(self.store, [sub], sub, self.idempotency)
        return recordings[-1].notification.id if recordings else 0

    def _check_key(self) -> None:
        """A retried request with the same key is answered before a secret is written."""
        if self.idempotency is not None:
            self.idempotency.check(self.store)

    def create(self, meta: EventMeta, url: str, description: str, event_types: list[str],
               customer_id: str | None, enabled: bool) -> tuple[WebhookSubscription, str, int]:
        self._check_key()
        self.check_url(url)
        self.check_types(event_types)
        secret, secret_id = signing.new_secret(), str(uuid.uuid4())
        sub = WebhookSubscription.create(meta, url, description, event_types, customer_id,
                                         enabled, secret_id)
        with self.engine.begin() as conn:
            conn.execute(webhook_secrets.insert().values(
                id=secret_id, subscription_id=str(sub.id), secret=self.box.seal(secret),
                created_at=self.clock(), expires_at=None))
        return sub, secret, self._save(sub)

    def update(self, subscription_id: uuid.UUID, meta: EventMeta,
               fields: dict[str, Any]) -> tuple[WebhookSubscription, int]:
        sub = self.get(subscription_id)
        if "url" in fields:
            self.check_url(fields["url"])
        if "event_types" in fields:
            self.check_types(fields["event_types"])
        enabled = fields.pop("enabled", None)
        sub.update(meta, **fields)
        if enabled is not None:
            sub.set_enabled(enabled, meta)
        return sub, self._save(sub)

    def delete(self, subscription_id: uuid.UUID, meta: EventMeta) -> int:
        sub = self.get(subscription_id)
        sub.delete(meta)
        return self._save(sub)  # the dispatcher cancels its pending deliveries

    def rotate_secret(self, subscription_id: uuid.UUID, meta: EventMeta,
                      grace_s: float | None) -> tuple[str, datetime, int]:
        self._check_key()
        sub = self.get(subscription_id)
        now = self.clock()
        until = now + timedelta(seconds=self.settings.webhook_secret_grace_s
                                if grace_s is None else grace_s)
        secret, secret_id = signing.new_secret(), str(uuid.uuid4())
        t = webhook_secrets
        with self.engine.begin() as conn:
            conn.execute(update(t).where(t.c.subscription_id == str(sub.id),
                                         (t.c.expires_at.is_(None)) | (t.c.expires_at > until))
                         .values(expires_at=until))
            conn.execute(t.insert().values(id=secret_id, subscription_id=str(sub.id),
                                           secret=self.box.seal(secret), created_at=now,
                                           expires_at=None))
        sub.rotate_secret(meta, secret_id, until.isoformat())
        return secret, until, self._save(sub)

    def wait_applied(self, position: int, timeout_s: float = 5.0) -> bool:
        """Wait until the dispatcher has applied the log up to ``position``."""
        deadline = time.monotonic() + timeout_s
        while True:
            with self.engine.connect() as conn:
                if dispatcher.position(conn) >= position:
                    return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)

    # --- reads -----------------------------------------------------------------------------

    def secrets(self, subscription_id: uuid.UUID) -> list[dict[str, Any]]:
        t = webhook_secrets
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(
                select(t.c.id, t.c.created_at, t.c.expires_at)
                .where(t.c.subscription_id == str(subscription_id))
                .order_by(t.c.created_at))]

    def list_subscriptions(self, customer_id: str | None = None) -> list[dict[str, Any]]:
        q = select(S).where(S.c.deleted.is_(False)).order_by(S.c.created_at)
        if customer_id:
            q = q.where(S.c.customer_id == customer_id)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

    def health(self, subscription_id: uuid.UUID) -> dict[str, Any]:
        with self.engine.connect() as conn:
            row = conn.execute(select(S.c.failing_since, S.c.last_success_at)
                               .where(S.c.id == str(subscription_id))).first()
            pending = conn.execute(select(func.count()).where(
                D.c.subscription_id == str(subscription_id),
                D.c.status.in_(("pending", "sending", "waiting")))).scalar()
        return {"failing_since": row.failing_since if row else None,
                "last_success_at": row.last_success_at if row else None,
                "pending_deliveries": pending or 0}

    def deliveries(self, subscription_id: uuid.UUID, status: str | None, limit: int,
                   before: int | None) -> list[dict[str, Any]]:
        q = (select(D).where(D.c.subscription_id == str(subscription_id))
             .order_by(D.c.id.desc()).limit(limit))
        if status:
            q = q.where(D.c.status == status)
        if before:
            q = q.where(D.c.id < before)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

    def delivery(self, delivery_id: int) -> dict[str, Any]:
        A, M = webhook_attempts, webhook_messages
        with self.engine.connect() as conn:
            row = conn.execute(select(D, M.c.body).join(M, M.c.id == D.c.message_id)
                               .where(D.c.id == delivery_id)).first()
            if row is None:
                raise NotFound("delivery_not_found", f"no delivery {delivery_id}")
            attempts = [dict(r._mapping) for r in conn.execute(
                select(A).where(A.c.delivery_id == delivery_id).order_by(A.c.attempt))]
        return {**dict(row._mapping), "attempt_log": attempts}

    def retry(self, delivery_id: int) -> dict[str, Any]:
        """Send a delivery again now (one more attempt; dead again if it fails)."""
        current = self.delivery(delivery_id)
        if current["status"] == "sending":
            raise DomainError("delivery_in_flight", "the delivery is being sent right now")
        with self.engine.begin() as conn:
            conn.execute(update(D).where(D.c.id == delivery_id, D.c.status != "sending")
                         .values(status="pending", next_attempt_at=self.clock(),
                                 max_attempts=current["attempts"] + 1, finished_at=None))
        return self.delivery(delivery_id)

    def replay(self, subscription_id: uuid.UUID, from_position: int | None,
               from_time: datetime | None) -> dict[str, Any]:
        self.get(subscription_id)
        if from_position is None:
            from_position = self.position_at(from_time) if from_time else 1
        created, upto = dispatcher.replay(self.store, self.engine, str(subscription_id),
                                          from_position, self.clock())
        return {"subscription_id": str(subscription_id), "from_position": from_position,
                "to_position": upto, "deliveries": created}

    def position_at(self, when: datetime) -> int:
        """The first log position recorded at or after ``when`` (binary search by id)."""
        recorder = self.store.recorder
        lo, hi = 1, (recorder.max_notification_id() or 0) + 1
        while lo < hi:
            mid = (lo + hi) // 2
            found = recorder.select_notifications(start=mid, limit=1)
            if not found:
                hi = mid
                continue
            event: Any = self.store.mapper.to_domain_event(found[0])
            if event.timestamp >= when:
                hi = mid
            else:
                lo = found[0].id + 1
        return lo
