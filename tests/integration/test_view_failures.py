"""A view that cannot apply an event stops alone, before that event, with the failure
recorded; the other views go on to the head. It is not tried again until an operator asks:
a retry without a fix fails again (one more attempt), after the fix it catches up; a skip
records who and why and resumes past exactly that event, and rebuilds leave it out too.
On SQLite and PostgreSQL; the runner is driven batch by batch, nothing waits for a clock."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from factories import meta, shipping_instructions
from poisoned import PoisonedDrafts, UnwritableSearch, book, with_view
from shipflow.projections import bl_draft, search
from shipflow.projections.engine import failures
from shipflow.projections.engine.failures import NotTheFailingEvent, ViewNotFailed
from shipflow.services.shipments import ShipmentService

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def svc(migrated):
    service = ShipmentService.from_settings(migrated)
    yield service
    service.close()


def states(rm) -> dict:
    return {s.name: s for s in rm.status()}


def drafts(rm) -> dict:
    with rm.engine.connect() as conn:
        t = bl_draft.TABLES[bl_draft_slot(rm)]
        return {r.shipment_id: r.version for r in conn.execute(select(t.bl_drafts))}


def bl_draft_slot(rm) -> str:
    return states(rm)["bl_drafts"].active_slot


def test_an_event_a_view_cannot_apply_stops_that_view_alone_and_is_recorded(migrated, svc):
    ids = book(svc, 3)  # positions 1-9; the second shipment's confirmation is at 6
    poisoned = PoisonedDrafts(ids[1], version=3)
    clock = Clock(T0)
    rm = with_view(migrated, svc.store, poisoned, clock=clock)
    assert rm.runner(batch_size=4).catch_up() > 0

    status = states(rm)
    assert {n: (s.state, s.position) for n, s in status.items()} == {
        "shipments": ("running", 9), "bl_drafts": ("failed", 5), "sla": ("running", 9),
        "statements": ("running", 9), "tnt_events": ("running", 9)}
    f = status["bl_drafts"].failure
    assert (f.position, f.stopped_at, f.event_type, f.aggregate_id, f.aggregate_version) == (
        6, 5, "CarrierConfirmed", str(ids[1]), 3)
    assert (f.stage, f.error_class, f.error_message) == (
        "evolve", "builtins.ValueError", "cannot read CarrierConfirmed")
    assert (f.attempts, f.first_failed_at, f.failed_at, f.slot) == (1, T0, T0, "a")
    # the events before it are applied, none after it
    assert drafts(rm) == {str(ids[0]): 2, str(ids[1]): 1}
    assert rm.failed() == {"bl_drafts": f}

    # not tried again by itself: a stopped view is left out of every batch
    calls = poisoned.calls
    assert rm.runner().run_batch() == 0
    assert poisoned.calls == calls and states(rm)["bl_drafts"].failure.attempts == 1
    svc.submit_shipping_instructions(ids[0], shipping_instructions(), meta())  # position 10
    rm.runner().catch_up()
    status = states(rm)
    assert status["shipments"].position == 10 and status["bl_drafts"].position == 5

    # a retry without a fix fails again, recorded as a second attempt
    clock.now = T0.replace(hour=10)
    again = rm.retry("bl_drafts", "ops.li")
    assert again.state == "failed" and again.position == 5
    assert (again.failure.attempts, again.failure.first_failed_at, again.failure.failed_at) == (
        2, T0, clock.now)
    assert again.failure.retry_requested_at is None  # answered: stopped again

    # after the fix the retry applies it, and the view catches up
    poisoned.broken = False
    fixed = rm.retry("bl_drafts", "ops.li")
    assert (fixed.state, fixed.position, fixed.failure) == ("running", 10, None)
    assert drafts(rm) == {str(ids[0]): 3, str(ids[1]): 2, str(ids[2]): 2}
    with rm.engine.connect() as conn:
        [row] = conn.execute(select(failures.projection_failures)).all()
    assert (row.resolution, row.resolved_by, row.attempts) == ("retried", "ops.li", 2)
    with pytest.raises(ViewNotFailed):
        rm.retry("bl_drafts", "ops.li")
    live = drafts(rm)
    rm.rebuild("bl_drafts")
    assert drafts(rm) == live


def test_a_skip_records_who_and_why_and_resumes_past_exactly_that_event(migrated, svc):
    ids = book(svc, 3)
    poisoned = PoisonedDrafts(ids[1], version=3)  # stays broken throughout
    rm = with_view(migrated, svc.store, poisoned, clock=Clock(T0))
    rm.runner().catch_up()
    assert states(rm)["bl_drafts"].failure.position == 6

    with pytest.raises(NotTheFailingEvent) as refused:
        rm.skip("bl_drafts", 7, "not this one", "ops.li")
    assert refused.value.failing == 6
    with pytest.raises(ViewNotFailed):
        rm.skip("shipments", 6, "it is running", "ops.li")
    skipped = rm.skip("bl_drafts", 6, "confirmation unreadable; re-sent as an amendment",
                      "ops.li")
    assert (skipped.state, skipped.position) == ("running", 6)
    [k] = skipped.skipped
    assert (k.position, k.event_type, k.aggregate_id, k.aggregate_version, k.slot) == (
        6, "CarrierConfirmed", str(ids[1]), 3, "a")
    assert (k.reason, k.skipped_by, k.skipped_at, k.error_class) == (
        "confirmation unreadable; re-sent as an amendment", "ops.li", T0, "builtins.ValueError")

    rm.runner().catch_up()  # resumes after the event, never evolving it again
    calls = poisoned.calls
    svc.submit_shipping_instructions(ids[1], shipping_instructions(), meta())  # folds its past
    rm.runner().catch_up()
    assert poisoned.calls == calls
    status = states(rm)
    assert all(s.state == "running" and s.position == 10 for s in status.values())
    # the second shipment's draft has the SI but not the skipped confirmation
    assert drafts(rm) == {str(ids[0]): 2, str(ids[1]): 2, str(ids[2]): 2}
    with rm.engine.connect() as conn:
        t = bl_draft.TABLES[bl_draft_slot(rm)]
        caused_by = conn.execute(select(t.bl_draft_versions.c.caused_by)
                                 .where(t.bl_draft_versions.c.shipment_id == str(ids[1]))
                                 .order_by(t.bl_draft_versions.c.version)).scalars().all()
    assert caused_by == ["BookingRequested", "ShippingInstructionsSubmitted"]

    # a rebuild leaves the skipped event out too (the view is still broken for it)
    live = drafts(rm)
    rebuilt = rm.rebuild("bl_drafts")
    assert (rebuilt.switched, rebuilt.stopped) == ({"bl_drafts": "b"}, {})
    assert [s.position for s in rebuilt.skipped["bl_drafts"]] == [6]
    assert drafts(rm) == live and poisoned.calls == calls


def test_a_write_the_table_refuses_rolls_back_only_that_views_transaction(migrated, svc):
    ids = book(svc, 3)
    # NULL where the table wants a value; on PostgreSQL the NUL byte of the incident
    value = "cs\x00wang" if migrated.is_postgres else None
    unwritable = UnwritableSearch(ids[1], version=2, value=value)
    rm = with_view(migrated, svc.store, unwritable)
    rm.runner(batch_size=9).catch_up()

    status = states(rm)
    assert {n: (s.state, s.position) for n, s in status.items()} == {
        "shipments": ("failed", 4), "bl_drafts": ("running", 9), "sla": ("running", 9),
        "statements": ("running", 9), "tnt_events": ("running", 9)}
    f = status["shipments"].failure
    assert (f.position, f.stage, f.aggregate_id, f.aggregate_version) == (5, "write",
                                                                         str(ids[1]), 2)
    assert "\x00" not in f.error_message
    with rm.engine.connect() as conn:
        t = search.TABLES[status["shipments"].active_slot]
        rows = {r.shipment_id: (r.version, r.cs_owner) for r in conn.execute(select(t.shipments))}
    # what the failed write had written was rolled back with it: the row stays at version 1
    assert rows == {str(ids[0]): (3, "cs.wang"), str(ids[1]): (1, "cs.wang")}

    unwritable.broken = False
    assert rm.retry("shipments", "ops.li").state == "running"
    rm.runner().catch_up()
    assert {s.position for s in rm.status()} == {9}


def test_a_view_failing_in_a_rebuild_keeps_its_live_slot(migrated, svc):
    ids = book(svc, 2)
    rm = with_view(migrated, svc.store, PoisonedDrafts(ids[0], version=2))
    rm.projections["bl_drafts"].broken = False
    rm.runner().catch_up()
    live = drafts(rm)
    rm.projections["bl_drafts"].broken = True  # a fold changed for the worse, then rebuilt
    rebuilt = rm.rebuild(["bl_drafts", "sla"])
    assert rebuilt.switched == {"sla": "b"}
    assert (rebuilt.stopped["bl_drafts"].slot, rebuilt.stopped["bl_drafts"].position) == ("b", 2)
    status = states(rm)
    assert (status["bl_drafts"].active_slot, status["bl_drafts"].state) == ("a", "running")
    assert drafts(rm) == live


def test_two_runners_racing_past_a_stopped_view_apply_each_event_once(migrated, svc):
    ids = book(svc, 6)  # 18 events; the fourth shipment's confirmation (12) cannot be applied
    rm = with_view(migrated, svc.store, PoisonedDrafts(ids[3], version=3))
    runners = [rm.runner(batch_size=2), rm.runner(batch_size=5)]
    barrier = threading.Barrier(2)

    def run(r) -> None:
        barrier.wait()
        r.catch_up()

    threads = [threading.Thread(target=run, args=(r,)) for r in runners]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    status = states(rm)
    assert {n: s.position for n, s in status.items()} == {
        "shipments": 18, "bl_drafts": 11, "sla": 18, "statements": 18, "tnt_events": 18}
    assert status["bl_drafts"].failure.attempts == 1  # a second runner seeing it is no new attempt
    raced = {"shipments": search_rows(rm), "bl_drafts": drafts(rm)}
    rm.projections["bl_drafts"].broken = False
    rm.rebuild("shipments")
    assert search_rows(rm) == raced["shipments"]
    assert drafts(rm) == raced["bl_drafts"] == {str(s): 2 for s in ids[:3]} | {str(ids[3]): 1}


def search_rows(rm) -> list:
    with rm.engine.connect() as conn:
        t = search.active(conn)
        return sorted((r.shipment_id, r.version, r.status) for r in conn.execute(
            select(t.shipments)))
