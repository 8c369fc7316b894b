"""The event store is append-only and the database enforces it (``shipflow.append_only``):
every UPDATE, DELETE and TRUNCATE of the event and snapshot tables is refused, on PostgreSQL
and on SQLite, while saving events and taking snapshots (the library's INSERTs) go on."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent
from psycopg import sql

from factories import confirmation, meta, order
from shipflow import append_only
from shipflow.migrations import upgrade
from shipflow.services.shipments import ShipmentService
from tamper import guard_lifted

#: What may never happen to a stored event or snapshot (``{t}``: the table).
POSTGRES_FORBIDDEN = {
    "update": "UPDATE {t} SET topic = topic",
    "update no row": "UPDATE {t} SET topic = topic WHERE false",
    "delete": "DELETE FROM {t}",
    "delete one": "DELETE FROM {t} WHERE originator_version = (SELECT min(originator_version) "
                  "FROM {t})",
    "truncate": "TRUNCATE {t}",
    "upsert": "INSERT INTO {t} (originator_id, originator_version, topic, state) SELECT "
              "originator_id, originator_version, topic, state FROM {t} ON CONFLICT "
              "(originator_id, originator_version) DO UPDATE SET state = excluded.state",
}
SQLITE_FORBIDDEN = {
    "update": "UPDATE {t} SET topic = topic",
    "delete": "DELETE FROM {t}",  # SQLite's TRUNCATE
    "delete one": "DELETE FROM {t} WHERE originator_version = (SELECT min(originator_version) "
                  "FROM {t})",
    "replace": "INSERT OR REPLACE INTO {t} SELECT * FROM {t}",
    "upsert": "INSERT INTO {t} SELECT * FROM {t} WHERE true ON CONFLICT (originator_id, "
              "originator_version) DO UPDATE SET state = excluded.state",
}


@pytest.fixture
def service(migrated):
    """A store with the guard on (``migrated`` ran ``upgrade``), a snapshot every 2 events."""
    svc = ShipmentService.from_settings(migrated.model_copy(update={"snapshot_interval": 2}))
    yield svc
    svc.close()


def shipment_with_snapshots(service: ShipmentService) -> Any:
    sid = service.request_booking(order(), meta()).shipment_id
    service.review(sid, [], meta())
    service.confirm_by_carrier(sid, confirmation(), meta())  # version 3; snapshot at 2
    service.store.take_snapshot(sid)  # and at 3
    return sid


class Tables:
    """The two tables, read and written with the database's own driver."""

    def __init__(self, settings) -> None:
        self.settings = settings
        if settings.is_postgres:
            self.names = {"events": f'"{settings.database_schema}".shipflow_events',
                          "snapshots": f'"{settings.database_schema}".shipflow_snapshots'}
        else:
            self.names = {"events": "stored_events", "snapshots": "stored_snapshots"}

    def forbidden(self) -> dict[str, str]:
        return POSTGRES_FORBIDDEN if self.settings.is_postgres else SQLITE_FORBIDDEN

    def execute(self, statement: str) -> None:
        if self.settings.is_postgres:
            with psycopg.connect(self.settings.database_url) as conn:
                conn.execute(sql.SQL(statement))  # type: ignore[arg-type]
            return
        with closing(sqlite3.connect(self.settings.event_store_path)) as conn, conn:
            conn.execute(statement)

    def rows(self, table: str) -> list[tuple]:
        query = (f"SELECT originator_id, originator_version, topic, state FROM {table} "  # noqa: S608
                 "ORDER BY originator_id, originator_version")
        if self.settings.is_postgres:
            with psycopg.connect(self.settings.database_url) as conn:
                return [(i, v, t, bytes(s)) for i, v, t, s in conn.execute(query)]
        with closing(sqlite3.connect(self.settings.event_store_path)) as conn:
            return conn.execute(query).fetchall()

    def refusal(self) -> Any:
        if self.settings.is_postgres:  # SQLSTATE 42501, with the hint how to lift it
            return pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only")
        return pytest.raises(sqlite3.IntegrityError, match="append-only")


@pytest.mark.parametrize("kind", ["events", "snapshots"])
def test_every_change_to_a_stored_event_or_snapshot_is_refused(service, migrated, kind):
    shipment_with_snapshots(service)
    tables = Tables(migrated)
    table = tables.names[kind]
    before = tables.rows(table)
    assert len(before) >= (2 if kind == "snapshots" else 3)
    for name, statement in tables.forbidden().items():
        with tables.refusal():
            tables.execute(statement.format(t=table))
            pytest.fail(f"{name} passed")
        assert tables.rows(table) == before, name


def test_the_refusal_names_the_table_and_how_an_operator_lifts_it(service, migrated):
    shipment_with_snapshots(service)
    tables = Tables(migrated)
    if not migrated.is_postgres:  # SQLite triggers carry a message only
        with pytest.raises(sqlite3.IntegrityError) as refused:
            tables.execute("DELETE FROM stored_events")
        assert str(refused.value) == "stored_events is append-only: DELETE refused (shipflow)"
        return
    with pytest.raises(psycopg.errors.InsufficientPrivilege) as refused:
        tables.execute("DELETE FROM {}".format(tables.names["events"]))
    assert refused.value.diag.message_primary == (
        f"shipflow: {migrated.database_schema}.shipflow_events is append-only; DELETE refused")
    assert "DISABLE TRIGGER shipflow_append_only" in refused.value.diag.message_hint


def test_saves_snapshots_and_conflicts_work_as_before(service, migrated):
    """The library's own writes are INSERTs (events, and each snapshot as a new row at its
    version): they pass. A save at a taken version is still a conflict (IntegrityError),
    which the service's retry and 412 rely on."""
    sid = shipment_with_snapshots(service)
    tables = Tables(migrated)
    assert [r[1] for r in tables.rows(tables.names["snapshots"]) if r[0] in (sid, sid.hex)] == [
        2, 3]
    for n in range(3):  # more events, and an automatic snapshot at 4
        service.confirm_by_carrier(sid, confirmation(carrier_booking_no=f"25500000{n}"), meta())
    assert service.get(sid).version == 6
    assert [r[1] for r in tables.rows(tables.names["snapshots"]) if r[0] in (sid, sid.hex)] == [
        2, 3, 4, 6]
    with pytest.raises(IntegrityError):
        service.store.recorder.insert_events([StoredEvent(
            originator_id=sid, originator_version=1, topic="x:Y", state=b"{}")])


def test_installing_again_changes_nothing_and_enables_a_disabled_guard(service, migrated):
    shipment_with_snapshots(service)
    assert upgrade(migrated) == []
    tables = Tables(migrated)
    with guard_lifted(migrated):  # the operator's repair: changes pass while it is lifted
        tables.execute("UPDATE {} SET topic = topic".format(tables.names["events"]))
        if migrated.is_postgres:
            assert set(append_only.postgres_status(migrated).values()) == {"off"}
            changed = upgrade(migrated)  # an upgrade (an API start) puts it back
            assert len(changed) == 2 and all("enabled again" in c for c in changed)
            assert set(append_only.postgres_status(migrated).values()) == {"on"}
    with tables.refusal():
        tables.execute("UPDATE {} SET topic = topic".format(tables.names["events"]))
