"""Subscription events as webhook types: only the disabling is news to other subscribers."""

from __future__ import annotations

from typing import Any

from shipflow.webhooks.catalogue import EventType, Source
from shipflow.webhooks.subscription import SUBSCRIPTION


def _disabled(e: Any, s: Any) -> dict[str, Any]:
    return {"subscription_id": str(s.id), "url": s.url, "reason": e.reason,
            "detail": e.detail, "disabled_by": e.meta.actor}


SOURCE = Source(
    name="webhook", stream=SUBSCRIPTION, subject_field="subscription_id",
    table={"Disabled": ("webhook.subscription_disabled", _disabled)},
    customer=lambda s: s.customer_id,
    types=(EventType("webhook.subscription_disabled",
                     "a subscription was disabled: by a user, because its endpoint answered "
                     "410 Gone, or because its deliveries kept failing", "webhook"),))
