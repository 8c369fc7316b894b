"""Database outages are retryable errors, not bugs: a cut-off PostgreSQL answers 503
``database_unavailable`` with Retry-After on commands and reads, ``/health`` names the store
that is down, and the service is back as soon as the database is (a command resent with its
Idempotency-Key is written once); a full SQLite event store answers 507 ``storage_full`` and
keeps nothing of the refused request.

PostgreSQL is cut off with a TCP proxy of the test's own (``tests/tcp_proxy.py``), never by
touching the server; cutting and restoring are synchronous, so no step waits for a deadline.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing
from urllib.parse import urlsplit

import psycopg
import pytest
from eventsourcing.sqlite import SQLiteTransaction
from psycopg import sql

from factories import order_data
from keys import keyed_client
from pg import PG_URL
from shipflow.api.app import create_app
from shipflow.config import Settings
from shipflow.migrations import upgrade
from shipflow.services.shipments import ShipmentService
from tcp_proxy import TcpProxy

CS = {"X-Actor": "cs.wang", "X-Role": "cs"}
VIEWS = dict.fromkeys(("shipments", "bl_drafts", "sla", "statements", "tnt_events"), "running")


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    pg = urlsplit(PG_URL)
    with TcpProxy((pg.hostname or "127.0.0.1", pg.port or 5432)) as p:
        yield p


def through(settings: Settings, proxy: TcpProxy) -> Settings:
    """The same database and schema, reached through the proxy."""
    url = urlsplit(settings.database_url)
    return Settings(database_url=url._replace(netloc=f"{url.username}@127.0.0.1:{proxy.port}")
                    .geturl(), database_schema=settings.database_schema, run_workers=False,
                    _env_file=None)


def count_events(settings: Settings) -> int:
    with psycopg.connect(settings.database_url) as conn:
        return conn.execute(sql.SQL("SELECT count(*) FROM {}.shipflow_events").format(
            sql.Identifier(settings.database_schema))).fetchone()[0]


def assert_unavailable(r) -> None:
    assert r.status_code == 503, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"] == "urn:shipflow:problem:database_unavailable"
    assert int(r.headers["retry-after"]) > 0


@pytest.mark.postgres
def test_a_cut_off_event_store_is_503_then_back_and_a_resent_command_is_written_once(
        postgres_settings, proxy):
    direct = postgres_settings.model_copy(update={"run_workers": False})
    service = ShipmentService.from_settings(through(postgres_settings, proxy))  # events
    try:
        with keyed_client(create_app(direct, service=service)) as client:  # views direct
            sid = client.post("/shipments", json=order_data(), headers=CS).json()["shipment_id"]
            before = count_events(direct)
            resend = {**CS, "Idempotency-Key": "tms-order-778"}

            proxy.cut()
            assert_unavailable(client.post("/shipments", json=order_data(), headers=resend))
            assert_unavailable(client.post(f"/shipments/{sid}/review", json={}, headers=CS))
            assert_unavailable(client.get(f"/shipments/{sid}"))
            health = client.get("/health")
            assert health.status_code == 503
            assert int(health.headers["retry-after"]) > 0
            assert health.json() == {"status": "down", "stores": {
                "event_store": "database_unavailable", "read_models": "up"}, "views": VIEWS}
            assert count_events(direct) == before

            proxy.restore()
            assert client.get("/health").json() == {"status": "ok", "stores": {
                "event_store": "up", "read_models": "up"}, "views": VIEWS}
            assert client.get(f"/shipments/{sid}").status_code == 200
            first = client.post("/shipments", json=order_data(), headers=resend)
            assert first.status_code == 201, first.text
            again = client.post("/shipments", json=order_data(), headers=resend)
            assert again.status_code == 201
            assert again.headers["idempotent-replayed"] == "true"
            assert again.json()["shipment_id"] == first.json()["shipment_id"]
            assert count_events(direct) == before + 2  # one booking and its key's record
            assert service.store.factory.datastore.gate.renewals >= 1  # a fresh pool
    finally:
        service.close()


@pytest.mark.postgres
def test_a_cut_off_read_model_database_is_503_then_back(postgres_settings, proxy):
    service = ShipmentService.from_settings(postgres_settings)  # events direct
    try:
        app = create_app(through(postgres_settings, proxy), service=service)
        with keyed_client(app) as client:
            sid = client.post("/shipments", json=order_data(), headers=CS).json()["shipment_id"]
            assert client.get("/shipments").status_code == 200  # the search view

            proxy.cut()
            assert_unavailable(client.get("/shipments"))
            assert_unavailable(client.post(f"/shipments/{sid}/review", json={}, headers=CS))
            health = client.get("/health")
            assert health.status_code == 503
            assert health.json()["stores"] == {"event_store": "up",
                                               "read_models": "database_unavailable"}

            proxy.restore()  # the engine's pre-ping finds its connections dead and reconnects
            assert client.get("/health").status_code == 200
            assert client.get("/shipments").status_code == 200
            assert client.post(f"/shipments/{sid}/review", json={},
                               headers=CS).status_code == 200
    finally:
        service.close()


@pytest.mark.postgres
def test_a_statement_that_fails_on_a_live_connection_leaves_the_gate_up(postgres_settings):
    """Only a connection that breaks (or none to be had) takes the gate down: a lock timeout
    is the statement's own failure, and the next request goes straight to the pool."""
    from eventsourcing.persistence import OperationalError

    service = ShipmentService.from_settings(postgres_settings)
    datastore = service.store.factory.datastore
    table = sql.SQL("{}.shipflow_events").format(sql.Identifier(postgres_settings.database_schema))
    try:
        with psycopg.connect(postgres_settings.database_url) as holder:
            holder.execute(sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(table))
            # The error must leave through the datastore's own connection context.
            with pytest.raises(OperationalError, match="lock timeout"), \
                    datastore.get_connection() as conn:  # noqa: PT012
                conn.execute("SET lock_timeout = '50ms'")
                conn.execute(sql.SQL("SELECT count(*) FROM {}").format(table))
            holder.rollback()
        assert datastore.gate.down is None and datastore.gate.renewals == 0
        assert service.store.recorder.max_notification_id() is None
    finally:
        service.close()


