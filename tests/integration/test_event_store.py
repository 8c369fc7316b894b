"""The event store on SQLite and PostgreSQL: payloads round-trip exactly, snapshots and
historical reads agree with a plain fold, old event shapes are upcast, events never change."""

from __future__ import annotations

import copy
import json
import sqlite3
import uuid
from contextlib import closing
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic
from psycopg import sql
from pydantic import BaseModel
from stdnum import iso6346

from factories import NOW, amendment, confirmation, meta, order, rollover, shipping_instructions
from shipflow.api.shipment_reads import event_record
from shipflow.config import Settings
from shipflow.events.common import Money, NotFound, Source, VesselVoyage
from shipflow.events.shipment.aggregate import Shipment
from shipflow.events.shipment.booking import Approval
from shipflow.events.shipment.charges import ChargeChange, ChargeDirection, ChargeLine
from shipflow.events.shipment.documents import BlDating, BlIssue, BlRelease
from shipflow.events.shipment.events import EVENT_TYPES, ChargeAdded
from shipflow.events.shipment.records import FieldChange, RuleConfirmation, SailingOutcome
from shipflow.events.shipment.tracking import CustomerNotice, Milestone, ShipmentException
from shipflow.services.shipments import ShipmentService
from shipflow.store import open_store

CST = timezone(timedelta(hours=8))


# --- helpers -------------------------------------------------------------------------------


def assert_same(sent: Any, got: Any, path: str = "$") -> None:
    """Equal, and of the very same types all the way down (Decimal digits, UTC, members)."""
    assert type(got) is type(sent), f"{path}: {type(sent).__name__} read back as " \
                                    f"{type(got).__name__} ({got!r})"
    if isinstance(sent, BaseModel):
        for name in type(sent).model_fields:
            assert_same(getattr(sent, name), getattr(got, name), f"{path}.{name}")
    elif isinstance(sent, dict):
        assert sent.keys() == got.keys(), path
        for key in sent:
            assert_same(sent[key], got[key], f"{path}[{key!r}]")
    elif isinstance(sent, list):
        assert len(sent) == len(got), path
        for i, (a, b) in enumerate(zip(sent, got, strict=True)):
            assert_same(a, b, f"{path}[{i}]")
    elif isinstance(sent, Decimal):
        assert sent.as_tuple() == got.as_tuple(), f"{path}: {sent} read back as {got}"
    elif isinstance(sent, datetime):
        assert got == sent, path
        assert got.utcoffset() == timedelta(0), f"{path}: {got.isoformat()} is not in UTC"
    elif isinstance(sent, Enum):
        assert got is sent, path
    else:
        assert got == sent, path


def state(shipment: Shipment) -> dict[str, Any]:
    return {k: v for k, v in vars(shipment).items() if k != "_pending_events"}


def raw_rows(settings: Settings, shipment_id: uuid.UUID) -> list[tuple]:
    """The stored rows themselves, read with the database's own driver."""
    if settings.is_postgres:
        query = sql.SQL("SELECT notification_id, originator_version, topic, state FROM {}.{} "
                        "WHERE originator_id = %s ORDER BY originator_version").format(
            sql.Identifier(settings.database_schema), sql.Identifier("shipflow_events"))
        with psycopg.connect(settings.database_url) as conn:
            return [(n, v, t, bytes(s)) for n, v, t, s in conn.execute(query, [shipment_id])]
    with closing(sqlite3.connect(settings.event_store_path)) as conn:
        return conn.execute("SELECT rowid, originator_version, topic, state FROM stored_events "
                            "WHERE originator_id = ? ORDER BY originator_version",
                            [shipment_id.hex]).fetchall()


def charge(code: str = "OFR", amount: str = "1850.00", **kw: Any) -> ChargeLine:
    data = {"direction": "RECEIVABLE", "code": code, "quantity": "1", "counterparty": "CUST-ACME",
            "unit_price": {"amount": amount, "currency": "USD"}, **kw}
    return ChargeLine.model_validate(data)


def container_no(owner_serial: str) -> str:
    return owner_serial + iso6346.calc_check_digit(owner_serial)


# --- where the events live -----------------------------------------------------------------


