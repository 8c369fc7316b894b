"""Webhooks: signed, retried, ordered, replayable deliveries of lifecycle events
(docs/webhooks.md)."""
