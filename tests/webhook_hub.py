"""Webhook test harness: the real store and database (SQLite and PostgreSQL), the dispatcher
and the sender driven by a fake clock, and a real HTTP receiver on loopback."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from shipflow.config import Settings
from shipflow.database import make_engine
from shipflow.events.common import EventMeta
from shipflow.services.shipments import ShipmentService
from shipflow.webhooks.dispatcher import Dispatcher
from shipflow.webhooks.policy import Policy
from shipflow.webhooks.sender import Sender
from shipflow.webhooks.service import WebhookService
from webhook_receiver import Receiver

ADMIN = EventMeta(actor="it.admin", role="admin", occurred_at=datetime(2026, 11, 20, tzinfo=UTC),
                  correlation_id="test")


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Hub:
    """Everything a webhook test drives: ``pump()`` dispatches and sends what is due."""

    def __init__(self, settings: Settings, receiver: Receiver, **policy: object) -> None:
        self.settings = settings
        self.receiver = receiver
        self.clock = Clock()
        self.service = ShipmentService.from_settings(settings)
        self.engine = make_engine(settings)
        self.hooks = WebhookService(settings, self.service.store, self.engine, self.clock)
        self.dispatcher = Dispatcher(self.service.store, self.engine, batch_size=50,
                                     clock=self.clock)
        self.policy = Policy.from_settings(settings, jitter=0.0, timeout_s=2.0, **policy)
        self.sender = Sender(self.service.store, self.engine, self.policy, self.clock)

    def subscribe(self, path: str = "/hook", types: list[str] | None = None,
                  customer: str | None = None) -> tuple[uuid.UUID, str]:
        sub, secret, _ = self.hooks.create(ADMIN, self.receiver.url(path), "test",
                                           types or ["*"], customer, True)
        self.receiver.secrets.setdefault(path, []).append(secret)
        self.dispatcher.catch_up()
        return sub.id, secret

    def pump(self) -> int:
        self.dispatcher.catch_up()
        return self.sender.drain()

    def close(self) -> None:
        self.service.close()
        self.engine.dispose()


def loopback(settings: Settings) -> Settings:
    return Settings(database_url=settings.database_url, _env_file=None,
                    database_schema=settings.database_schema,
                    webhook_allowed_networks=["127.0.0.0/8"])