def test_events_live_in_their_own_file_or_schema(service, settings, tmp_path):
    sid = service.request_booking(order(), meta()).shipment_id
    assert [r[1:3] for r in raw_rows(settings, sid)] == [
        (1, "shipflow.events.shipment.events:BookingRequested")]
    if settings.is_postgres:
        with psycopg.connect(settings.database_url) as conn:
            tables = {r[0] for r in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                [settings.database_schema])}
        assert {"shipflow_events", "shipflow_snapshots"} <= tables
        return
    assert settings.event_store_path == tmp_path / "shipflow-events.db"
    with closing(sqlite3.connect(tmp_path / "shipflow-events.db")) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"stored_events", "stored_snapshots"} <= tables
    configured = tmp_path / "shipflow.db"
    if configured.exists():  # whatever lives there, it is not the library's event tables
        with closing(sqlite3.connect(configured)) as conn:
            names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        assert not names & {"stored_events", "stored_snapshots"}


# --- every payload kind round-trips ----------------------------------------------------------


class RoundTrip:
    """Saves a shipment's pending events and reads them straight back from the database."""

    def __init__(self, service: ShipmentService) -> None:
        self.store = service.store
        self.seen: set[str] = set()

    def __call__(self, shipment: Shipment, command: Any = None, *args: Any) -> Any:
        """Run ``command(*args)`` (a method of ``shipment``), save, compare what comes back."""
        result = command(*args) if command else None
        sent = list(shipment.pending_events)
        assert sent, "the command recorded nothing"
        self.store.save(shipment)
        got = list(self.store.events.get(shipment.id, gt=sent[0].originator_version - 1))
        assert [type(e) for e in got] == [type(e) for e in sent]
        for a, b in zip(sent, got, strict=True):
            assert_same(vars(a), vars(b), type(a).__name__)
            self.seen.add(type(a).__name__)
        assert_same(state(shipment), state(self.store.repository.get(shipment.id)), "state")
        return result


def rich_order() -> Any:
    return order(
        planned_vessel_voyage={"vessel": "TEMP"}, pod="PHMNL", pod_terminal="SOUTH",
        place_of_delivery="PHMNL", us_routing=None, transshipment_ports=["SGSIN", "HKHKG"],
        gross_weight_kg="14500.125", volume_cbm="61.5",
        equipment=[{"size_type": "45G1", "count": 1},
                   {"size_type": "45R1", "count": 1, "genset_required": True,
                    "reefer": {"temperature_c": "-18.5", "ventilation_cbm_h": "0"}}],
        stuffing={"method": "CY", "expected_delivery_at": "2026-12-01T09:00:00+08:00",
                  "delivery_place": "Waigaoqiao CFS"},
        settlement_party="THIRD_PARTY", settlement_third_party={"name": "Acme HK Ltd"},
        bl_clauses=["SHIPPER'S LOAD, STOW AND COUNT"], customer_signature_ref=None)


