"""SLA timers (domain.md §2.4): the pure rules that start, meet, move and cancel them from a
shipment's events, and the ``sla`` projection that keeps them in ``sla_timers_{slot}``.

A timer's **state** is one of:

``open``
    running, not met; may or may not be past its due time yet (the ticker has not fired).
``breached``
    past its due time unmet: the ticker recorded ``SlaBreached`` (``breached_at`` is that
    event's ``occurred_at``). Still waiting to be met.
``met``
    the meeting event happened (``met_at``). ``late`` is true when it was met after its due
    time or after a breach was recorded; ``breached_at`` then stays set.
``cancelled``
    will never be met: the shipment was cancelled, rejected, declined or closed, a cut-off
    was withdrawn, or the booking no longer needs it. A breached timer keeps ``breached_at``.

Times: an event happens at its ``meta.occurred_at``; an actual milestone (ACT) at its
``event_time``. Superseded milestones and estimates never meet a timer.

Keys are unique per shipment: one-off timers use their kind (``booking_confirmation``,
``si_cutoff``, …; a restart gets ``:2``, ``:3``), delay notices are numbered
(``delay_notice:1``), claims carry the exception number (``claim:1``), free time the
container (``demurrage:MSKU1234565``, or ``demurrage`` for a report without container).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID

from sqlalchemy import Connection

from shipflow.events.shipment import events as ev
from shipflow.events.shipment.aggregate import Shipment
from shipflow.events.shipment.booking import StuffingMethod
from shipflow.events.shipment.tracking import (
    Classifier,
    ExceptionKind,
    MilestoneKind,
    NotificationKind,
)
from shipflow.projections.engine.base import Change, Projection
from shipflow.projections.sla import rows
from shipflow.projections.sla.config import DEFAULT_CONFIG, OfficeConfig, SlaConfig
from shipflow.projections.sla.rows import next_due, timers_for, work_queue
from shipflow.projections.sla.rules import (
    container_key,
    equipment_actuals,
    free_time_due,
    gated_in_at,
    pickup_due,
    same_container,
)
from shipflow.projections.sla.tables import NAME

__all__ = ["BREACHED", "CANCELLED", "MET", "OPEN", "SlaProjection", "SlaTimer", "SlaView",
           "next_due", "pickup_due", "timers_for", "work_queue"]

OPEN, MET, BREACHED, CANCELLED = "open", "met", "breached", "cancelled"
STATES = (OPEN, MET, BREACHED, CANCELLED)



T = TypeVar("T")

def _with(obj: T, **changes: Any) -> T:
    """``dataclasses.replace`` for these plain frozen dataclasses (no __post_init__), without
    its generality: the fold calls it for nearly every event of a rebuild."""
    new = object.__new__(type(obj))
    object.__setattr__(new, "__dict__", {**obj.__dict__, **changes})
    return new

@dataclass(frozen=True)
class SlaTimer:
    shipment_id: UUID
    key: str
    kind: str
    office: str
    customer_id: str
    cs_owner: str
    started_at: datetime
    due_at: datetime
    met_at: datetime | None = None
    breached_at: datetime | None = None
    state: str = OPEN
    late: bool = False

    @property
    def unmet(self) -> bool:
        """Still waiting for its meeting event (open or breached)."""
        return self.state in (OPEN, BREACHED)


@dataclass(frozen=True)
class SlaView:
    """A shipment's timers, plus the few facts the rules need to remember."""

    shipment_id: UUID
    timers: tuple[SlaTimer, ...] = ()
    eta: datetime | None = None  # the shipment's ETA after the last event
    itinerary: tuple[str, datetime, datetime] | None = None  # last carrier confirmation
    si_at: datetime | None = None  # first shipping instructions
    vgm_at: datetime | None = None  # first SI with a VGM on every container
    outcome_at: datetime | None = None  # last sailing outcome

    def get(self, key: str) -> SlaTimer | None:
        return next((t for t in self.timers if t.key == key), None)

    def of_kind(self, kind: str) -> tuple[SlaTimer, ...]:
        return tuple(t for t in self.timers if t.kind == kind)

    def latest(self, kind: str) -> SlaTimer | None:
        found = self.of_kind(kind)
        return found[-1] if found else None


# --- the projection ------------------------------------------------------------------------


