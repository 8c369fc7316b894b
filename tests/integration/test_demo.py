"""The demo set (`shipflow demo`), loaded through the service on SQLite and PostgreSQL: what a
user opening it would notice — every status, the twists a CS desk meets, two months of
history — and that the same seed gives the same shipments."""

from __future__ import annotations

import io
import re
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from typing import Any

from pydantic_core import to_jsonable_python
from rich.console import Console

from shipflow.demo import DEMO_BASE, load_demo
from shipflow.events.shipment.records import AmendmentStatus, BookingStatus
from shipflow.events.shipment.tracking import Classifier
from shipflow.services.shipments import ShipmentService

CJK = re.compile(r"[\u4e00-\u9fff]")


def quiet() -> Console:
    return Console(file=io.StringIO(), width=120)


def test_fifty_demo_shipments_look_like_a_forwarding_desk(settings):
    """One load of the full set (slow on PostgreSQL), three looks at it."""
    ids = load_demo(settings, 50, console=quiet())
    svc = ShipmentService.from_settings(settings)
    try:
        every_status_present_and_readable(svc, ids)
        the_twists_of_a_desk_are_there(svc, ids)
        the_data_looks_lived_in(svc, ids)
    finally:
        svc.close()


def every_status_present_and_readable(svc: ShipmentService, ids: list[Any]) -> None:
    assert len(ids) == len(set(ids)) == 50
    states = [svc.get(i) for i in ids]
    histories = {i: svc.history(i) for i in ids}
    assert all(s.version == len(histories[s.id]) for s in states)
    assert {s.status for s in states} == set(BookingStatus)
    by_status = Counter(s.status for s in states)
    assert by_status[BookingStatus.CANCELLED] >= 2
    assert by_status[BookingStatus.COMPLETED] >= 5
    assert by_status[BookingStatus.CONFIRMED] >= 15  # most of a desk's jobs are under way
    on_hold = [s for s in states if s.status is BookingStatus.PENDING_UPDATE]
    assert any(v.rule == "customer_signature_required" for s in on_hold
               for v in s.open_violations)
    assert any(c.rule == "customer_signature_required" and c.confirmed_by
               for s in states for c in s.confirmations)  # hold released, who and when kept
    # the state a while ago reads too (time travel on every shipment)
    for s in states[:10]:
        past = histories[s.id][0].timestamp
        assert svc.get_as_of(s.id, past).version == 1


def the_twists_of_a_desk_are_there(svc: ShipmentService, ids: list[Any]) -> None:
    states = [svc.get(i) for i in ids]
    events = [e for i in ids for e in svc.history(i)]
    kinds = Counter(type(e).__name__ for e in events)

    rolls = [e for e in events if type(e).__name__ == "RolledOver"]
    assert {e.leg for e in rolls} == {0, 1}  # before departure and at transshipment
    assert kinds["SailingOutcomeRecorded"] > kinds["BlIssued"] // 2
    assert any(s.sailing_outcome is None and s.status is BookingStatus.CONFIRMED
               and any(e.leg == 0 for e in rolls if e.originator_id == s.id) for s in states)

    amendments = [a for s in states for a in s.amendments]
    assert {a.status for a in amendments} == set(AmendmentStatus)
    with_fee = [(s, a) for s in states for a in s.amendments if a.charges]
    assert with_fee and all(a.customer_confirmation_ref and a.notify_parties
                            for _, a in with_fee)
    assert any(c.amendment_number == a.number for s, a in with_fee for c in s.charges)

    reefers = [line for s in states for line in s.order.equipment if line.size_type == "45R1"]
    assert reefers and all(r.reefer.temperature_c is not None
                           and r.reefer.ventilation_cbm_h is not None
                           and r.genset_required is not None for r in reefers)

    raised = [e for s in states for e in s.exceptions]
    assert any(e.is_open for e in raised) and any(not e.is_open for e in raised)
    assert len({e.exception.kind for e in raised}) >= 4

    lines = [c.line for s in states for c in s.charges]
    assert {"USD", "CNY", "MXN"} <= {line.unit_price.currency for line in lines}
    assert {str(line.direction) for line in lines} == {"RECEIVABLE", "PAYABLE", "COLLECT"}
    assert all(isinstance(line.unit_price.amount, Decimal) for line in lines)
    assert any(line.unit_price.currency == "MXN" and str(line.direction) == "COLLECT"
               for line in lines)
    assert any(c.line.reason for s in states for c in s.charges)  # extra costs say why
    assert any(c.voided for s in states for c in s.charges)

    issued = [s for s in states if s.bl_issue is not None]
    assert len(issued) >= 10
    assert {str(s.bl_issue.document_type) for s in issued} == {"BOL", "SWB"}
    assert all(s.status is BookingStatus.COMPLETED or s.sailing_outcome is None
               or str(s.sailing_outcome) == "SHIPPED" for s in states)


def the_data_looks_lived_in(svc: ShipmentService, ids: list[Any]) -> None:
    states = [svc.get(i) for i in ids]
    orders = [s.order for s in states]
    assert 5 <= len({o.customer_id for o in orders}) <= 8
    assert all(CJK.search(o.shipper.name) for o in orders)
    assert {o.pol for o in orders} == {"CNSHA", "CNNGB", "CNSZX"}
    assert {o.pod for o in orders} == {"USLAX", "MXZLO", "NLRTM", "AEJEA", "PHMNL"}
    assert all(o.pod_terminal in ("NORTH", "SOUTH") for o in orders if o.pod == "PHMNL")
    assert all(o.us_routing is not None for o in orders if o.pod == "USLAX")
    assert len({o.carrier for o in orders}) >= 5
    assert len({o.cs_owner for o in orders}) >= 3 and len({o.sales_owner for o in orders}) >= 3
    assert len({s.vessel_voyage.vessel for s in states if s.confirmed}) >= 8

    events = [e for i in ids for e in svc.history(i)]
    occurred = [e.meta.occurred_at for e in events]
    assert max(occurred) <= DEMO_BASE
    assert DEMO_BASE - min(occurred) <= timedelta(days=65)
    assert DEMO_BASE - min(occurred) >= timedelta(days=45)
    assert all(o.tzinfo is not None and o.utcoffset() == timedelta(0) for o in occurred)
    milestones = [e.milestone for e in events if type(e).__name__ == "MilestoneRecorded"]
    assert {m.classifier for m in milestones} >= {Classifier.EST, Classifier.ACT}
    assert {"DEPA", "ARRI", "GTIN", "LOAD", "DISC"} <= {m.code for m in milestones}
    assert {str(e.meta.source) for e in events} >= {"api", "carrier_feed"}


def fingerprint(svc: ShipmentService, ids: list[Any]) -> list[Any]:
    """Everything about the shipments except their ids and when they were recorded."""
    skip = {"originator_id", "timestamp", "originator_topic"}
    return [[(type(e).__name__, to_jsonable_python({k: v for k, v in vars(e).items()
                                                    if k not in skip}))
             for e in svc.history(i)] for i in ids]


def test_same_seed_gives_the_same_demo(settings):
    a = load_demo(settings, 12, seed=3, console=quiet())
    b = load_demo(settings, 12, seed=3, console=quiet())
    c = load_demo(settings, 12, seed=4, console=quiet())
    svc = ShipmentService.from_settings(settings)
    try:
        assert set(a).isdisjoint(b)  # new shipments each time ...
        assert fingerprint(svc, a) == fingerprint(svc, b)  # ... with the same content
        assert fingerprint(svc, a) != fingerprint(svc, c)
    finally:
        svc.close()