def test_every_event_and_payload_kind_round_trips_exactly(service):
    rt = RoundTrip(service)
    tms = meta(actor="tms.bot", role="integration", source=Source.TMS, causation_id="c-1",
               external_id="ext-9", occurred_at=NOW - timedelta(hours=1))
    s = Shipment.request(rich_order(), meta())
    rt(s)
    # On hold: neither signature nor the carrier's consent to the B/L clause; then confirmed.
    assert rt(s, s.review, meta(), []).value == "ON_HOLD"
    rt(s, s.review, meta(), [RuleConfirmation(rule=rule, confirmed_by="Route manager Zhao",
                                              confirmed_at=NOW, note="ok by phone")
                             for rule in ("customer_signature_required",
                                          "carrier_consent_required")])
    rt(s, s.confirm_by_carrier, confirmation(), meta())
    changes = [FieldChange(field="consignee.address", after="2 Harbor Dr"),
               FieldChange(field="equipment.0.count", after=2),
               FieldChange(field="notify_party", after={"name": "Acme Notify", "phone": "+1 5"})]
    n = rt(s, s.request_amendment, amendment(changes, "email 2026-11-21", "consignee moved",
           [charge("AMD", "35.50")], ["customs_broker"]), meta())
    rt(s, s.approve_amendment, n, meta())  # AmendmentApproved + the fee as ChargeAdded
    rt(s, s.request_amendment, amendment([FieldChange(field="remarks", after="fragile")],
                                         "email 2", "",
       [], []), meta())
    rt(s, s.reject_amendment, 2, "customer withdrew", meta())
    boxes = [{"container_no": container_no(no), "size_type": st, "seals": ["S1", "S2"],
              "packages": 60, "cargo_weight_kg": "7250.5", "vgm_kg": "11000", "vgm_method": "SM2"}
             for no, st in (("MSKU123456", "45G1"), ("TGHU765432", "45R1"))]
    rt(s, s.submit_shipping_instructions, shipping_instructions(containers=boxes), meta())
    vessel = VesselVoyage(vessel="MAERSK ESSEN", voyage="248E", imo="9456769")
    rt(s, s.record_milestone, Milestone(kind="TRANSPORT", code="DEPA", classifier="EST",
                                        event_time=NOW + timedelta(days=16), facility="WGQ4",
                                        vessel_voyage=vessel), tms)  # + ScheduleChanged
    rt(s, s.roll_over, rollover(VesselVoyage(vessel="MSC ANNA", voyage="051W"), "vessel full",
       NOW + timedelta(days=18), NOW + timedelta(days=33), 0), meta())
    rt(s, s.roll_over, rollover(VesselVoyage(vessel="FEEDER 1", voyage="9"), "feeder change",
       NOW + timedelta(days=18), NOW + timedelta(days=35), 2), meta())  # legs hold a None
    x = rt(s, s.raise_exception, ShipmentException(
        kind="CUSTOMS_INSPECTION", description="X-ray", location="CNSHA"), meta(role="tracking"))
    rt(s, s.resolve_exception, x, "released", meta())
    c = rt(s, s.add_charge, charge("STORAGE", "12.3456", reason="port storage", quantity="2.5"),
           None, meta(role="finance"))
    rt(s, s.adjust_charge, c, ChargeChange(quantity=Decimal("3.125"), reason="one more day"),
       meta())
    rt(s, s.record_invoiced, "INV-CUST-ACME-00001", "CUST-ACME", [c], meta(role="cs"))
    rt(s, s.release_invoiced, "INV-CUST-ACME-00001", "CN-CUST-ACME-00001", [c],
       meta(role="finance"))  # a credit note took it off the invoice: it may be voided
    rt(s, s.void_charge, c, "waived by manager", meta())
    for code, kind in (("GTIN", "EQUIPMENT"), ("LOAD", "EQUIPMENT"), ("DEPA", "TRANSPORT")):
        box = container_no("MSKU123456") if kind == "EQUIPMENT" else None
        rt(s, s.record_milestone, Milestone(
            kind=kind, code=code, classifier="ACT", location="CNSHA", container_no=box,
            event_time=NOW + timedelta(days=18, hours=len(code))), meta())
    rt(s, s.approve_bl_draft, Approval(by="Ms Chen", capacity="customer", at=NOW), 2, meta())
    rt(s, s.approve_bl_dating, BlDating.BACK_DATED, "SR-7", "L/C expiry", meta(role="manager"))
    issue = BlIssue(bl_number="SFLW1", release=BlRelease.TELEX, place_of_issue="CNSHA",
                    shipped_on_board_date=date(2026, 12, 7), issue_date=date(2026, 12, 8))
    assert rt(s, s.issue_bl, issue, meta()) is BlDating.BACK_DATED
    rt(s, s.notify_customer, CustomerNotice(kind="DELAY_NOTICE", reference="MAIL-1"), meta())
    assert rt(s, s.record_sla_breach, "booking_confirmation", "booking_confirmation", NOW,
              NOW + timedelta(hours=4), meta(actor="shipflow", role="system"))
    rt(s, s.record_sailing_outcome, SailingOutcome.SHIPPED, "", meta())
    rt(s, s.close, "done", meta())
    rejected = Shipment.request(order(), meta())
    rt(rejected)
    rt(rejected, rejected.reject_by_carrier, "no space", meta())
    declined = Shipment.request(order(), meta())
    declined.review(meta(), [])
    rt(declined, declined.confirm_by_carrier, confirmation(), meta())
    rt(declined, declined.decline, "vessel omitted", meta())
    cancelled = Shipment.request(order(), meta())
    rt(cancelled, cancelled.cancel, "customer cancelled", meta())
    assert rt.seen == set(EVENT_TYPES)