# --- SQLite: a full event store ------------------------------------------------------------


@pytest.fixture
def full(monkeypatch) -> threading.Event:
    """While set, the event store's file may not grow: each of the library's transactions
    sets ``PRAGMA max_page_count`` (1: no larger than the file is), as a full disk would."""
    with closing(sqlite3.connect(":memory:")) as conn:
        unlimited = conn.execute("PRAGMA max_page_count").fetchone()[0]
    flag = threading.Event()
    enter = SQLiteTransaction.__enter__

    def capped(self):  # noqa: ANN001, ANN202
        cursor = enter(self)
        cursor.execute(f"PRAGMA max_page_count = {1 if flag.is_set() else unlimited}")
        return cursor

    monkeypatch.setattr(SQLiteTransaction, "__enter__", capped)
    return flag


def stored_events(settings: Settings) -> int:
    with closing(sqlite3.connect(settings.event_store_path)) as conn:
        return conn.execute("SELECT count(*) FROM stored_events").fetchone()[0]


def test_a_full_sqlite_event_store_is_507_and_keeps_nothing_half_written(sqlite_settings, full):
    settings = sqlite_settings.model_copy(update={"run_workers": False})
    ShipmentService.from_settings(settings).close()
    upgrade(settings)
    with keyed_client(create_app(settings)) as client:
        sid = client.post("/shipments", json=order_data(), headers=CS).json()["shipment_id"]
        full.set()
        for n in range(200):  # the file's last page fills up, then it may not grow
            before = stored_events(settings)
            key = {**CS, "Idempotency-Key": f"booking-{n}"}
            r = client.post("/shipments", json=order_data(), headers=key)
            if r.status_code != 201:
                break
        assert r.status_code == 507, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["type"] == "urn:shipflow:problem:storage_full"
        assert stored_events(settings) == before  # neither the booking nor its key's record
        with closing(sqlite3.connect(settings.event_store_path)) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert client.get(f"/shipments/{sid}").status_code == 200  # reads go on

        full.clear()  # space freed: the refused request, resent, is recorded once
        resent = client.post("/shipments", json=order_data(), headers=key)
        assert resent.status_code == 201 and "idempotent-replayed" not in resent.headers
        assert stored_events(settings) == before + 2
        again = client.post("/shipments", json=order_data(), headers=key)
        assert again.headers["idempotent-replayed"] == "true"
        assert stored_events(settings) == before + 2
