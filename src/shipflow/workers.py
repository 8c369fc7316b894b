"""Background work of a shipflow process: the projection runner, the SLA ticker, and (on
PostgreSQL) a LISTEN connection that wakes the runner when another process saves events."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from shipflow import metrics
from shipflow.config import Settings
from shipflow.projections.engine.read_models import ReadModels
from shipflow.services.shipments import ShipmentService

log = logging.getLogger("shipflow.workers")


class Workers:
    def __init__(self, settings: Settings, service: ShipmentService,
                 read_models: ReadModels) -> None:
        self.settings = settings
        self.service = service
        self.read_models = read_models
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        wake = self.service.store.waker()
        runner = self.read_models.runner()
        self._spawn("projections", runner.run, self.stop, wake,
                    self.settings.projection_idle_wait_s)
        if self.settings.is_postgres:
            self._spawn("pg-listen", self._listen, self.service.store.wake_all)
        if self.settings.sla_tick_seconds > 0:
            from shipflow.projections.sla.config import load_sla_config
            from shipflow.projections.sla.ticker import Ticker

            ticker = Ticker(self.service, self.read_models.engine,
                            load_sla_config(self.settings))
            self._spawn("sla-ticker", ticker.run, self.stop, self.settings.sla_tick_seconds)
        if self.settings.audit_workers:
            from shipflow.audit.service import Audit

            audit = Audit(self.settings, self.service.store, self.read_models.engine)
            self._spawn("audit-log", audit.log.run, self.stop, self.service.store.waker(),
                        self.settings.projection_idle_wait_s)
        if self.settings.webhook_workers:
            from shipflow.webhooks.workers import webhook_threads

            for name, target, args in webhook_threads(self.settings, self.service.store,
                                                      self.read_models.engine, self.stop):
                self._spawn(name, target, *args)

    def _spawn(self, name: str, target: Any, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        thread.start()
        self.threads.append(thread)
        metrics.register_loop(name, thread.is_alive)

    def _listen(self, wake_all: Callable[[], None]) -> None:
        """Wake the runner on the event store's NOTIFY (sent on every insert)."""
        import psycopg

        env = self.settings.event_store_env()
        while not self.stop.is_set():
            try:
                with psycopg.connect(dbname=env["POSTGRES_DBNAME"], host=env["POSTGRES_HOST"],
                                     port=env["POSTGRES_PORT"], user=env["POSTGRES_USER"],
                                     password=env["POSTGRES_PASSWORD"] or None,
                                     autocommit=True) as conn:
                    conn.execute('LISTEN "shipflow_events"')
                    while not self.stop.is_set():
                        for _ in conn.notifies(timeout=1.0):
                            wake_all()
            except Exception:
                log.exception("LISTEN connection lost; reconnecting")
                self.stop.wait(2.0)

    def close(self, timeout_s: float = 10.0) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout_s)