class SlaProjection(Projection[SlaView]):
    name = NAME

    def __init__(self, config: SlaConfig = DEFAULT_CONFIG) -> None:
        self.config = config
        self._handlers: dict[type, Callable[[SlaView, Any, Shipment], SlaView]] = {
            ev.BookingRequested: self._requested,
            ev.BookingReviewed: lambda v, e, s: self._meet(v, "web_order_review", _at(e)),
            ev.CarrierConfirmed: self._confirmed,
            ev.ShippingInstructionsSubmitted: self._si,
            ev.MilestoneRecorded: self._milestone,
            ev.ScheduleChanged: self._schedule_changed,
            ev.RolledOver: lambda v, e, s: self._delay(v, s, _at(e)),
            ev.CustomerNotified: self._notified,
            ev.SailingOutcomeRecorded: self._outcome,
            ev.ExceptionRaised: self._exception_raised,
            ev.ExceptionResolved: lambda v, e, s: self._meet(self._meet(
                v, "claim", _at(e), lambda t: t.key == f"claim:{e.number}"),
                "exception", _at(e), lambda t: t.key == f"exception:{e.number}"),
            ev.AmendmentApproved: self._amended,
            ev.SlaBreached: self._breached,
            ev.ShipmentCancelled: self._cancel_all,
            ev.CarrierRejected: self._cancel_all,
            ev.BookingDeclined: self._cancel_all,
            ev.ShipmentClosed: self._cancel_all,
        }

    # --- Projection ------------------------------------------------------------------------

    def evolve(self, view: SlaView | None, event: Any, shipment: Shipment) -> SlaView | None:
        if isinstance(event, ev.BookingRequested):
            view = SlaView(shipment_id=event.originator_id)
        if view is None:
            return None
        handler = self._handlers.get(type(event))
        if handler is not None:
            view = handler(view, event, shipment)
        if view.eta != shipment.eta:
            view = _with(view, eta=shipment.eta)
        return view

    def write(self, conn: Connection, slot: str,
              changes: Mapping[UUID, Change[SlaView]]) -> None:
        rows.write(conn, slot, {
            sid: (c.before.timers if c.before else None, c.after.timers if c.after else None)
            for sid, c in changes.items()})

    def clear(self, conn: Connection, slot: str) -> None:
        rows.clear(conn, slot)

    # --- building blocks -------------------------------------------------------------------

    def _start(self, view: SlaView, s: Shipment, kind: str, at: datetime,
               due: Callable[[OfficeConfig, Any], datetime], key: str | None = None) -> SlaView:
        """Start a timer (once per key); ``due(office, timer_config)`` computes its due time."""
        code = self.config.office_code(s.order.office, s.order.pol)
        tc = self.config.timers_for(code)
        if not tc.enabled(kind):
            return view
        if key is None:
            n = len(view.of_kind(kind)) + 1
            key = kind if n == 1 else f"{kind}:{n}"
        if view.get(key) is not None:
            return view
        timer = SlaTimer(shipment_id=view.shipment_id, key=key, kind=kind, office=code,
                         customer_id=s.order.customer_id, cs_owner=s.order.cs_owner,
                         started_at=at, due_at=due(self.config.office(code), tc))
        return _with(view, timers=(*view.timers, timer))

    @staticmethod
    def _update(view: SlaView, key: str, **changes: Any) -> SlaView:
        return _with(view, timers=tuple(_with(t, **changes) if t.key == key else t
                                          for t in view.timers))

    def _meet(self, view: SlaView, kind: str, at: datetime,
              which: Callable[[SlaTimer], bool] = lambda t: True) -> SlaView:
        for t in view.of_kind(kind):
            if t.unmet and which(t):
                met_at = max(at, t.started_at)
                view = self._update(view, t.key, state=MET, met_at=met_at,
                                    late=t.breached_at is not None or met_at > t.due_at)
        return view

    def _cancel_all(self, view: SlaView, event: Any, s: Shipment) -> SlaView:
        return _with(view, timers=tuple(_with(t, state=CANCELLED) if t.unmet else t
                                          for t in view.timers))

    # --- events ----------------------------------------------------------------------------

    def _requested(self, view: SlaView, e: Any, s: Shipment) -> SlaView:
        at = _at(e)
        return self._start(view, s, "web_order_review", at, lambda o, tc: o.calendar
                           .add_business_minutes(at, tc.web_order_review_minutes))

    def _confirmed(self, view: SlaView, e: Any, s: Shipment) -> SlaView:
        at, c = _at(e), e.confirmation
        itinerary = (str(c.vessel_voyage), c.etd, c.eta)
        notice_due = lambda o, tc: o.calendar.add_business_hours(  # noqa: E731
            at, tc.booking_confirmation_hours)
        if view.itinerary is None:
            view = self._start(view, s, "booking_confirmation", at, notice_due)
            view = self._pickup(view, s, at)
        elif itinerary != view.itinerary:
            latest = view.latest("booking_confirmation")
            if latest is None or latest.state in (MET, CANCELLED):
                view = self._start(view, s, "booking_confirmation", at, notice_due)
            view = self._slipped(view, s, at, view.eta, s.eta)
        view = self._cutoff(view, s, "si_cutoff", at, c.cutoffs.si, view.si_at)
        view = self._cutoff(view, s, "vgm_cutoff", at, c.cutoffs.vgm, view.vgm_at)
        view = self._cutoff(view, s, "cy_cutoff", at, c.cutoffs.cy, gated_in_at(s))
        return _with(view, itinerary=itinerary)

    def _cutoff(self, view: SlaView, s: Shipment, kind: str, at: datetime,
                cutoff: datetime | None, done_at: datetime | None) -> SlaView:
        """A carrier cut-off: started by the first confirmation that names it; a later
        confirmation moves an open one, withdraws it, or starts a new one when the carrier
        extends a cut-off that was already breached."""
        latest = view.latest(kind)
        if cutoff is None:
            if latest is not None and latest.state == OPEN:
                view = self._update(view, latest.key, state=CANCELLED)
            return view
        if latest is not None and latest.state == OPEN:
            return self._update(view, latest.key, due_at=cutoff)
        if latest is not None and not (latest.state == CANCELLED or (
                latest.state == BREACHED and cutoff > latest.due_at)):
            return view
        view = self._start(view, s, kind, at, lambda o, tc: cutoff)
        return self._meet(view, kind, done_at) if done_at else view

    def _pickup(self, view: SlaView, s: Shipment, at: datetime) -> SlaView:
        stuffing = s.order.stuffing
        if stuffing is None or stuffing.method is not StuffingMethod.DRAYAGE:
            return view

        def due(office: OfficeConfig, tc: Any) -> datetime:
            by_rule = pickup_due(office, at)
            # The customer may ask for a later pickup than the rule's deadline.
            return max(by_rule, stuffing.pickup_at) if stuffing.pickup_at else by_rule

        view = self._start(view, s, "pickup", at, due)
        picked = equipment_actuals(s, "PICK")
        return self._meet(view, "pickup", min(picked.values())) if picked else view

    def _si(self, view: SlaView, e: Any, s: Shipment) -> SlaView:
        at = _at(e)
        view = _with(view, si_at=view.si_at or at)
        view = self._meet(view, "si_cutoff", at)
        if all(c.vgm_kg is not None for c in e.instructions.containers):
            view = _with(view, vgm_at=view.vgm_at or at)
            view = self._meet(view, "vgm_cutoff", at)
        gated = gated_in_at(s)  # the SI may name the last container that gated in
        return self._meet(view, "cy_cutoff", gated) if gated else view

    def _milestone(self, view: SlaView, e: Any, s: Shipment) -> SlaView:
        m = e.milestone
        if e.superseded or m.classifier is not Classifier.ACT:
            return view
        at, code, container = m.event_time, m.code, m.container_no
        if m.kind is MilestoneKind.TRANSPORT:
            if code == "DEPA" and m.location == s.order.pol and m.leg == 0:
                view = self._start(view, s, "sailing_status", at, lambda o, tc: o.calendar
                                   .add_business_days(at, tc.status_after_sailing_days))
                if s.sailing_outcome is not None and view.outcome_at is not None:
                    view = self._meet(view, "sailing_status", view.outcome_at)
            return view
        if m.kind is not MilestoneKind.EQUIPMENT:
            return view
        pod = s.order.pod
        if code == "PICK":
            return self._meet(view, "pickup", at)
        if code == "GTIN" and m.location == s.order.pol:
            gated = gated_in_at(s)
            return self._meet(view, "cy_cutoff", gated) if gated else view
        if code == "DISC" and pod and m.location == pod:
            key = container_key("demurrage", container)
            view = self._free_time(view, s, "demurrage", key, at)
            out = equipment_actuals(s, "GTOT", pod)
            out_at = out.get(container or "-") or out.get("-")
            return self._meet(view, "demurrage", out_at, lambda t: t.key == key) if out_at \
                else view
        if code == "GTOT" and pod and m.location == pod:
            view = self._meet(view, "demurrage", at,
                              lambda t: same_container(t.kind, t.key, container))
            key = container_key("detention", container)
            view = self._free_time(view, s, "detention", key, at)
            drops = [d for c, d in equipment_actuals(s, "DROP").items()
                     if d >= at and (c == "-" or c == (container or "-"))]
            return self._meet(view, "detention", min(drops), lambda t: t.key == key) if drops \
                else view
        if code == "DROP":
            return self._meet(view, "detention", at, lambda t: t.started_at <= at
                              and same_container(t.kind, t.key, container))
        return view

    def _free_time(self, view: SlaView, s: Shipment, kind: str, key: str,
                   at: datetime) -> SlaView:
        days = getattr(s.order.free_days, kind)
        if days <= 0:  # nothing free: charges run from the start, no expiry to watch
            return view
        tz = self.config.port_tz(s.order.pod, self.config.office_code(s.order.office,
                                                                      s.order.pol))
        return self._start(view, s, kind, at, lambda o, tc: free_time_due(tz, tc, at, days),
                           key=key)

    def _schedule_changed(self, view: SlaView, e: Any, s: Shipment) -> SlaView:
        return self._slipped(view, s, _at(e), e.previous_eta, e.eta)

    def _slipped(self, view: SlaView, s: Shipment, at: datetime, before: datetime | None,
                 after: datetime | None) -> SlaView:
        if before is None or after is None:
            return view
        threshold = self.config.timers_for(
            self.config.office_code(s.order.office, s.order.pol)).eta_slip_threshold_hours
        if after - before > timedelta(hours=threshold):
            return self._delay(view, s, at)
        return view

    def _delay(self, view: SlaView, s: Shipment, at: datetime) -> SlaView:
        """Start a delay notice, unless one is already waiting (one notice tells both)."""
        if any(t.unmet for t in view.of_kind("delay_notice")):
            return view
        n = len(view.of_kind("delay_notice")) + 1
        return self._start(view, s, "delay_notice", at, lambda o, tc: o.calendar
                           .add_business_hours(at, tc.delay_notice_hours),
                           key=f"delay_notice:{n}")

    def _notified(self, view: SlaView, e: Any, s: Shipment) -> SlaView:
        kind = {NotificationKind.BOOKING_CONFIRMATION: "booking_confirmation",
                NotificationKind.DELAY_NOTICE: "delay_notice"}.get(e.notice.kind)
        return self._meet(view, kind, _at(e)) if kind else view

    def _outcome(self, view: SlaView, e: Any, s: Shipment) -> SlaView:
        at = _at(e)
        return self._meet(_with(view, outcome_at=at), "sailing_status", at)

    def _exception_raised(self, view: SlaView, e: Any, s: Shipment) -> SlaView:
        at = _at(e)
        if e.exception.kind is ExceptionKind.CLAIM:
            return self._start(view, s, "claim", at, lambda o, tc: o.calendar
                               .add_business_days(at, tc.claim_resolution_days),
                               key=f"claim:{e.number}")
        return self._start(view, s, "exception", at, lambda o, tc: o.calendar
                           .add_business_days(at, tc.exception_resolution_days),
                           key=f"exception:{e.number}")

    def _amended(self, view: SlaView, e: Any, s: Shipment) -> SlaView:
        """The order changed: drayage added or dropped, free days changed."""
        stuffing = s.order.stuffing
        drayage = stuffing is not None and stuffing.method is StuffingMethod.DRAYAGE
        for t in view.timers:
            if t.kind == "pickup" and t.state == OPEN and not drayage:
                view = self._update(view, t.key, state=CANCELLED)
            elif t.kind in ("demurrage", "detention") and t.state == OPEN:
                days = getattr(s.order.free_days, t.kind)
                if days <= 0:
                    view = self._update(view, t.key, state=CANCELLED)
                else:
                    tz = self.config.port_tz(s.order.pod, t.office)
                    due = free_time_due(tz, self.config.timers_for(t.office), t.started_at, days)
                    view = self._update(view, t.key, due_at=due)
        if drayage and view.itinerary is not None and not view.of_kind("pickup"):
            view = self._pickup(view, s, _at(e))
        return view

    def _breached(self, view: SlaView, e: Any, s: Shipment) -> SlaView:
        timer = view.get(e.timer)
        if timer is None or timer.state != OPEN:
            return view
        return self._update(view, e.timer, state=BREACHED, breached_at=_at(e))


def _at(event: Any) -> datetime:
    return event.meta.occurred_at
