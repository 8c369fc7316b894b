"""The SLA ticker: records ``SlaBreached`` on a shipment when one of its timers passes its due
time unmet.

The ``sla`` view only says *where to look* (open timers due by now, in its active slot); it
may lag the event store. So for each shipment the ticker folds the shipment's history with
:class:`SlaProjection` and records a breach only for timers that the fold says are still
open and due, with ``expected_version`` = the version it folded. If anything was written in
between (another ticker, a CS rep meeting the timer), the write is refused with
``VersionConflict`` and the ticker folds the fresh history and checks again. Together with
the aggregate's own once-per-timer-key rule, two tickers racing record one breach per timer.

The clock is injected: tests drive it and call :meth:`Ticker.tick`; nothing sleeps.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import Engine

from shipflow import metrics
from shipflow.events.common import EventMeta, NotFound, Source, VersionConflict
from shipflow.projections.engine.base import fold
from shipflow.projections.sla import rows
from shipflow.projections.sla import tables as sla_tables
from shipflow.projections.sla.config import DEFAULT_CONFIG, SlaConfig
from shipflow.projections.sla.timers import OPEN, SlaProjection, SlaTimer, SlaView
from shipflow.services.shipments import ShipmentService

log = logging.getLogger("shipflow.projections.sla")

ACTOR = "sla-ticker"


@dataclass(frozen=True)
class Breach:
    """A breach this ticker recorded."""

    shipment_id: UUID
    timer: str
    kind: str
    started_at: datetime
    due_at: datetime
    version: int  # the shipment's version after the SlaBreached event


def _now() -> datetime:
    return datetime.now(UTC)


class Ticker:
    def __init__(self, service: ShipmentService, engine: Engine,
                 config: SlaConfig = DEFAULT_CONFIG,
                 clock: Callable[[], datetime] = _now, *, batch_size: int = 1000,
                 attempts: int = 2) -> None:
        self.service = service
        self.engine = engine
        self.projection = SlaProjection(config)
        self.clock = clock
        self.batch_size = batch_size
        self.attempts = attempts

    def due(self, now: datetime) -> list[UUID]:
        """Shipments the view says have an open timer due by ``now`` (earliest first)."""
        with self.engine.connect() as conn:
            found = rows.due_open(conn, sla_tables.active(conn), now, self.batch_size)
        return list(dict.fromkeys(sid for sid, _ in found))

    def tick(self) -> list[Breach]:
        """Record every breach due by the clock's now; returns the ones this ticker wrote."""
        now = self.clock()
        recorded: list[Breach] = []
        for sid in self.due(now):
            try:
                recorded += self.check(sid, now)
            except NotFound:
                log.warning("SLA view names shipment %s, which the event store lacks", sid)
            except Exception:
                log.exception("SLA check of shipment %s failed; next tick retries", sid)
        return recorded

    def check(self, shipment_id: UUID, now: datetime) -> list[Breach]:
        """Fold the shipment's history and record a breach for each open timer due by
        ``now``; on a concurrent write, fold again (up to ``attempts`` folds in all)."""
        recorded: list[Breach] = []
        for attempt in range(1, self.attempts + 1):
            events = self.service.history(shipment_id)
            view: SlaView | None = fold(self.projection, events)[1]
            version = events[-1].originator_version
            due = [t for t in (view.timers if view else ()) if t.state == OPEN
                   and t.due_at <= now]
            try:
                for timer in due:
                    result = self.service.record_sla_breach(
                        shipment_id, timer.key, timer.kind, timer.started_at, timer.due_at,
                        self._meta(timer, now), expected_version=version)
                    if result.events:
                        metrics.BREACHES.labels(timer.kind).inc()
                        recorded.append(Breach(shipment_id, timer.key, timer.kind,
                                               timer.started_at, timer.due_at, result.version))
                    version = result.version
                return recorded
            except VersionConflict:
                log.debug("shipment %s changed while checking its timers (attempt %s)",
                          shipment_id, attempt)
        return recorded

    @staticmethod
    def _meta(timer: SlaTimer, now: datetime) -> EventMeta:
        return EventMeta(actor=ACTOR, role="system", source=Source.SYSTEM, occurred_at=now,
                         correlation_id=f"sla:{timer.shipment_id}:{timer.key}")

    def run(self, stop_event: threading.Event, interval_s: float = 30.0) -> None:
        """Tick every ``interval_s`` seconds until ``stop_event`` is set."""
        while not stop_event.is_set():
            try:
                breaches = self.tick()
                if breaches:
                    log.info("recorded %s SLA breach(es)", len(breaches))
            except Exception:
                log.exception("SLA tick failed; retrying in %ss", interval_s)
            stop_event.wait(interval_s)
