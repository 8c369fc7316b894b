"""Webhook tables (SQLAlchemy Core, on the read models' MetaData; migration ``0002``).

- ``webhook_subscriptions``: the current state of each :class:`WebhookSubscription`
  aggregate, written by the dispatcher from the subscription's events **in the same
  transaction as its position**, so an event at log position *p* is matched against exactly
  the subscriptions that existed before *p*; plus the sender's failure bookkeeping.
- ``webhook_secrets``: signing secrets. Key material, not facts: never in an event. A rotated-out
  secret keeps signing until ``expires_at`` (the grace period). Encrypted at rest
  (:mod:`shipflow.webhooks.secretbox`; migration ``0005``).
- ``webhook_messages``: the exact JSON body of each message (one per event and webhook type),
  so every retry and replay sends the same bytes under the same ``webhook-id``.
- ``webhook_deliveries``: one per (message, subscription), live or replayed; ``id`` orders
  them, and for one subscription and subject (shipment / account) they are sent in that order.
- ``webhook_attempts``: every POST: status code, latency, an excerpt of the response, error.
- ``webhook_tracking``: the dispatcher's position in the notification log (moved by CAS).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from shipflow.database import UtcDateTime, metadata

webhook_subscriptions = Table(
    "webhook_subscriptions", metadata,
    Column("id", String(36), primary_key=True),
    Column("url", Text, nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("event_types", JSON, nullable=False),  # ["shipment.*", "sla.breached"]
    Column("customer_id", String(100)),  # None: every customer
    Column("enabled", Boolean, nullable=False),
    Column("disabled_reason", String(200)),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("version", Integer, nullable=False),  # the aggregate's version
    Column("position", BigInteger, nullable=False),  # log position of that version
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("failing_since", UtcDateTime()),  # first failure since the last success
    Column("last_success_at", UtcDateTime()),
)

webhook_secrets = Table(
    "webhook_secrets", metadata,
    Column("id", String(36), primary_key=True),
    Column("subscription_id", String(36), nullable=False),
    Column("secret", Text, nullable=False),  # fernet:<token> of whsec_<base64>
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime()),  # None: current
    Index("ix_webhook_secrets_subscription", "subscription_id"),
)

webhook_messages = Table(
    "webhook_messages", metadata,
    Column("id", String(40), primary_key=True),  # msg_<hex>: the webhook-id
    Column("type", String(80), nullable=False),
    Column("subject", String(36), nullable=False),  # shipment or account id
    Column("customer_id", String(100)),
    Column("position", BigInteger, nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Index("ix_webhook_messages_position", "position"),
)

webhook_deliveries = Table(
    "webhook_deliveries", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=True),
    Column("subscription_id", String(36), nullable=False),
    Column("message_id", String(40), nullable=False),
    Column("type", String(80), nullable=False),
    Column("subject", String(36), nullable=False),
    Column("position", BigInteger, nullable=False),
    Column("origin", String(10), nullable=False),  # live, replay
    # pending → sending → succeeded | dead; back to pending on a retryable failure
    Column("status", String(10), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("max_attempts", Integer),  # None: the retry schedule's length
    Column("next_attempt_at", UtcDateTime(), nullable=False),
    Column("lease_until", UtcDateTime()),  # while sending: reclaimed after a crash
    Column("last_status_code", Integer),
    Column("last_error", Text),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("finished_at", UtcDateTime()),
    Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    Index("ix_webhook_deliveries_order", "subscription_id", "subject", "status", "id"),
    Index("ix_webhook_deliveries_message", "message_id"),
)

webhook_attempts = Table(
    "webhook_attempts", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=True),
    Column("delivery_id", BigInteger, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("latency_ms", Integer, nullable=False),
    Column("status_code", Integer),
    Column("outcome", String(20), nullable=False),  # success, failure, timeout, refused, gone
    Column("error", Text),
    Column("response_excerpt", Text),
    Index("ix_webhook_attempts_delivery", "delivery_id", "attempt"),
)

webhook_tracking = Table(
    "webhook_tracking", metadata,
    Column("name", String(40), primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("updated_at", UtcDateTime()),
)
