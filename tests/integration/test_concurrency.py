"""Optimistic concurrency on SQLite and PostgreSQL, with real threads and separate services.

Races that must take one exact path are made deterministic by holding one writer inside the
*library's* recorder (``insert_events``) until the other writer has committed; none of
shipflow's own code is wrapped or replaced.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import IntegrityError

from factories import amendment, confirmation, meta, order
from shipflow.events.common import ConcurrentWrite, DomainError, VersionConflict
from shipflow.events.shipment.charges import ChargeLine
from shipflow.events.shipment.records import FieldChange
from shipflow.events.shipment.tracking import Milestone
from shipflow.services.commit import ATTEMPTS
from shipflow.services.shipments import ShipmentService
from shipflow.store import open_store

TIMEOUT = 20


def charge(code: str) -> ChargeLine:
    return ChargeLine.model_validate({
        "direction": "PAYABLE", "code": code, "quantity": "1", "counterparty": "VENDOR-TRUCK",
        "unit_price": {"amount": "150.00", "currency": "CNY"}})


def new_service(settings) -> ShipmentService:
    """A second process's worth of service: its own store and connections, same database."""
    return ShipmentService(open_store(settings, POSTGRES_POOL_SIZE=2, POSTGRES_MAX_OVERFLOW=2))


@pytest.fixture
def other(settings) -> Iterator[ShipmentService]:
    svc = new_service(settings)
    yield svc
    svc.close()


@pytest.fixture
def sid(service) -> UUID:
    sid = service.request_booking(order(), meta()).shipment_id
    service.review(sid, [], meta())
    service.confirm_by_carrier(sid, confirmation(), meta())
    return sid


def history(service: ShipmentService, sid: UUID) -> list[tuple[int, str]]:
    return [(e.originator_version, type(e).__name__) for e in service.history(sid)]


