"""The event store: the ``eventsourcing`` library's core SQLite or PostgreSQL persistence.

One :class:`Shipflow` application holds every aggregate, so all events share one
notification log (a total order) that projections and webhooks follow.
"""

from __future__ import annotations

import threading
from typing import Any

from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder, Recording

from shipflow.config import Settings
from shipflow.events.shipment import Shipment
from shipflow.events.transcodings import register_domain_transcodings


class Shipflow(Application):
    name = "shipflow"  # PostgreSQL tables: shipflow_events, shipflow_snapshots
    snapshotting_intervals = {Shipment: 50}

    def __init__(self, env: dict[str, str] | None = None, snapshot_interval: int = 50) -> None:
        super().__init__(env)
        # Per instance, so tests and benchmarks can choose an interval.
        self.snapshotting_intervals = {Shipment: snapshot_interval}
        #: Set whenever this process saves events: runners in this process wake up at once.
        self.saved = threading.Event()

    def _notify(self, recordings: list[Recording[Any]]) -> None:
        self.saved.set()

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_domain_transcodings(transcoder)


def open_store(settings: Settings, **env: Any) -> Shipflow:
    """Open (and on first use create) the event store the settings point at."""
    store_env = settings.event_store_env()
    if settings.is_postgres and settings.database_schema != "public":
        _create_schema(store_env, settings.database_schema)
    store_env.update({k: str(v) for k, v in env.items()})
    return Shipflow(env=store_env, snapshot_interval=settings.snapshot_interval)


def _create_schema(env: dict[str, str], schema: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(dbname=env["POSTGRES_DBNAME"], host=env["POSTGRES_HOST"],
                         port=env["POSTGRES_PORT"], user=env["POSTGRES_USER"],
                         password=env["POSTGRES_PASSWORD"] or None, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
