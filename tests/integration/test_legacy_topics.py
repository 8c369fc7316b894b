"""Events and snapshots stored before the layout move still decode after it, on SQLite and
PostgreSQL: the rows in ``tests/fixtures/legacy_events.json`` were written by the code of
commit e29280d, when the classes lived in ``shipflow.events.shipment_events``,
``shipflow.events.shipment``, ``shipflow.accounts.*`` and ``shipflow.idempotency``.

They are inserted as they were stored (topic and JSON state untouched), then read back with
today's classes through the repository (from their snapshots), the event log, every view and
the webhook catalogue."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from eventsourcing.persistence import StoredEvent

from shipflow.events.account.aggregate import CustomerAccount
from shipflow.events.account.events import EVENT_TYPES as ACCOUNT_EVENTS
from shipflow.events.shipment.aggregate import Shipment
from shipflow.events.shipment.events import EVENT_TYPES as SHIPMENT_EVENTS
from shipflow.projections import search
from shipflow.projections.engine.read_models import ReadModels
from shipflow.projections.statements import tables as statement_tables
from shipflow.services.idempotency import IdempotencyRecord
from shipflow.services.shipments import ShipmentService
from shipflow.webhooks import catalogue
from shipflow.webhooks.subscription import WebhookSubscription

FIXTURE = json.loads((Path(__file__).parents[1] / "fixtures" / "legacy_events.json")
                     .read_text())
OLD_MODULES = {"shipflow.events.shipment_events", "shipflow.accounts.events",
               "shipflow.idempotency", "shipflow.webhooks.subscription"}


def stored(rows: list[dict]) -> list[StoredEvent]:
    return [StoredEvent(originator_id=uuid.UUID(r["originator_id"]),
                        originator_version=r["originator_version"], topic=r["topic"],
                        state=r["state"].encode()) for r in rows]


@pytest.fixture
def legacy(migrated):
    svc = ShipmentService.from_settings(migrated)
    svc.store.recorder.insert_events(stored(FIXTURE["events"]))
    svc.store.snapshots.recorder.insert_events(stored(FIXTURE["snapshots"]))
    yield svc
    svc.close()


def test_the_fixture_holds_the_old_topics():
    assert {r["topic"].split(":")[0] for r in FIXTURE["events"]} == OLD_MODULES
    assert {json.loads(r["state"])["topic"] for r in FIXTURE["snapshots"]} == {
        "shipflow.events.shipment:Shipment", "shipflow.accounts.account:CustomerAccount"}


def test_every_old_event_decodes_as_todays_class(legacy):
    ids = dict.fromkeys(uuid.UUID(r["originator_id"]) for r in FIXTURE["events"])
    seen = set()
    for aggregate_id in ids:
        for event in legacy.store.events.get(aggregate_id):
            assert type(event).__module__.startswith(
                ("shipflow.events.", "shipflow.services.", "shipflow.webhooks.")), type(event)
            seen.add(type(event).__name__)
    assert set(SHIPMENT_EVENTS) | set(ACCOUNT_EVENTS) <= seen
    assert {"ResponseRecorded", "ResponseRecordedAgain"} <= seen


def test_aggregates_load_from_old_snapshots_equal_to_a_replay(legacy):
    loaded = {type(legacy.store.repository.get(uuid.UUID(i))) for i in
              dict.fromkeys(r["originator_id"] for r in FIXTURE["events"])}
    assert {Shipment, CustomerAccount, IdempotencyRecord, WebhookSubscription} <= loaded
    for snap in FIXTURE["snapshots"]:
        aggregate_id = uuid.UUID(snap["originator_id"])
        from_snapshot = legacy.store.repository.get(aggregate_id)
        replayed = None
        for event in legacy.store.events.get(aggregate_id):
            replayed = event.mutate(replayed)
        assert list(legacy.store.snapshots.get(aggregate_id))
        assert type(from_snapshot) is type(replayed)
        assert from_snapshot.version == replayed.version
        for attr in ("status", "order", "charges", "timeline", "bl", "customer_id", "terms",
                     "balances", "hold"):
            if hasattr(replayed, attr):
                assert getattr(from_snapshot, attr) == getattr(replayed, attr), attr


def test_views_and_webhooks_follow_the_old_topics(legacy, migrated):
    rm = ReadModels(migrated, legacy.store)
    try:
        rm.runner().catch_up()
        head = legacy.store.recorder.max_notification_id()
        assert {s.name: s.position for s in rm.status()} == dict.fromkeys(
            ("shipments", "bl_drafts", "sla", "statements", "tnt_events"), head)
        with rm.engine.connect() as conn:
            shipments = conn.execute(search.active(conn).shipments.select()).all()
            accounts = conn.execute(statement_tables.active(conn).accounts.select()).all()
        booked = {r["originator_id"] for r in FIXTURE["events"]
                  if r["topic"].endswith(":BookingRequested")}
        assert {row.shipment_id for row in shipments} == booked
        assert len(accounts) == 1
    finally:
        rm.close()
    for row in FIXTURE["events"]:
        if not row["topic"].startswith("shipflow.idempotency:"):
            assert catalogue.source_for(row["topic"]) is not None, row["topic"]
