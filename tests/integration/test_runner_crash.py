"""Exactly-once: a runner process killed inside a batch, then restarted, leaves the view
equal to a rebuild (nothing applied twice, nothing skipped)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from factories import confirmation, meta, order
from shipflow.projections import search
from shipflow.projections.engine.read_models import ReadModels
from shipflow.projections.search import SearchProjection
from shipflow.services.shipments import ShipmentService

SCRIPT = Path(__file__).with_name("crashing_runner.py")


def _rows(rm: ReadModels) -> list:
    with rm.engine.connect() as conn:
        t = search.active(conn)
        rows = [{k: v for k, v in r._mapping.items() if k != "updated_at"}
                for r in conn.execute(select(t.shipments).order_by(t.shipments.c.shipment_id))]
        refs = sorted(tuple(r) for r in conn.execute(select(t.shipment_refs)))
    return [rows, refs]


def test_runner_killed_mid_batch_then_restarted_equals_a_rebuild(migrated):
    svc = ShipmentService.from_settings(migrated)
    for i in range(20):
        sid = svc.request_booking(order(po_numbers=[f"PO-{i}"]), meta()).shipment_id
        svc.review(sid, [], meta())
        svc.confirm_by_carrier(sid, confirmation(carrier_booking_no=f"B{i:04d}"), meta())
    env = {**os.environ, "SHIPFLOW_DATABASE_URL": migrated.database_url,
           "SHIPFLOW_DATABASE_SCHEMA": migrated.database_schema,
           "PYTHONPATH": str(SCRIPT.parents[1])}
    died = subprocess.run([sys.executable, str(SCRIPT), "3", "7"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert died.returncode == 9, died.stdout + died.stderr
    assert "dying mid-batch" in died.stdout

    rm = ReadModels(migrated, svc.store, [SearchProjection()])
    [status] = rm.status()
    assert status.position == 14  # two whole batches of 7 committed; the third rolled back
    rm.runner(batch_size=7).catch_up()
    assert rm.status()[0].position == status.head == 60
    after_restart = _rows(rm)
    rm.rebuild("shipments")
    assert _rows(rm) == after_restart
    assert len(after_restart[0]) == 20
    svc.close()
