"""The projection runner on both databases: batches, exactly-once, blue/green rebuild."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from factories import confirmation, meta, order, shipping_instructions
from shipflow.projections import search
from shipflow.projections.engine.read_models import ReadModels
from shipflow.projections.search import SearchProjection
from shipflow.services.shipments import ShipmentService


@pytest.fixture
def svc(migrated):
    service = ShipmentService.from_settings(migrated)
    yield service
    service.close()


def _read_models(settings, service, **kw) -> ReadModels:
    return ReadModels(settings, service.store, [SearchProjection()], **kw)


def _book(svc, n: int) -> list:
    ids = []
    for i in range(n):
        sid = svc.request_booking(order(po_numbers=[f"PO-{i:04d}"]), meta()).shipment_id
        svc.review(sid, [], meta())
        svc.confirm_by_carrier(sid, confirmation(carrier_booking_no=f"BKG{i:05d}"), meta())
        ids.append(sid)
    return ids


def _rows(rm: ReadModels) -> list[dict]:
    with rm.engine.connect() as conn:
        t = search.active(conn)
        rows = [dict(r._mapping) for r in conn.execute(
            select(t.shipments).order_by(t.shipments.c.shipment_id))]
        refs = sorted(tuple(r) for r in conn.execute(select(t.shipment_refs)))
    for row in rows:
        row.pop("updated_at")
    return rows + [{"refs": refs}]


def test_rows_follow_the_shipments_and_positions_reach_the_head(migrated, svc):
    ids = _book(svc, 3)
    rm = _read_models(migrated, svc)
    assert rm.runner(batch_size=4).catch_up() == 9
    [status] = rm.status()
    assert status.position == status.head == 9 and status.lag == 0
    rows = {r["shipment_id"]: r for r in _rows(rm)[:-1]}
    assert rows[str(ids[1])]["carrier_booking_no"] == "BKG00001"
    assert rows[str(ids[1])]["status"] == "CONFIRMED"
    assert rows[str(ids[1])]["version"] == 3
    svc.submit_shipping_instructions(ids[1], shipping_instructions(), meta())
    rm.runner().catch_up()
    assert any(r == (str(ids[1]), "container", "MSKU1234565") for r in _rows(rm)[-1]["refs"])


def test_batch_size_does_not_change_the_view(migrated, svc):
    _book(svc, 4)
    one_by_one = _read_models(migrated, svc)
    one_by_one.runner(batch_size=1).catch_up()
    by_one = _rows(one_by_one)
    targets, consumed = one_by_one.rebuild("shipments", batch_size=1000)
    assert (targets, consumed) == ({"shipments": "b"}, 12)
    assert _rows(one_by_one) == by_one


def test_two_runners_racing_apply_each_event_once(migrated, svc):
    _book(svc, 6)
    rm = _read_models(migrated, svc)
    runners = [rm.runner(batch_size=2), rm.runner(batch_size=3)]
    barrier = threading.Barrier(2)

    def run(r):
        barrier.wait()
        r.catch_up()

    threads = [threading.Thread(target=run, args=(r,)) for r in runners]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    raced = _rows(rm)
    rm.rebuild("shipments")
    assert _rows(rm) == raced
    assert rm.status()[0].position == 18


def test_rebuild_switches_slots_and_the_live_runner_follows(migrated, svc):
    ids = _book(svc, 2)
    rm = _read_models(migrated, svc)
    rm.runner().catch_up()
    assert rm.status()[0].active_slot == "a"
    rm.rebuild("shipments")
    assert rm.status()[0].active_slot == "b"
    svc.cancel(ids[0], "customer cancelled", meta())
    rm.runner().catch_up()  # a live runner writes to the new active slot
    rows = {r["shipment_id"]: r for r in _rows(rm)[:-1]}
    assert rows[str(ids[0])]["status"] == "CANCELLED"
    assert rm.status()[0].position == 7


def test_wait_for_returns_when_the_view_reaches_a_position(migrated, svc):
    _book(svc, 1)
    rm = _read_models(migrated, svc)
    assert rm.wait_for(3, ["shipments"], timeout_s=0.05) is False
    rm.runner().catch_up()
    assert rm.wait_for(3, ["shipments"], timeout_s=0.05) is True