def test_confirmation_times_given_with_an_offset_are_stored_in_utc(service):
    sid = service.request_booking(order(customer_signature_ref=None), meta()).shipment_id
    service.review(sid, [RuleConfirmation(rule="customer_signature_required", confirmed_by="Zhao",
                                          confirmed_at=datetime(2026, 11, 20, 16, tzinfo=CST))],
                   meta())
    confirmed_at = service.get(sid).confirmations[0].confirmed_at
    assert_same(datetime(2026, 11, 20, 8, tzinfo=UTC), confirmed_at)


def test_rollover_times_given_with_an_offset_are_stored_in_utc(service):
    sid = service.request_booking(order(), meta()).shipment_id
    service.review(sid, [], meta())
    service.confirm_by_carrier(sid, confirmation(), meta())
    service.roll_over(sid, rollover(VesselVoyage(vessel="MSC ANNA", voyage="1"), "rolled",
                      datetime(2026, 12, 8, 9, tzinfo=CST), datetime(2026, 12, 28, 9, tzinfo=CST),
                      0), meta())
    s = service.get(sid)
    assert [t.utcoffset() for t in (s.planned_etd, s.planned_eta, s.etd)] == [timedelta(0)] * 3


# --- snapshots and historical state ---------------------------------------------------------


def grow(svc: ShipmentService, sid: uuid.UUID, target: int) -> None:
    """Put a realistic mix of commands on a shipment until it has ``target`` events."""
    i = 0
    while svc.get(sid).version < target:
        i += 1
        m = meta(occurred_at=NOW + timedelta(minutes=i))
        n = svc.add_charge(sid, charge(f"X{i}", f"{i}.25"), None, m).result
        svc.adjust_charge(sid, n, ChargeChange(quantity=Decimal(i + 1), reason="recount"), m)
        svc.record_milestone(sid, Milestone(kind="TRANSPORT", code="DEPA", classifier="EST",
                                            event_time=NOW + timedelta(days=15, hours=i)), m)
        x = svc.raise_exception(sid, ShipmentException(kind="STRIKE", description=f"#{i}"),
                                m).result
        svc.resolve_exception(sid, x, "over", m)
        a = svc.request_amendment(sid, amendment([FieldChange(field="consignee.address",
                                                    after=f"{i} Harbor Dr")],
                                  f"mail {i}", "moved", [charge(f"A{i}")], ["finance"]), m).result
        svc.approve_amendment(sid, a, m)
        svc.submit_shipping_instructions(sid, shipping_instructions(marks_and_numbers=f"M{i}"), m)
        svc.roll_over(sid, rollover(VesselVoyage(vessel=f"VESSEL {i}", voyage=f"{i}E"), "rolled",
                      NOW + timedelta(days=16 + i), NOW + timedelta(days=40 + i), 0), m)
        svc.void_charge(sid, n, "duplicate", m)


