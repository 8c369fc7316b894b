"""The B/L draft writer on SQLite and PostgreSQL: folds written in batches, as a runner writes
them, leave the same rows as one write; the versions table is complete; and the draft as of
any event's time equals the version stored for that time."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from itertools import zip_longest
from typing import Any
from uuid import UUID

import pytest
from rich.console import Console
from sqlalchemy import Engine, create_engine, select

from factories import (
    NOW,
    amendment,
    confirmation,
    meta,
    order,
    rollover,
    shipping_instructions,
    si_data,
)
from shipflow.database import metadata
from shipflow.demo import load_demo
from shipflow.events.common import VesselVoyage
from shipflow.events.shipment.booking import Approval
from shipflow.events.shipment.charges import ChargeLine
from shipflow.events.shipment.documents import BlIssue
from shipflow.events.shipment.records import FieldChange, SailingOutcome
from shipflow.events.shipment.tracking import Milestone
from shipflow.events.topics import SHIPMENT
from shipflow.projections.bl_draft import (
    ISSUED,
    TABLES,
    BlDraftProjection,
    BlDraftView,
    as_of,
    current,
    version,
    versions,
)
from shipflow.projections.engine.base import Change

M = meta()
SAILED = NOW + timedelta(days=22)
BATCHED, SINGLE = "a", "b"  # the two slots of the view's tables


@pytest.fixture
def engine(settings, service) -> Iterator[Engine]:
    """Read-model tables beside the event store (the service has created the PG schema)."""
    if settings.is_postgres:
        url = re.sub(r"^[a-z]+://", "postgresql+psycopg://", settings.database_url)
        eng = create_engine(url, connect_args={
            "options": f"-csearch_path={settings.database_schema}"})
    else:
        eng = create_engine(f"sqlite:///{settings.sqlite_path}")
    metadata.create_all(eng)
    yield eng
    eng.dispose()


# --- a few shipments, their commands interleaved ---------------------------------------------


def fee(code: str = "AMD") -> ChargeLine:
    return ChargeLine.model_validate({
        "direction": "RECEIVABLE", "code": code, "quantity": "1", "counterparty": "CUST-ACME",
        "unit_price": {"amount": "300", "currency": "CNY"}})


def depa(classifier: str, at) -> Milestone:
    return Milestone(kind="TRANSPORT", code="DEPA", classifier=classifier, event_time=at,
                     location="CNSHA")


def demo_steps(svc, ids: dict[str, UUID]) -> list[Callable[[], Any]]:
    """A whole sea export: amendment, SI, approval, rollover, new SI, approval, issue, close."""
    def sid() -> UUID:
        return ids["demo"]

    def request() -> None:
        ids["demo"] = svc.request_booking(order(), meta(actor="sales.li")).shipment_id

    def amend() -> None:
        n = svc.request_amendment(sid(), amendment([FieldChange(field="consignee.address",
                                                      after="2 Harbor Dr, Long Beach")],
                                  "email 2026-11-21", "consignee moved", [fee()], []), M).result
        svc.approve_amendment(sid(), n, M)

    resealed = dict(si_data()["containers"][0], seals=["ML999999"])
    return [
        request,
        lambda: svc.review(sid(), [], M),
        lambda: svc.confirm_by_carrier(sid(), confirmation(), M),
        amend,
        lambda: svc.submit_shipping_instructions(sid(), shipping_instructions(), M),
        lambda: svc.add_charge(sid(), fee("OFR"), None, M),
        lambda: svc.record_milestone(sid(), depa("EST", NOW + timedelta(days=16)), M),
        lambda: svc.approve_bl_draft(sid(), Approval(by="Ms Chen", at=NOW), None, M),
        lambda: svc.roll_over(sid(), rollover(VesselVoyage(vessel="MAERSK EMDEN", voyage="250E"),
                              "vessel full", SAILED, SAILED + timedelta(days=15), 0), M),
        lambda: svc.submit_shipping_instructions(
            sid(), shipping_instructions(containers=[resealed]), M),
        lambda: svc.approve_bl_draft(sid(), Approval(by="Ms Chen", at=NOW), None, M),
        lambda: svc.record_milestone(sid(), depa("ACT", SAILED), M),
        lambda: svc.issue_bl(sid(), BlIssue(
            bl_number="SFLW2611000123", shipped_on_board_date=SAILED.date(),
            place_of_issue="CNSHA", issue_date=date(2026, 12, 13)), meta(actor="docs.zhou")),
        lambda: svc.record_sailing_outcome(sid(), SailingOutcome.SHIPPED, "", M),
        lambda: svc.close_shipment(sid(), "done", M),
    ]


def other_steps(svc, ids: dict[str, UUID], name: str) -> list[Callable[[], Any]]:
    def sid() -> UUID:
        return ids[name]

    def request() -> None:
        ids[name] = svc.request_booking(order(pod="NLRTM", place_of_delivery="NLRTM",
                                              us_routing=None), M).shipment_id

    return [
        request,
        lambda: svc.review(sid(), [], M),
        lambda: svc.confirm_by_carrier(sid(), confirmation(), M),
        lambda: svc.submit_shipping_instructions(sid(), shipping_instructions(), M),
        lambda: svc.roll_over(sid(), rollover(VesselVoyage(vessel="MAERSK HONAM", voyage="251W"),
                              "blank sailing", SAILED, SAILED + timedelta(days=30), 0), M),
    ]


def record_shipments(svc) -> dict[str, UUID]:
    ids: dict[str, UUID] = {}
    lanes = [demo_steps(svc, ids), other_steps(svc, ids, "b"), other_steps(svc, ids, "c")]
    for steps in zip_longest(*lanes):
        for step in steps:
            if step is not None:
                step()
    return ids


def shipment_events(svc) -> list[Any]:
    """Every shipment event in notification-log order, as a projection runner reads them."""
    notifications = svc.store.recorder.select_notifications(start=None, limit=100_000)
    return [svc.store.mapper.to_domain_event(n) for n in notifications
            if SHIPMENT.owns(n.topic)]


def run(engine: Engine, slot: str, events: list[Any],
        batch_size: int) -> dict[UUID, BlDraftView]:
    """Fold and write batch by batch: one Change(before, after) per shipment per batch."""
    projection = BlDraftProjection()
    state: dict[UUID, tuple[Any, BlDraftView | None]] = {}
    for start in range(0, len(events), batch_size):
        before: dict[UUID, BlDraftView | None] = {}
        for event in events[start:start + batch_size]:
            shipment, view = state.get(event.originator_id, (None, None))
            before.setdefault(event.originator_id, view)
            shipment = event.mutate(shipment)
            state[event.originator_id] = (shipment, projection.evolve(view, event, shipment))
        with engine.begin() as conn:
            projection.write(conn, slot, {sid: Change(view, state[sid][1])
                                            for sid, view in before.items()})
    return {sid: view for sid, (_, view) in state.items() if view is not None}


def dump(engine: Engine, slot: str) -> tuple[list[dict], list[dict]]:
    d, v = TABLES[slot].bl_drafts, TABLES[slot].bl_draft_versions
    with engine.connect() as conn:
        drafts = conn.execute(select(d).order_by(d.c.shipment_id)).mappings().all()
        rows = conn.execute(select(v).order_by(v.c.shipment_id, v.c.version)).mappings().all()
    return [dict(r) for r in drafts], [dict(r) for r in rows]


# --- tests -----------------------------------------------------------------------------------


def test_batched_writes_leave_the_same_rows_as_one_write(service, engine):
    ids = record_shipments(service)
    events = shipment_events(service)
    final = run(engine, SINGLE, events, batch_size=len(events))
    expected = dump(engine, SINGLE)
    assert len(expected[0]) == 3
    assert len(expected[1]) == sum(v.version for v in final.values())

    projection = BlDraftProjection()
    for size in (1, 2, 5, 13):
        with engine.begin() as conn:
            projection.clear(conn, BATCHED)
        assert dump(engine, BATCHED) == ([], [])
        views = run(engine, BATCHED, events, batch_size=size)
        assert views == final
        assert dump(engine, BATCHED) == expected, f"batch size {size}"

    demo = final[ids["demo"]]
    assert [v.caused_by for v in demo.versions] == [
        "BookingRequested", "CarrierConfirmed", "AmendmentApproved",
        "ShippingInstructionsSubmitted", "RolledOver", "ShippingInstructionsSubmitted",
        "BlIssued"]
    assert (demo.status, demo.approved_version) == (ISSUED, 6)
    with engine.connect() as conn:
        for sid, view in final.items():
            assert current(conn, TABLES[SINGLE], sid) == view.as_current()
            assert versions(conn, TABLES[SINGLE], sid, with_documents=True) == [
                v.as_dict() for v in view.versions]
            assert versions(conn, TABLES[SINGLE], sid) == [v.summary() for v in view.versions]
            assert [r["version"] for r in versions(conn, TABLES[SINGLE], sid)] == list(
                range(1, view.version + 1))
        assert current(conn, TABLES[SINGLE], UUID(int=0)) is None
        assert versions(conn, TABLES[SINGLE], UUID(int=0)) == []
        assert version(conn, TABLES[SINGLE], ids["demo"], 99) is None


def test_the_draft_as_of_each_event_is_the_version_stored_for_that_time(service, engine):
    ids = record_shipments(service)
    run(engine, SINGLE, shipment_events(service), batch_size=4)
    history = service.history(ids["demo"])
    with engine.connect() as conn:
        stored = versions(conn, TABLES[SINGLE], ids["demo"], with_documents=True)
        for event in history:
            view = as_of(history, event.timestamp)
            then = [r for r in stored if r["recorded_at"] <= event.timestamp][-1]
            assert (view.version, view.document) == (then["version"], then["document"]), \
                f"as of {type(event).__name__} v{event.originator_version}"
            assert version(conn, TABLES[SINGLE], ids["demo"], view.version) == then
        assert as_of(history, history[0].timestamp - timedelta(microseconds=1)) is None


def test_as_of_equals_the_stored_version_for_every_demo_shipment(settings, service, engine):
    ids = load_demo(settings, shipments=20, seed=7, console=Console(quiet=True))
    final = run(engine, BATCHED, shipment_events(service), batch_size=7)
    assert {"RolledOver", "BlIssued", "ShippingInstructionsSubmitted"} <= {
        v.caused_by for view in final.values() for v in view.versions}
    with engine.connect() as conn:
        for sid in ids:
            history = service.history(sid)
            stored = versions(conn, TABLES[BATCHED], sid, with_documents=True)
            for event in history:
                view = as_of(history, event.timestamp)
                then = [r for r in stored if r["recorded_at"] <= event.timestamp][-1]
                assert (view.version, view.document) == (then["version"], then["document"])
            assert current(conn, TABLES[BATCHED], sid) == as_of(history).as_current()


def test_a_view_that_is_gone_leaves_no_rows(service, engine):
    ids = record_shipments(service)
    views = run(engine, SINGLE, shipment_events(service), batch_size=100)
    projection = BlDraftProjection()
    with engine.begin() as conn:
        projection.write(conn, SINGLE, {ids["b"]: Change(views[ids["b"]], None)})
    drafts, rows = dump(engine, SINGLE)
    assert str(ids["b"]) not in {r["shipment_id"] for r in drafts + rows}
    assert {r["shipment_id"] for r in drafts} == {str(ids["demo"]), str(ids["c"])}
