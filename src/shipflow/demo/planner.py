"""Demo data: a lived-in set of export shipments, loaded through :class:`ShipmentService`.

Each shipment is planned first (seeded: the same seed gives the same shipments) as commands
at offsets from the moment its booking arrived, cut at the stage its scenario names. The
commands of all shipments then run in the order they happened (``EventMeta.occurred_at``
spread over the ~60 days before a fixed base date), so the log reads like a desk's two months.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from shipflow.demo.data import (
    AMENDMENT_FEE_CNY,
    CUSTOMS_BROKER,
    DOC_CNY,
    NOTIFY_ON_AMENDMENT,
    OPS_MANAGER,
    ROUTE_MANAGER,
    SCENARIOS,
    THC_CNY,
    TRUCKERS,
    D,
    Draft,
    Scenario,
    Stage,
)
from shipflow.events.common import EventMeta, Money, Source, VesselVoyage
from shipflow.events.shipment.amendments import AmendmentRequest
from shipflow.events.shipment.booking import Approval, BookingOrder
from shipflow.events.shipment.charges import ChargeChange, ChargeLine
from shipflow.events.shipment.documents import BlDating, BlIssue
from shipflow.events.shipment.records import FieldChange, RuleConfirmation, SailingOutcome
from shipflow.events.shipment.tracking import Milestone, Rollover, ShipmentException
from shipflow.services.shipments import ShipmentService

DEMO_BASE = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
WINDOW_DAYS = 60
CHINA = ZoneInfo("Asia/Shanghai")  # every port of loading here; B/L dates are local
S = Stage
NO_ID = UUID(int=0)
Run = Callable[[ShipmentService, "Job", EventMeta], Any]


@dataclass
class Step:
    day: float  # days after the booking arrived
    stage: Stage
    actor: str
    role: str
    run: Run
    source: Source = Source.API
    key: str | None = None  # keep the command's result (an amendment or exception number)


@dataclass
class Job:
    scenario: Scenario
    draft: Draft
    ref: str
    steps: list[Step] = field(default_factory=list)
    start: datetime = DEMO_BASE
    order: BookingOrder = field(init=False)  # drawn once the plan is dated
    sid: UUID = NO_ID  # known once the booking is requested
    results: dict[str, Any] = field(default_factory=dict)

    def at(self, day: float) -> datetime:
        return self.start + timedelta(days=day)


def _scenarios(count: int, rng: random.Random) -> list[Scenario]:
    picked = list(SCENARIOS[:count])
    weighted = [s for s in SCENARIOS if s.weight]
    picked += rng.choices(weighted, [s.weight for s in weighted], k=max(0, count - len(picked)))
    rng.shuffle(picked)
    return picked


def _line(direction: str, code: str, qty: Any, amount: Any, currency: str, party: str,
          reason: str | None = None) -> ChargeLine:
    return ChargeLine.model_validate({
        "direction": direction, "code": code, "quantity": str(qty), "counterparty": party,
        "unit_price": {"amount": str(amount), "currency": currency}, "reason": reason})


def _at(day: float) -> Callable[[Job], datetime]:
    return lambda j: j.at(day)


class _Planner:
    """Plans one shipment's commands, as far as its scenario goes. Random draws happen only
    here and in :meth:`Draft.draw`, in a fixed order."""

    def __init__(self, index: int, scenario: Scenario, rng: random.Random,
                 base: datetime) -> None:
        self.r, self.tw, self.base = rng, scenario.twists, base
        self.d = Draft.draw(index, scenario.twists, rng)
        self.job = Job(scenario, self.d, f"SF2611-{index + 1:04d}")
        self.cs = self.d.customer.cs

    def add(self, day: float, stage: Stage, run: Run, who: str | None = None,
            role: str = "cs", source: Source = Source.API, key: str | None = None) -> None:
        self.job.steps.append(Step(day, stage, who or self.cs, role, run, source, key))

    def feed(self, day: float, stage: Stage, code: str, when: Callable[[Job], datetime],
             classifier: str = "ACT", boxes: int = 0, kind: str = "EQUIPMENT") -> None:
        """A DCSA milestone from the carrier's feed, per container or for the booking."""
        loc = self.d.dest.pod if code in ("DISC", "GTOT", "DROP", "HOLD", "RELS") else self.d.pol
        for n, box in enumerate(self.d.containers[:boxes] if boxes else [None]):
            def run(svc: ShipmentService, j: Job, m: EventMeta, box: str | None = box) -> Any:
                return svc.record_milestone(j.sid, Milestone(
                    kind=kind, code=code, classifier=classifier, event_time=when(j),
                    location=None if kind == "TRANSPORT" else loc, container_no=box), m)
            self.add(day + n * 0.01, stage, run, f"feed.{self.d.carrier.lower()}",
                     "integration", Source.CARRIER_FEED)

    def charge(self, day: float, stage: Stage, direction: str, code: str, qty: Any,
               amount: Any, currency: str, party: str, reason: str | None = None,
               key: str | None = None) -> None:
        line = _line(direction, code, qty, amount, currency, party, reason)
        self.add(day, stage, lambda svc, j, m: svc.add_charge(j.sid, line, None, m), key=key)

    def exception(self, day: float, stage: Stage, kind: str, text: str, where: str,
                  resolved: tuple[float, Stage, str] | None = None) -> None:
        exc = ShipmentException(kind=kind, description=text, location=where)
        self.add(day, stage, lambda svc, j, m: svc.raise_exception(j.sid, exc, m), key=kind)
        if resolved:
            self.add(resolved[0], resolved[1], lambda svc, j, m: svc.resolve_exception(
                j.sid, j.results[kind], resolved[2], m))

    def amend(self, day: float, stage: Stage, key: str, reason: str,
              changes: Callable[[Job], list[FieldChange]], charges: tuple[ChargeLine, ...] = (),
              decide: tuple[float, str] | None = None) -> None:
        """委托更改: requested on the customer's written word; decided by the booking's CS."""
        ref = f"email from {self.d.customer.contact.split(' +')[0]}, {self.job.ref}"
        self.add(day, stage, lambda svc, j, m: svc.request_amendment(j.sid, AmendmentRequest(
            changes=changes(j), customer_confirmation_ref=ref, reason=reason,
            charges=list(charges), notify_parties=list(NOTIFY_ON_AMENDMENT)), m), key=key)
        if decide and decide[1]:
            self.add(decide[0], stage, lambda svc, j, m: svc.reject_amendment(
                j.sid, j.results[key], decide[1], m))
        elif decide:
            self.add(decide[0], stage, lambda svc, j, m: svc.approve_amendment(
                j.sid, j.results[key], m))

    def roll(self, day: float, leg: int, to: VesselVoyage, reason: str, etd: float,
             eta: float) -> None:
        self.add(day, S.GATED_IN if leg == 0 else S.DEPARTED, lambda svc, j, m: svc.roll_over(
            j.sid, Rollover(to_vessel_voyage=to, reason=reason, new_etd=j.at(etd),
                            new_eta=j.at(eta), leg=leg), m))

    # --- the life of a shipment --------------------------------------------------------------

    def plan(self) -> Job:  # noqa: C901 - one branch per twist, in the order things happen
        r, tw, add, d, cust = self.r, self.tw, self.add, self.d, self.d.customer
        n, pol, pod = d.boxes, d.pol, d.dest.pod
        add(0, S.RECEIVED, lambda svc, j, m: svc.request_booking(j.order, m))
        rv = r.uniform(0.05, 0.6)
        if tw & {"hold", "consent"}:
            add(rv, S.RECEIVED, lambda svc, j, m: svc.review(j.sid, [], m))  # on hold
            if "sign_by_amendment" in tw:
                signed = f"SO-STAMPED-{d.index + 1:04d}"
                self.amend(rv + 0.8, S.REVIEWED, "sign", "stamped booking order received",
                           lambda j: [FieldChange(field="customer_signature_ref", after=signed)],
                           decide=(rv + 0.85, ""))
                add(rv + 0.9, S.REVIEWED, lambda svc, j, m: svc.review(j.sid, [], m))
            else:
                rule, by, note = (
                    ("carrier_consent_required", f"{d.carrier} booking desk", "carrier "
                     "accepts the L/C clause on its B/L") if "consent" in tw else
                    ("customer_signature_required", ROUTE_MANAGER, "regular account; stamped "
                     "S/O follows by courier"))
                add(rv + 0.3, S.REVIEWED, lambda svc, j, m: svc.review(j.sid, [RuleConfirmation(
                    rule=rule, confirmed_by=by, confirmed_at=m.occurred_at - timedelta(hours=1),
                    note=note, recorded_by=m.actor)], m))
            rv += 0.9
        else:
            add(rv, S.REVIEWED, lambda svc, j, m: svc.review(j.sid, [], m))
        conf = rv + r.uniform(0.4, 1.5)
        add(conf, S.CONFIRMED, lambda svc, j, m: svc.confirm_by_carrier(
            j.sid, d.confirmation(j.start), m))
        sell, buyer = ("COLLECT", d.dest.consignee) if d.collect else ("RECEIVABLE", cust.id)
        thc = THC_CNY[d.cargo.size_type]
        self.charge(conf + 0.1, S.CONFIRMED, sell, "OFR", n, d.ofr, "USD", buyer, key="ofr")
        self.charge(conf + 0.11, S.CONFIRMED, "RECEIVABLE", "THC", n, thc, "CNY", cust.id)
        self.charge(conf + 0.12, S.CONFIRMED, "RECEIVABLE", "DOC", 1, DOC_CNY, "CNY", cust.id)
        self.charge(conf + 0.13, S.CONFIRMED, "PAYABLE", "OFR", n,
                    (d.ofr * D("0.86")).quantize(D(1)), "USD", d.carrier)
        if d.drayage:
            trucker, cost = r.choice(TRUCKERS[pol]), r.choice((1450, 1600, 1850, 2200))
            self.charge(conf + 0.14, S.CONFIRMED, "PAYABLE", "TRUCKING", n, cost, "CNY", trucker)
            self.charge(conf + 0.15, S.CONFIRMED, "RECEIVABLE", "TRUCKING", n, cost + 300, "CNY",
                        cust.id)
        if "amend_fee" in tw:
            def one_more_box(j: Job, n: int = n) -> list[FieldChange]:
                o = j.order
                return [FieldChange(field="equipment.0.count", after=n + 1),
                        FieldChange(field="packages", after=o.packages * (n + 1) // n),
                        *(FieldChange(field=f, after=str((getattr(o, f) * (n + 1) / n)
                                                         .quantize(D(1))))
                          for f in ("gross_weight_kg", "volume_cbm"))]
            fees = (_line("RECEIVABLE", "AMD", 1, AMENDMENT_FEE_CNY, "CNY", cust.id),
                    _line("RECEIVABLE", "OFR", 1, d.ofr, "USD", cust.id))
            self.amend(conf + 1.0, S.CONFIRMED, "amd", "one more container: PO quantity raised",
                       one_more_box, fees, decide=(conf + 1.2, ""))
            n += 1
        if "amend_reject" in tw:
            self.amend(conf + 1.0, S.CONFIRMED, "amd", "consignee asks to sail a week later",
                       lambda j: [FieldChange(field="requested_sailing_date", after=str(
                           j.at(d.etd_day + 7).date()))],
                       decide=(conf + 1.3, "no space on the later sailing; the customer keeps "
                               "the confirmed one"))
        etd, si = d.etd_day, max(4.0 + r.uniform(0, 0.8), conf + 1.5)
        add(si, S.SI, lambda svc, j, m: svc.submit_shipping_instructions(
            j.sid, d.shipping_instructions(svc.get(j.sid).order), m))
        self.feed(si + 0.3, S.SI, "DEPA", _at(etd + r.choice((0, 0, 0.25, 0.5))), "EST",
                  kind="TRANSPORT")
        if "shortage" in tw:
            self.exception(si + 0.4, S.SI, "EQUIPMENT_SHORTAGE", "no PTI-passed 45R1 at the "
                           "depot", pol, (etd - 3.2, S.GATED_IN, "released at another depot"))
        self.feed(etd - 3.0, S.GATED_IN, "PICK", _at(etd - 3.05), boxes=n)
        self.feed(etd - 2.0, S.GATED_IN, "GTIN", _at(etd - 2.05), boxes=n)
        if tw & {"inspection", "shut_out"}:
            self.exception(etd - 1.8, S.GATED_IN, "CUSTOMS_INSPECTION", "export declaration "
                           "selected for physical inspection", pol,
                           (etd + (-1.0 if "inspection" in tw else 1.0), S.GATED_IN, "released"))
            why = "customs physical inspection: devanning and re-stuffing"
            self.charge(etd - 1.2, S.GATED_IN, "PAYABLE", "INSPECTION", 1, 650, "CNY",
                        CUSTOMS_BROKER[pol], why)
            self.charge(etd - 1.19, S.GATED_IN, "RECEIVABLE", "INSPECTION", 1, 800, "CNY",
                        cust.id, why)
        shift = 0.0
        if "rollover" in tw:
            self.roll(etd - 1.0, 0, d.vessels[1], "vessel overbooked: cargo rolled by the "
                      "carrier", etd + 7, etd + 7 + d.transit)
            shift = 7.0
        if "shut_out" in tw:
            add(etd + 0.3, S.GATED_IN, lambda svc, j, m: svc.record_sailing_outcome(
                j.sid, SailingOutcome.SHUT_OUT, "inspection not released before loading", m))
            self.roll(etd + 0.5, 0, d.vessels[1], "shut out (退载): next sailing", etd + 7,
                      etd + 7 + d.transit)
            shift = 7.0
        etd += shift
        if shift:
            self.feed(etd - 5.5, S.GATED_IN, "DEPA", _at(etd), "EST", kind="TRANSPORT")
        shipper = cust.contact.split(" +")[0]
        add(etd - 1.2, S.GATED_IN, lambda svc, j, m: svc.approve_bl_draft(j.sid, Approval(
            by=shipper, capacity="shipper", at=m.occurred_at, reference="email"), None, m))
        bl = f"SFLW{pol[2:]}2611{d.index + 1:04d}"
        if "advance_bl" in tw:
            add(etd - 1.1, S.GATED_IN, lambda svc, j, m: svc.approve_bl_dating(
                j.sid, BlDating.ADVANCE, f"SR-{j.ref}", "L/C latest shipment date", m),
                OPS_MANAGER, "manager")
            add(etd - 1.0, S.GATED_IN, lambda svc, j, m: svc.issue_bl(j.sid, BlIssue(
                bl_number=bl, shipped_on_board_date=j.at(etd).astimezone(CHINA).date(),
                place_of_issue=pol, issue_date=m.occurred_at.astimezone(CHINA).date()), m))
        dep = etd + r.choice((0, 0, 0.1, 0.4))
        self.feed(dep - 0.25, S.DEPARTED, "LOAD", _at(dep - 0.3), boxes=n)
        self.feed(dep, S.DEPARTED, "DEPA", _at(dep - 0.02), kind="TRANSPORT")
        if "advance_bl" not in tw:
            swb = r.random() < 0.25
            issue = {"bl_number": bl, "place_of_issue": pol, "release": r.choice(
                ("ORIGINAL", "ORIGINAL", "TELEX"))} | ({"document_type": "SWB", "release":
                                                        "SEAWAY", "number_of_originals": 0}
                                                       if swb else {})
            add(dep + 0.3, S.DEPARTED, lambda svc, j, m: svc.issue_bl(j.sid, BlIssue(
                **issue, shipped_on_board_date=j.at(dep - 0.3).astimezone(CHINA).date(),
                issue_date=m.occurred_at.astimezone(CHINA).date()), m))
        add(dep + 0.5, S.DEPARTED, lambda svc, j, m: svc.record_sailing_outcome(
            j.sid, SailingOutcome.SHIPPED, "", m))
        slip = r.choice((0, 0, 0, 0.5, 1.5, 3))
        self.feed(dep + 1.5, S.DEPARTED, "ARRI", _at(dep + d.transit + slip), "EST",
                  kind="TRANSPORT")
        if "ts_rollover" in tw:
            leg1 = dep + d.transit * 0.45
            self.roll(leg1, 1, d.vessels[2], "missed connection at SGSIN: next feeder",
                      leg1 + 3, dep + d.transit + slip + 5)
            slip += 5
            self.exception(leg1 + 0.1, S.DEPARTED, "LATE_DELIVERY", "arrives 5 days late after "
                           "the transshipment rollover; consignee told", pod,
                           (dep + d.transit + slip + 0.5, S.ARRIVED, "consignee accepted"))
        arr = dep + d.transit + slip
        self.feed(arr, S.ARRIVED, "ARRI", _at(arr - 0.02), kind="TRANSPORT")
        self.feed(arr + 0.4, S.ARRIVED, "DISC", _at(arr + 0.35), boxes=n)
        if d.dest.dthc:
            self.charge(arr + 0.6, S.ARRIVED, "COLLECT", "DTHC", n, *d.dest.dthc,
                        d.dest.consignee)
        held = 3.0 if "held" in tw else 0.0
        if held:
            self.feed(arr + 1.0, S.ARRIVED, "HOLD", _at(arr + 0.95), kind="SHIPMENT")
            self.exception(arr + 1.05, S.ARRIVED, "HELD_BACK", "import customs hold: "
                           "documents check", pod, (arr + 4.0, S.DELIVERED, "released"))
            self.charge(arr + 4.1, S.DELIVERED, "RECEIVABLE", "STORAGE", n, 85, "USD", cust.id,
                        "terminal storage during the customs hold")
        self.feed(arr + 1.5 + held, S.DELIVERED if held else S.ARRIVED, "RELS",
                  _at(arr + 1.45 + held), kind="SHIPMENT")
        self.feed(arr + 2.5 + held, S.DELIVERED, "GTOT", _at(arr + 2.45 + held), boxes=n)
        late = r.random() < 0.25
        back = arr + 7.5 + held + (4 if late else 0)
        self.feed(back, S.DELIVERED, "DROP", _at(back - 0.05), boxes=n)
        if late:
            self.charge(back + 0.2, S.DELIVERED, "RECEIVABLE", "DETENTION", n, 120, "USD",
                        cust.id, "empty returned 4 days after the free time")
        if r.random() < 0.25:
            add(back + 0.5, S.CLOSED, lambda svc, j, m: svc.adjust_charge(
                j.sid, j.results["ofr"], ChargeChange(unit_price=Money(
                    amount=d.ofr + 100, currency="USD"), reason="GRI agreed with sales"), m))
        if r.random() < 0.2:
            self.charge(back + 0.6, S.CLOSED, "RECEIVABLE", "DOC", 1, DOC_CNY, "CNY", cust.id,
                        key="dup")
            add(back + 0.7, S.CLOSED, lambda svc, j, m: svc.void_charge(
                j.sid, j.results["dup"], "entered twice", m))
        add(back + r.uniform(1, 3), S.CLOSED, lambda svc, j, m: svc.close_shipment(
            j.sid, "all charges billed; job closed", m))
        if "claim" in tw:
            self.exception(back + 4, S.CLOSED, "CLAIM", "consignee claims USD 420 for 3 "
                           "crushed cartons", pod)
        return self.finish()

    def finish(self) -> Job:
        """Cut the plan at the scenario's stage, end it as the scenario says, and date it so
        its last step happened before the base date and its next one had not yet."""
        j, r, tw, target = self.job, self.r, self.tw, self.job.scenario.stage
        j.steps.sort(key=lambda s: s.day)
        later = min((s.day for s in j.steps if s.stage > target), default=float("inf"))
        j.steps = [s for s in j.steps if s.stage <= target]
        last, end = j.steps[-1].day, j.steps[-1].day + r.uniform(0.3, 2.0)
        if "reject" in tw:
            self.add(end, target, lambda svc, j, m: svc.reject_by_carrier(
                j.sid, "no space on the requested sailing", m))
        elif "decline" in tw:
            self.add(end, target, lambda svc, j, m: svc.decline(
                j.sid, f"blank sailing: {self.d.vessels[0]} cancelled by the carrier", m))
        elif "cancel" in tw:
            why = ("consignee cancelled the PO" if target < S.CONFIRMED
                   else "cargo not ready; the customer will book again next month")
            self.add(end, target, lambda svc, j, m: svc.cancel(j.sid, why, m))
        elif "amend_pending" in tw:
            self.amend(end, target, "pending", "consignee moved to a new warehouse",
                       lambda j: [FieldChange(field="consignee.address",
                                              after=f"{j.order.consignee.address} (Bldg B)")])
        if j.steps[-1].day == end:
            last, later = end, float("inf")
        hi = min(later, WINDOW_DAYS)
        age = r.uniform(last + 0.02, hi - 0.02) if hi - last > 0.1 else last + 0.05
        j.start = self.base - timedelta(days=age)
        j.order = self.d.order(j.start, r)
        return j
