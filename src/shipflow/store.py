"""The event store: the ``eventsourcing`` library's core SQLite or PostgreSQL persistence.

One :class:`Shipflow` application holds every aggregate, so all events share one
notification log (a total order) that projections and webhooks follow.
"""

from __future__ import annotations

import threading
from importlib import import_module
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import EventStore, JSONTranscoder, Mapper, Recording
from eventsourcing.postgres import PostgresDatastore

from shipflow.audit.chain import ChainedEventStore, ChainHeads, ChainingMapper
from shipflow.config import Settings
from shipflow.events.account.aggregate import CustomerAccount
from shipflow.events.shipment.aggregate import Shipment
from shipflow.events.topics import register_moved_topics
from shipflow.events.transcodings import register_domain_transcodings
from shipflow.outages import gate_postgres

# Rows written before a class moved name it by its old topic (see shipflow.events.topics);
# the idempotency records, which the store holds too, register theirs on import.
register_moved_topics()
import_module("shipflow.services.idempotency")


class Shipflow(Application):
    name = "shipflow"  # PostgreSQL tables: shipflow_events, shipflow_snapshots
    # An account's state grows with its documents: fewer, larger snapshots.
    snapshotting_intervals = {Shipment: 50, CustomerAccount: 1000}

    def __init__(self, env: dict[str, str] | None = None, snapshot_interval: int = 50) -> None:
        self.chain_heads = ChainHeads()
        super().__init__(env)
        # Per instance, so tests and benchmarks can choose an interval.
        self.snapshotting_intervals = {  # type: ignore[misc]  # per instance, on purpose
            Shipment: snapshot_interval, CustomerAccount: max(snapshot_interval, 1000)}
        self._wakers: list[threading.Event] = []

    def waker(self) -> threading.Event:
        """An event of one's own, set whenever this process saves events (or someone calls
        :meth:`wake_all`): each follower of the log waits on and clears its own."""
        event = threading.Event()
        self._wakers.append(event)
        return event

    def wake_all(self) -> None:
        for event in self._wakers:
            event.set()

    def _notify(self, recordings: list[Recording[Any]]) -> None:
        self.wake_all()

    def notification_id_of(self, originator_id: UUID, version: int) -> int:
        """The log position at which an aggregate's event was recorded."""
        recorder: Any = self.recorder
        query: Any
        if hasattr(recorder.datastore, "schema"):  # PostgreSQL
            from psycopg.sql import SQL, Identifier

            query = SQL("SELECT notification_id FROM {}.{} WHERE originator_id = %s AND "
                        "originator_version = %s").format(
                Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name))
            params: tuple[Any, ...] = (originator_id, version)
        else:
            query = (f"SELECT rowid FROM {recorder.events_table_name} "  # noqa: S608
                     "WHERE originator_id = ? AND originator_version = ?")
            params = (originator_id.hex, version)
        with recorder.datastore.transaction(commit=False) as cursor:
            cursor.execute(query, params)
            row = cursor.fetchone()
        return int(next(iter(row.values())) if isinstance(row, dict) else row[0])

    # Every event is saved through the event store, whoever saves it: chaining there (and
    # reading the chain back out in the mapper) covers every stream (shipflow.audit.chain).
    def construct_mapper(self) -> Mapper[UUID]:
        return ChainingMapper(transcoder=self.construct_transcoder(), heads=self.chain_heads)

    def construct_event_store(self) -> EventStore[UUID]:
        return ChainedEventStore(self.mapper, self.recorder, self.chain_heads)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_domain_transcodings(transcoder)


def open_store(settings: Settings, **env: Any) -> Shipflow:
    """Open (and on first use create) the event store the settings point at. On PostgreSQL
    its connections pass a gate that fails fast while the server is unreachable
    (:mod:`shipflow.outages`)."""
    store_env = settings.event_store_env()
    if settings.is_postgres and settings.database_schema != "public":
        _create_schema(store_env, settings.database_schema)
    store_env.update({k: str(v) for k, v in env.items()})
    store = Shipflow(env=store_env, snapshot_interval=settings.snapshot_interval)
    datastore = getattr(store.factory, "datastore", None)
    if isinstance(datastore, PostgresDatastore):
        gate_postgres(datastore)
    return store


def _create_schema(env: dict[str, str], schema: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(dbname=env["POSTGRES_DBNAME"], host=env["POSTGRES_HOST"],
                         port=env["POSTGRES_PORT"], user=env["POSTGRES_USER"],
                         password=env["POSTGRES_PASSWORD"] or None, autocommit=True,
                         connect_timeout=5) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
