"""Prometheus metrics: what an operator watches (``GET /metrics``, docs/deployment.md).

Counters of what happens (requests, commands, webhook attempts, breaches recorded) live in
this process and only go up; what *is* (view lag, webhook backlog, timers due) is read from
the database at scrape time by :class:`StateCollector`, so every process reports the same
truth whichever of them runs the loops.

Labels are bounded: route templates (never raw paths), command names (the event a command
recorded first), outcomes, view names, offices, timer kinds, subscription ids.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

REQUESTS = Counter("shipflow_http_requests", "HTTP requests answered",
                   ["method", "route", "status"], registry=None)
LATENCY = Histogram("shipflow_http_request_duration_seconds", "Time to answer a request",
                    ["method", "route"], registry=None,
                    buckets=(.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))
COMMANDS = Counter("shipflow_commands", "Commands by what they recorded first and outcome "
                   "(ok, nothing, refused, replayed, concurrent_write)",
                   ["aggregate", "command", "outcome"], registry=None)
CONFLICTS = Counter("shipflow_command_conflicts", "Saves that lost a race to another "
                    "process and were tried again", ["aggregate", "command"], registry=None)
WEBHOOK_ATTEMPTS = Counter("shipflow_webhook_attempts", "Webhook delivery attempts by "
                           "outcome (success, failure, timeout, refused, gone)", ["outcome"],
                           registry=None)
BREACHES = Counter("shipflow_sla_breaches_recorded", "SLA breaches this process recorded",
                   ["kind"], registry=None)
LOST_RACES = Counter("shipflow_follower_lost_races", "Batches a follower of the log "
                     "dropped because another process moved its position first",
                     ["follower"], registry=None)

PROCESS_METRICS = (REQUESTS, LATENCY, COMMANDS, CONFLICTS, WEBHOOK_ATTEMPTS, BREACHES,
                   LOST_RACES)

#: Loops this process runs: name → liveness check (filled by ``workers.py``).
LOOPS: dict[str, Callable[[], bool]] = {}
_loops_lock = threading.Lock()


def register_loop(name: str, alive: Callable[[], bool]) -> None:
    with _loops_lock:
        LOOPS[name] = alive


class StateCollector(Collector):
    """Gauges read from the read-model database and the event store when scraped."""

    def __init__(self, read_models: Any, clock: Callable[[], datetime] | None = None) -> None:
        self.read_models = read_models
        self.clock = clock or (lambda: datetime.now(UTC))

    def collect(self) -> Iterable[Metric]:
        yield from self._views()
        yield from self._webhooks()
        yield from self._timers()
        loops = GaugeMetricFamily("shipflow_loop_running", "Loops running in this process "
                                  "(1: alive)", labels=["loop"])
        with _loops_lock:
            for name, alive in sorted(LOOPS.items()):
                loops.add_metric([name], 1.0 if alive() else 0.0)
        yield loops

    def _views(self) -> Iterable[Metric]:
        rm = self.read_models
        position = GaugeMetricFamily("shipflow_projection_position", "Last log position "
                                     "applied", labels=["view"])
        lag = GaugeMetricFamily("shipflow_projection_lag_events", "Events recorded but not "
                                "yet applied", labels=["view"])
        seconds = GaugeMetricFamily("shipflow_projection_lag_seconds", "Age of the oldest "
                                    "event not yet applied (0: caught up)", labels=["view"])
        for status in rm.status():
            position.add_metric([status.name], status.position)
            lag.add_metric([status.name], status.lag)
            seconds.add_metric([status.name], self._age(status.position) if status.lag else 0)
        yield from (position, lag, seconds)

    def _age(self, position: int) -> float:
        store = self.read_models.store
        [first] = store.recorder.select_notifications(start=position, limit=1,
                                                      inclusive_of_start=False) or [None]
        if first is None:
            return 0.0
        event: Any = store.mapper.to_domain_event(first)
        return max((self.clock() - event.timestamp).total_seconds(), 0.0)

    def _webhooks(self) -> Iterable[Metric]:
        from shipflow.webhooks.tables import webhook_deliveries as d

        backlog = GaugeMetricFamily("shipflow_webhook_backlog", "Deliveries not yet "
                                    "delivered (pending, waiting, sending)",
                                    labels=["subscription"])
        with self.read_models.engine.connect() as conn:
            rows = conn.execute(select(d.c.subscription_id, func.count()).where(
                d.c.status.in_(("pending", "waiting", "sending"))).group_by(d.c.subscription_id))
            for subscription, count in rows:
                backlog.add_metric([subscription], count)
        yield backlog

    def _timers(self) -> Iterable[Metric]:
        from shipflow.projections.sla import tables as sla_tables

        due = GaugeMetricFamily("shipflow_sla_timers_due", "Open SLA timers past their due "
                                "time (the ticker will record them)", labels=["kind", "office"])
        breached = GaugeMetricFamily("shipflow_sla_timers_breached", "SLA timers breached",
                                     labels=["kind", "office"])
        with self.read_models.engine.connect() as conn:
            t = sla_tables.active(conn).sla_timers
            now = self.clock()
            for state, family, extra in (("open", due, [t.c.due_at < now]),
                                         ("breached", breached, [])):
                rows = conn.execute(select(t.c.kind, t.c.office, func.count()).where(
                    t.c.state == state, *extra).group_by(t.c.kind, t.c.office))
                for kind, office, count in rows:
                    family.add_metric([kind, office], count)
        yield from (due, breached)


def registry_for(read_models: Any) -> CollectorRegistry:
    """One registry per app: this process's counters and the state read from its database."""
    registry = CollectorRegistry(auto_describe=True)
    for metric in PROCESS_METRICS:
        registry.register(metric)
    registry.register(StateCollector(read_models))
    return registry


def exposition(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)