class InThread:
    """Run a call in a real thread; ``result()`` returns its value or raises its error."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        self._out: dict[str, Any] = {}
        self._thread = threading.Thread(target=self._run, args=(fn,), daemon=True)
        self._thread.start()

    def _run(self, fn: Callable[[], Any]) -> None:
        try:
            self._out["value"] = fn()
        except BaseException as e:  # handed to the test thread
            self._out["error"] = e

    def result(self) -> Any:
        self._thread.join(TIMEOUT)
        assert not self._thread.is_alive(), "writer thread hung"
        if "error" in self._out:
            raise self._out["error"]
        return self._out["value"]


@contextmanager
def held_inserts(svc: ShipmentService, times: int = 1) -> Iterator[list[threading.Event]]:
    """Hold the service's next ``times`` inserts: each sets ``arrived[i]``, waits for
    ``release[i]``, then writes for real. Yields (arrived, release)."""
    recorder = svc.store.recorder
    real = recorder.insert_events
    arrived = [threading.Event() for _ in range(times)]
    release = [threading.Event() for _ in range(times)]
    calls = iter(range(times))

    def insert_events(*args: Any, **kwargs: Any) -> Any:
        i = next(calls, None)
        if i is not None:
            arrived[i].set()
            assert release[i].wait(TIMEOUT)
        return real(*args, **kwargs)

    recorder.insert_events = insert_events
    try:
        yield arrived, release
    finally:
        for r in release:
            r.set()
        del recorder.insert_events


# --- the event store -----------------------------------------------------------------------


def test_store_two_stale_copies_exactly_one_saves(service, other, sid):
    first = service.store.repository.get(sid)
    second = other.store.repository.get(sid)
    assert first.version == second.version == 3
    first.add_charge(charge("TRUCK"), None, meta())
    second.add_charge(charge("CUSTOMS"), None, meta())
    service.store.save(first)
    with pytest.raises(IntegrityError):
        other.store.save(second)
    assert history(service, sid)[-1] == (4, "ChargeAdded")
    assert len(history(other, sid)) == 4
    assert [c.line.code for c in other.get(sid).charges] == ["TRUCK"]


# --- If-Match: the loser is told, nothing is written ----------------------------------------


def test_expected_version_loser_of_a_race_gets_version_conflict(service, other, sid):
    with held_inserts(other) as (arrived, release):
        loser = InThread(lambda: other.add_charge(sid, charge("CUSTOMS"), None, meta(),
                                                  expected_version=3))
        assert arrived[0].wait(TIMEOUT)  # it read version 3 and passed the version check
        assert service.add_charge(sid, charge("TRUCK"), None, meta(),
                                  expected_version=3).version == 4
        release[0].set()
        with pytest.raises(VersionConflict) as refused:
            loser.result()
    assert (refused.value.rule, refused.value.expected, refused.value.current) == (
        "version_conflict", 3, 4)
    assert [c.line.code for c in service.get(sid).charges] == ["TRUCK"]
    assert len(history(service, sid)) == 4


def test_expected_version_two_threads_one_wins(service, other, sid):
    barrier = threading.Barrier(2)

    def add(svc: ShipmentService, code: str) -> Any:
        barrier.wait(TIMEOUT)
        return svc.add_charge(sid, charge(code), None, meta(), expected_version=3)

    writers = [InThread(lambda s=s, c=c: add(s, c)) for s, c in
               ((service, "TRUCK"), (other, "CUSTOMS"))]
    outcomes = []
    for w in writers:
        try:
            outcomes.append(w.result().version)
        except VersionConflict as e:
            outcomes.append(e.rule)
    assert sorted(outcomes, key=str) == [4, "version_conflict"]
    assert len(service.get(sid).charges) == 1
    assert len(history(service, sid)) == 4


# --- no If-Match: retried once on fresh state ------------------------------------------------


def test_without_expected_version_the_loser_retries_and_both_land(service, other, sid):
    with held_inserts(other) as (arrived, release):
        loser = InThread(lambda: other.add_charge(sid, charge("CUSTOMS"), None, meta()))
        assert arrived[0].wait(TIMEOUT)
        assert service.add_charge(sid, charge("TRUCK"), None, meta()).result == 1
        release[0].set()
        recorded = loser.result()
    assert (recorded.version, recorded.result) == (5, 2)  # renumbered on the fresh state
    charges = service.get(sid).charges
    assert [(c.number, c.line.code) for c in charges] == [(1, "TRUCK"), (2, "CUSTOMS")]
    assert [v for v, _ in history(service, sid)] == [1, 2, 3, 4, 5]


def test_two_threads_without_expected_version_both_land(service, other, sid):
    barrier = threading.Barrier(2)

    def add(svc: ShipmentService, code: str) -> Any:
        barrier.wait(TIMEOUT)
        return svc.add_charge(sid, charge(code), None, meta())

    writers = [InThread(lambda s=s, c=c: add(s, c)) for s, c in
               ((service, "TRUCK"), (other, "CUSTOMS"))]
    assert sorted(w.result().result for w in writers) == [1, 2]
    charges = service.get(sid).charges
    assert sorted(c.line.code for c in charges) == ["CUSTOMS", "TRUCK"]
    assert [c.number for c in charges] == [1, 2]
    assert [v for v, _ in history(service, sid)] == [1, 2, 3, 4, 5]


def _amend(svc: ShipmentService, sid: UUID) -> None:
    svc.request_amendment(sid, amendment([FieldChange(field="pod", after="USLGB")], "mail 7", "",
                                         [], []),
                          meta())


@pytest.mark.parametrize(("prepare", "winner", "loser", "rule"), [
    pytest.param(None, lambda s, sid: s.cancel(sid, "customer cancelled", meta()),
                 lambda s, sid: s.record_milestone(sid, Milestone(
                     kind="EQUIPMENT", code="GTIN", classifier="ACT", location="CNSHA",
                     event_time="2026-12-01T10:00:00Z"), meta()),
                 "shipment_cancelled", id="milestone-after-cancel"),
    pytest.param(_amend, lambda s, sid: s.approve_amendment(sid, 1, meta()),
                 lambda s, sid: s.approve_amendment(sid, 1, meta()),
                 "amendment_decided", id="approve-twice"),
    pytest.param(lambda s, sid: s.add_charge(sid, charge("TRUCK"), None, meta()),
                 lambda s, sid: s.void_charge(sid, 1, "duplicate", meta()),
                 lambda s, sid: s.void_charge(sid, 1, "duplicate", meta()),
                 "charge_voided", id="void-twice"),
])
def test_retry_on_fresh_state_refuses_a_command_no_longer_valid(service, other, sid, prepare,
                                                                winner, loser, rule):
    if prepare:
        prepare(service, sid)
    with held_inserts(other) as (arrived, release):
        late = InThread(lambda: loser(other, sid))
        assert arrived[0].wait(TIMEOUT)
        winner(service, sid)
        before = history(service, sid)
        release[0].set()
        with pytest.raises(DomainError) as refused:
            late.result()
    assert refused.value.rule == rule
    assert history(service, sid) == before  # the loser wrote nothing


def test_losing_every_attempt_is_refused_as_concurrent_write(settings, service, other, sid):
    winners = [new_service(settings) for _ in range(ATTEMPTS)]
    try:
        with held_inserts(other, times=ATTEMPTS) as (arrived, release):
            loser = InThread(lambda: other.add_charge(sid, charge("CUSTOMS"), None, meta()))
            for i, winner in enumerate(winners):
                assert arrived[i].wait(TIMEOUT)  # tried (again, on fresh state), held
                winner.add_charge(sid, charge(f"WIN{i}"), None, meta())
                release[i].set()
            with pytest.raises(ConcurrentWrite) as refused:
                loser.result()
    finally:
        for winner in winners:
            winner.close()
    assert refused.value.rule == "concurrent_write"
    assert [c.line.code for c in service.get(sid).charges] == [
        f"WIN{i}" for i in range(ATTEMPTS)]


# --- many writers ----------------------------------------------------------------------------

N = 8


def test_n_concurrent_writers_each_charge_lands_once(settings, service, sid):
    services = [new_service(settings) for _ in range(N)]
    barrier = threading.Barrier(N)
    resent = [0] * N

    def add(i: int) -> int:
        barrier.wait(TIMEOUT)
        for _ in range(N):
            try:
                return services[i].add_charge(sid, charge(f"C{i}"), None, meta()).result
            except ConcurrentWrite:  # 409 "send it again": what a client does
                resent[i] += 1
        raise AssertionError(f"writer {i} lost {N} times")

    try:
        writers = [InThread(lambda i=i: add(i)) for i in range(N)]
        numbers = [w.result() for w in writers]
    finally:
        for svc in services:
            svc.close()
    charges = service.get(sid).charges
    assert [c.number for c in charges] == list(range(1, N + 1))
    assert {c.line.code: c.number for c in charges} == {f"C{i}": n for i, n in enumerate(numbers)}
    assert [v for v, _ in history(service, sid)] == list(range(1, N + 4))
    assert [type(e).__name__ for e in service.history(sid)[3:]] == ["ChargeAdded"] * N