@pytest.mark.parametrize("interval", [7, 50])
def test_snapshots_and_historical_reads_match_a_plain_fold(settings, interval):
    snapping = ShipmentService.from_settings(settings.model_copy(
        update={"snapshot_interval": interval}))
    # A huge interval alone still *reads* the shared snapshots: switch the snapshot store off.
    plain = ShipmentService(open_store(settings.model_copy(update={"snapshot_interval": 10**9}),
                                       IS_SNAPSHOTTING_ENABLED="no"))
    try:
        assert plain.store.snapshots is None
        sid = snapping.request_booking(order(), meta()).shipment_id
        snapping.review(sid, [], meta())
        snapping.confirm_by_carrier(sid, confirmation(), meta())
        grow(snapping, sid, 120)
        final = snapping.get(sid).version
        assert final >= 120
        snaps = [e.originator_version for e in snapping.store.snapshots.get(sid)]
        assert snaps == list(range(interval, final + 1, interval))

        # The plain fold of the whole history, one version at a time.
        events = plain.history(sid)
        assert [e.originator_version for e in events] == list(range(1, final + 1))
        folded, shipment = {}, None
        for e in events:
            shipment = e.mutate(shipment)
            folded[e.originator_version] = copy.deepcopy(state(shipment))
        for v in range(1, final + 1):
            got = snapping.get(sid, version=v)
            assert got.version == v
            assert_same(folded[v], state(got), f"version {v}")
        for v in {*snaps, *(v + 1 for v in snaps if v < final), *(v - 1 for v in snaps), final}:
            assert_same(folded[v], state(plain.get(sid, version=v)), f"plain version {v}")

        times = [e.timestamp for e in events]
        probes = times + [a + (b - a) / 2 for a, b in zip(times[::9], times[1::9], strict=False)]
        for t in probes:
            expected = max(e.originator_version for e in events if e.timestamp <= t)
            got = snapping.get_as_of(sid, t)
            assert got.version == expected
            assert_same(folded[expected], state(got), f"as of {t}")

        with pytest.raises(NotFound) as before:
            snapping.get_as_of(sid, times[0] - timedelta(microseconds=1))
        assert before.value.rule == "shipment_not_yet_booked"
        with pytest.raises(NotFound) as unknown:
            snapping.get_as_of(uuid.uuid4(), datetime.now(UTC))
        assert unknown.value.rule == "shipment_not_found"
    finally:
        snapping.close()
        plain.close()


# --- upcasting and immutability -------------------------------------------------------------


def v1_charge_added(sid: uuid.UUID, **extra: Any) -> StoredEvent:
    """A ChargeAdded exactly as the v1 mapper wrote it: flat money fields, no class_version."""
    now = datetime.now(UTC).isoformat()
    state_ = {
        "timestamp": {"_type_": "datetime_iso", "_data_": now},
        "meta": {"_type_": "EventMeta", "_data_": {
            "actor": "ar.zhou", "role": "finance", "source": {"_type_": "Source", "_data_": "api"},
            "occurred_at": {"_type_": "datetime_iso", "_data_": "2026-11-20T09:00:00+00:00"},
            "correlation_id": "legacy-1", "causation_id": None, "external_id": None}},
        "number": 1,
        "direction": {"_type_": "ChargeDirection", "_data_": "RECEIVABLE"},
        "code": "OFR",
        "amount": {"_type_": "decimal_str", "_data_": "1850.50"},
        "currency": "USD",
        "counterparty": "CUST-ACME",
        **extra,
    }
    return StoredEvent(originator_id=sid, originator_version=2, topic=get_topic(ChargeAdded),
                       state=json.dumps(state_, separators=(",", ":")).encode())


@pytest.mark.parametrize("extra", [{}, {"description": "ocean freight", "reason": "as quoted"}],
                         ids=["minimal", "with-description"])
def test_v1_charge_added_is_upcast_to_a_charge_line(service, settings, extra):
    assert ChargeAdded.class_version == 2
    sid = service.request_booking(order(), meta()).shipment_id
    stored = v1_charge_added(sid, **extra)
    assert b"class_version" not in stored.state
    service.store.recorder.insert_events([stored])

    old = Money(amount=Decimal("1850.50"), currency="USD")
    s = service.get(sid)
    assert s.version == 2
    [c] = s.charges
    assert isinstance(c.line, ChargeLine)
    assert c.line.direction is ChargeDirection.RECEIVABLE
    assert_same(Decimal(1), c.line.quantity)
    assert_same(old, c.line.unit_price)
    assert c.line.amount == old
    assert (c.number, c.line.code, c.line.counterparty, c.amendment_number) == (
        1, "OFR", "CUST-ACME", None)
    assert c.line.description == extra.get("description", "")
    assert c.line.reason == extra.get("reason")

    event = service.history(sid)[1]
    assert type(event) is ChargeAdded
    assert set(vars(event)) == {"originator_id", "originator_version", "timestamp", "meta",
                                "number", "line", "amendment_number"}
    assert event.meta.actor == "ar.zhou"
    audit = event_record(event)  # what GET /shipments/{id}/events renders
    assert audit.payload["line"]["unit_price"] == {"amount": "1850.50", "currency": "USD"}
    assert audit.payload["line"]["quantity"] == "1"

    # New charges continue the numbering; the v1 row itself is never rewritten.
    assert service.add_charge(sid, charge("THC", "1100"), None, meta()).result == 2
    rows = raw_rows(settings, sid)
    assert rows[1][3] == stored.state
    assert json.loads(rows[2][3])["class_version"] == 2
    service.store.take_snapshot(sid)
    assert_same(state(service.get(sid)), state(service.store.repository.get(sid)))
    assert [c.line.code for c in service.get(sid).charges] == ["OFR", "THC"]


