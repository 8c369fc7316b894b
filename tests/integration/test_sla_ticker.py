"""The SLA ticker on SQLite and PostgreSQL: the ``sla`` view tells it where to look, the event
store decides; one SlaBreached per timer even with two tickers racing; a later meeting event
marks the timer met late. The ticker's clock is driven; nothing sleeps."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url

from factories import NOW, confirmation, meta, order
from shipflow.database import metadata
from shipflow.events.common import Source
from shipflow.projections.engine import slots
from shipflow.projections.engine.base import Change, fold
from shipflow.projections.sla import tables as sla_tables
from shipflow.projections.sla.config import DEFAULT_CONFIG
from shipflow.projections.sla.ticker import Ticker
from shipflow.projections.sla.timers import SlaProjection, next_due, timers_for, work_queue
from shipflow.services.shipments import ShipmentService

SHA = ZoneInfo("Asia/Shanghai")


def sh(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=SHA).astimezone(UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def read_engine(settings) -> Engine:
    if settings.is_postgres:
        url = make_url(settings.database_url).set(drivername="postgresql+psycopg")
        return create_engine(url, connect_args={
            "options": f"-csearch_path={settings.database_schema}"})
    return create_engine(f"sqlite:///{settings.sqlite_path}", connect_args={"timeout": 30})


@pytest.fixture
def engine(settings, service) -> Iterator[Engine]:  # the service creates the PG schema
    eng = read_engine(settings)
    metadata.create_all(eng)
    with eng.begin() as conn:
        slots.ensure_registered(conn, "sla")
    yield eng
    eng.dispose()


def project(engine: Engine, service: ShipmentService, *sids) -> None:
    """What the projection runner would write: each shipment's folded timers, active slot."""
    projection = SlaProjection(DEFAULT_CONFIG)
    with engine.begin() as conn:
        projection.write(conn, slots.active_slot(conn, "sla"), {
            sid: Change(None, fold(projection, service.history(sid))[1]) for sid in sids})


def breaches(service: ShipmentService, sid) -> list:
    return [e for e in service.history(sid) if type(e).__name__ == "SlaBreached"]


def test_breach_recorded_once_then_met_late(service, engine):
    booked = sh(2026, 11, 18, 10, 0)
    sid = service.request_booking(order(), meta(occurred_at=booked)).shipment_id
    project(engine, service, sid)
    with engine.connect() as conn:
        tables = sla_tables.active(conn)
        assert next_due(conn, tables, [sid]) == {sid: sh(2026, 11, 18, 10, 30)}
    clock = Clock(sh(2026, 11, 18, 10, 29))
    ticker = Ticker(service, engine, DEFAULT_CONFIG, clock=clock)
    assert ticker.tick() == []

    clock.now = sh(2026, 11, 18, 10, 31)
    [breach] = ticker.tick()
    assert (breach.shipment_id, breach.timer, breach.kind) == (sid, "web_order_review",
                                                              "web_order_review")
    assert breach.due_at == sh(2026, 11, 18, 10, 30)
    [event] = breaches(service, sid)
    assert (event.meta.actor, event.meta.role, event.meta.source) == (
        "sla-ticker", "system", Source.SYSTEM)
    assert event.meta.occurred_at == clock.now

    # the view still says "open" (it lags): the event store says breached, nothing more
    clock.now += timedelta(minutes=5)
    assert ticker.tick() == []
    assert len(breaches(service, sid)) == 1

    project(engine, service, sid)
    with engine.connect() as conn:
        tables = sla_tables.active(conn)
        [row] = work_queue(conn, tables, state="breached", office="SHA")
        assert (row.shipment_id, row.key, row.breached_at) == (sid, "web_order_review",
                                                              sh(2026, 11, 18, 10, 31))
        assert work_queue(conn, tables, state="breached", office="NGB") == []
        assert next_due(conn, tables, [sid]) == {}
        assert next_due(conn, tables, [str(sid)], states=("open", "breached")) == {
            sid: sh(2026, 11, 18, 10, 30)}

    service.review(sid, [], meta(occurred_at=sh(2026, 11, 18, 11, 0)))
    project(engine, service, sid)
    with engine.connect() as conn:
        tables = sla_tables.active(conn)
        [t] = timers_for(conn, tables, sid)
        assert (t.state, t.late, t.met_at, t.breached_at) == (
            "met", True, sh(2026, 11, 18, 11, 0), sh(2026, 11, 18, 10, 31))
        assert work_queue(conn, tables, state="breached") == []
        assert [x.key for x in work_queue(conn, tables, state=["met"], kind="web_order_review")
                ] == ["web_order_review"]
    assert ticker.tick() == []


