"""The WebhookSubscription aggregate: who subscribed which URL to what, and every change since.

A subscription is event-sourced in the same store (and so the same notification log) as the
shipments, for two reasons:

- **Audit.** Subscribing a URL to a customer's shipments hands their data out; who did it,
  when, and who changed, rotated, disabled or deleted it is history an auditor asks for.
- **Order.** The dispatcher keeps ``webhook_subscriptions`` from these events in the same
  transaction as its position, so an event is matched against exactly the subscriptions
  that existed before it in the log: no race between "subscribe" and "first event".

A subscription **disabled by the sender** (410 Gone, or failing for too long) is the event
``Disabled`` with ``meta.source = system``: the fact is recorded, audited, and reaches other
subscribers as ``webhook.subscription_disabled``.

Secrets are never in an event (the log is forever): a rotation records the new secret's id.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import Aggregate

from shipflow.events.common import EventMeta, InvalidTransition
from shipflow.events.topics import Stream

#: Topic prefix of these events in the notification log.
#: The stream of subscription events (this module has never moved).
SUBSCRIPTION = Stream(__name__)

#: Fields a PATCH may change.
EDITABLE = ("url", "description", "event_types", "customer_id")


class WebhookSubscription(Aggregate):
    class Created(Aggregate.Created):
        meta: EventMeta
        url: str
        description: str
        event_types: list[str]
        customer_id: str | None
        enabled: bool
        secret_id: str

    def __init__(self, meta: EventMeta, url: str, description: str, event_types: list[str],
                 customer_id: str | None, enabled: bool, secret_id: str) -> None:
        self.url = url
        self.description = description
        self.event_types = list(event_types)
        self.customer_id = customer_id
        self.enabled = enabled
        self.disabled_reason: str | None = None if enabled else "disabled_by_user"
        self.secret_ids = [secret_id]
        self.deleted = False
        self.created_by = meta.actor

    @classmethod
    def create(cls, meta: EventMeta, url: str, description: str, event_types: list[str],
               customer_id: str | None, enabled: bool, secret_id: str) -> WebhookSubscription:
        return cls._create(cls.Created, meta=meta, url=url, description=description,
                           event_types=list(event_types), customer_id=customer_id,
                           enabled=enabled, secret_id=secret_id)

    # --- events ----------------------------------------------------------------------------

    class Updated(Aggregate.Event):
        meta: EventMeta
        changes: dict[str, Any]  # field → new value

        def apply(self, s: WebhookSubscription) -> None:
            for name, value in self.changes.items():
                setattr(s, name, value)

    class SecretRotated(Aggregate.Event):
        meta: EventMeta
        secret_id: str
        previous_valid_until: str  # ISO time the previous secret(s) stop signing

        def apply(self, s: WebhookSubscription) -> None:
            s.secret_ids = [*s.secret_ids, self.secret_id]

    class Disabled(Aggregate.Event):
        meta: EventMeta
        reason: str  # disabled_by_user, endpoint_gone, failing_since:<time>
        detail: str

        def apply(self, s: WebhookSubscription) -> None:
            s.enabled = False
            s.disabled_reason = self.reason

    class Enabled(Aggregate.Event):
        meta: EventMeta

        def apply(self, s: WebhookSubscription) -> None:
            s.enabled = True
            s.disabled_reason = None

    class Deleted(Aggregate.Event):
        meta: EventMeta

        def apply(self, s: WebhookSubscription) -> None:
            s.deleted = True
            s.enabled = False

    # --- commands --------------------------------------------------------------------------

    def _live(self) -> None:
        if self.deleted:
            raise InvalidTransition("subscription_deleted", "the subscription was deleted")

    def update(self, meta: EventMeta, **fields: Any) -> None:
        self._live()
        changes = {k: v for k, v in fields.items()
                   if k in EDITABLE and getattr(self, k) != v}
        if changes:
            self.trigger_event(self.Updated, meta=meta, changes=changes)

    def set_enabled(self, enabled: bool, meta: EventMeta, reason: str = "disabled_by_user",
                    detail: str = "") -> bool:
        """Enable or disable; returns False (and records nothing) when already so."""
        self._live()
        if enabled == self.enabled:
            return False
        if enabled:
            self.trigger_event(self.Enabled, meta=meta)
        else:
            self.trigger_event(self.Disabled, meta=meta, reason=reason, detail=detail)
        return True

    def rotate_secret(self, meta: EventMeta, secret_id: str, previous_valid_until: str) -> None:
        self._live()
        self.trigger_event(self.SecretRotated, meta=meta, secret_id=secret_id,
                           previous_valid_until=previous_valid_until)

    def delete(self, meta: EventMeta) -> None:
        self._live()
        self.trigger_event(self.Deleted, meta=meta)

    def as_dict(self) -> dict[str, Any]:
        return {"id": str(self.id), "url": self.url, "description": self.description,
                "event_types": list(self.event_types), "customer_id": self.customer_id,
                "enabled": self.enabled, "disabled_reason": self.disabled_reason,
                "version": self.version, "created_at": self.created_on,
                "updated_at": self.modified_on}