def test_stored_events_are_never_updated(service, settings):
    sid = service.request_booking(order(), meta()).shipment_id
    service.review(sid, [], meta())
    service.confirm_by_carrier(sid, confirmation(), meta())
    n = service.add_charge(sid, charge(), None, meta()).result
    before = raw_rows(settings, sid)
    assert len(before) == 4

    a = service.request_amendment(sid, amendment([FieldChange(field="pod", after="USLGB")], "mail",
                                                 "",
                                  [], []), meta()).result
    service.approve_amendment(sid, a, meta())
    service.adjust_charge(sid, n, ChargeChange(unit_price=Money(amount=Decimal("1900"),
                                                                currency="USD"), reason="GRI"),
                          meta())
    service.void_charge(sid, n, "rebilled", meta())
    service.confirm_by_carrier(sid, confirmation(carrier_booking_no="255999999"), meta())
    service.store.take_snapshot(sid)
    after = raw_rows(settings, sid)
    assert len(after) == 9
    assert after[:4] == before  # same positions, topics and bytes
    assert service.get(sid, version=4).order.pod == "USLAX"


def test_v1_bl_draft_approval_reads_as_approving_no_particular_document(service):
    """BlDraftApproved v1 had no fingerprint of the approved document: read back it is an
    approval of no particular document, so the B/L must be approved again before issue."""
    from shipflow.events.common import InvalidTransition
    from shipflow.events.shipment.events import BlDraftApproved

    assert BlDraftApproved.class_version == 2
    sid = service.request_booking(order(), meta()).shipment_id
    service.review(sid, [], meta())
    service.confirm_by_carrier(sid, confirmation(), meta())
    service.submit_shipping_instructions(sid, shipping_instructions(), meta())
    version = service.get(sid).version
    v1 = {
        "timestamp": {"_type_": "datetime_iso", "_data_": datetime.now(UTC).isoformat()},
        "meta": {"_type_": "EventMeta", "_data_": {
            "actor": "cs.wang", "role": "cs", "source": {"_type_": "Source", "_data_": "api"},
            "occurred_at": {"_type_": "datetime_iso", "_data_": "2026-11-20T09:00:00+00:00"},
            "correlation_id": "legacy-2", "causation_id": None, "external_id": None}},
        "approval": {"_type_": "Approval", "_data_": {
            "by": "Ms Chen (Acme)", "capacity": "customer",
            "at": {"_type_": "datetime_iso", "_data_": "2026-11-20T09:00:00+00:00"},
            "reference": None}},
        "draft_version": None,
    }
    service.store.recorder.insert_events([StoredEvent(
        originator_id=sid, originator_version=version + 1, topic=get_topic(BlDraftApproved),
        state=json.dumps(v1, separators=(",", ":")).encode())])

    s = service.get(sid)
    assert s.bl.draft_approval.by == "Ms Chen (Acme)"
    assert s.bl.approved_fingerprint is None and not s.bl_approval_current
    issue = BlIssue(bl_number="SFLW1", shipped_on_board_date=date(2026, 12, 5),
                    place_of_issue="CNSHA", issue_date=date(2026, 12, 5))
    with pytest.raises(InvalidTransition, match="bl_draft_not_approved"):
        service.issue_bl(sid, issue, meta())
    service.approve_bl_draft(sid, Approval(by="Ms Chen (Acme)", at=NOW), None, meta())
    assert service.get(sid).bl_approval_current