def test_two_tickers_racing_record_one_breach_per_timer(settings, service, engine):
    sids = []
    for _ in range(4):
        sid = service.request_booking(order(), meta(occurred_at=NOW)).shipment_id
        service.review(sid, [], meta(occurred_at=NOW + timedelta(minutes=10)))
        service.confirm_by_carrier(sid, confirmation(), meta(occurred_at=NOW))
        sids.append(sid)
    project(engine, service, *sids)
    # every cut-off and the booking confirmation notice are past due
    clock = Clock(NOW + timedelta(days=20))
    services = [ShipmentService.from_settings(settings) for _ in range(2)]
    tickers = [Ticker(svc, engine, DEFAULT_CONFIG, clock=clock) for svc in services]
    barrier = threading.Barrier(len(tickers))
    results: list[list] = [[] for _ in tickers]
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = tickers[i].tick()
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(tickers))]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        for svc in services:
            svc.close()
    assert not errors

    expected = {"booking_confirmation", "si_cutoff", "vgm_cutoff", "cy_cutoff"}
    recorded = [(b.shipment_id, b.timer) for r in results for b in r]
    assert Counter(recorded) == Counter((sid, key) for sid in sids for key in expected)
    for sid in sids:
        assert Counter(e.timer for e in breaches(service, sid)) == Counter(expected)

    # another tick, the view still lagging: nothing more
    fresh = Ticker(service, engine, DEFAULT_CONFIG, clock=clock)
    assert fresh.tick() == []
    project(engine, service, *sids)
    with engine.connect() as conn:
        tables = sla_tables.active(conn)
        queue = work_queue(conn, tables, state="breached", limit=100)
        assert len(queue) == len(sids) * len(expected)
        page1 = work_queue(conn, tables, state="breached", limit=5)
        last = page1[-1]
        page2 = work_queue(conn, tables, state="breached", limit=100,
                           after=(last.due_at, str(last.shipment_id), last.key))
        assert [(t.shipment_id, t.key) for t in page1 + page2] == [
            (t.shipment_id, t.key) for t in queue]


def test_view_lagging_behind_a_met_timer_records_nothing(service, engine):
    sid = service.request_booking(order(), meta(occurred_at=sh(2026, 11, 18, 10))).shipment_id
    project(engine, service, sid)  # the view: review open, due 10:30
    service.review(sid, [], meta(occurred_at=sh(2026, 11, 18, 10, 20)))  # not projected yet
    ticker = Ticker(service, engine, DEFAULT_CONFIG, clock=Clock(sh(2026, 11, 18, 12)))
    assert ticker.tick() == []
    assert breaches(service, sid) == []


def test_writer_deletes_rows_of_a_vanished_view_and_clear_empties_the_slot(service, engine):
    sid = service.request_booking(order(), meta(occurred_at=sh(2026, 11, 18, 10))).shipment_id
    other = service.request_booking(order(), meta(occurred_at=sh(2026, 11, 18, 11))).shipment_id
    project(engine, service, sid, other)
    projection = SlaProjection(DEFAULT_CONFIG)
    _, view = fold(projection, service.history(sid))
    with engine.begin() as conn:
        slot = slots.active_slot(conn, "sla")
        tables = sla_tables.TABLES[slot]
        projection.write(conn, slot, {sid: Change(view, None)})
        assert timers_for(conn, tables, sid) == []
        assert len(timers_for(conn, tables, other)) == 1
        projection.clear(conn, slot)
        assert work_queue(conn, tables) == []
