"""Exactly-once dispatch: a dispatcher process killed inside a batch, then restarted, leaves one
delivery per (message, subscription): nothing created twice, nothing skipped."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from factories import meta, order
from shipflow.webhooks.tables import webhook_deliveries

SCRIPT = Path(__file__).with_name("crashing_dispatcher.py")


def _count(hub) -> tuple[int, int]:
    d = webhook_deliveries
    with hub.engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(d)).scalar()
        distinct = conn.execute(select(func.count()).select_from(
            select(d.c.subscription_id, d.c.message_id).distinct().subquery())).scalar()
    return total, distinct


def test_dispatcher_killed_mid_batch_then_restarted_dispatches_exactly_once(hub):
    hub.subscribe("/all", ["shipment.*"])
    hub.subscribe("/booked", ["shipment.booking_requested"])
    start = hub.dispatcher.position()
    for i in range(20):
        hub.service.request_booking(order(po_numbers=[f"PO-{i}"]), meta())
    env = {**os.environ, "SHIPFLOW_DATABASE_URL": hub.settings.database_url,
           "SHIPFLOW_DATABASE_SCHEMA": hub.settings.database_schema,
           "PYTHONPATH": str(SCRIPT.parents[1])}
    died = subprocess.run([sys.executable, str(SCRIPT), "3", "7"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert died.returncode == 9, died.stdout + died.stderr
    assert "dying mid-batch with 18 deliveries written" in died.stdout
    # two whole batches of 7 events committed (3 deliveries each); the third (6) rolled back
    assert hub.dispatcher.position() == start + 14
    assert _count(hub) == (42, 42)

    hub.dispatcher.catch_up()  # the restart
    assert hub.dispatcher.position() == start + 20
    assert _count(hub) == (60, 60)
    hub.clock.advance(60)  # the subprocess stamped its deliveries with the real time
    hub.sender.drain()
    assert len(hub.receiver.on("/all")) == 40 and len(hub.receiver.on("/booked")) == 20
    for path in ("/all", "/booked"):  # each message once per subscription
        ids = [r.webhook_id for r in hub.receiver.on(path)]
        assert len(ids) == len(set(ids))
    assert hub.receiver.unverified == []
