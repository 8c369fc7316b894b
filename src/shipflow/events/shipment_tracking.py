"""Shipment commands for tracking: milestones, rollovers, exceptions, customer notices and
SLA breaches."""

from __future__ import annotations

from datetime import UTC, datetime

from shipflow.events import shipment_events as ev
from shipflow.events.errors import DomainError, DuplicateEvent, InvalidTransition, NotFound
from shipflow.events.state import BookingStatus, SailingOutcome
from shipflow.events.tracking import (
    LEG_START_CODES,
    Classifier,
    CustomerNotice,
    ExceptionKind,
    Milestone,
    MilestoneKind,
    ShipmentException,
)
from shipflow.events.values import EventMeta, VesselVoyage


class TrackingCommands:
    """Mixed into :class:`~shipflow.events.shipment.Shipment`."""


    def record_milestone(self, m: Milestone, meta: EventMeta) -> bool:
        """Record a milestone; returns False when it only enters history (superseded).

        A milestone whose ``meta.external_id`` (e.g. a DCSA eventID) was recorded already is
        refused as ``duplicate_event``: feeds redeliver, history must not double."""
        self._require_confirmed("record a milestone")
        if meta.external_id and meta.external_id in self.external_ids:
            raise DuplicateEvent(meta.external_id)
        if m.kind is MilestoneKind.TRANSPORT and m.location is None:
            # DCSA sends location; our own feeds may not: DEPA leaves POL, ARRI reaches POD.
            m = m.model_copy(update={"location": self.order.pol if m.code == "DEPA"
                                     else self.order.pod})
        if m.leg is None:
            m = m.model_copy(update={"leg": self.leg_at(m.code, m.location)})
        entry = self.timeline.get(m.key)
        superseded = entry is not None and m.classifier is not Classifier.ACT and (
            entry.actual is not None
            or (m.classifier is Classifier.EST and entry.estimated_made_at is not None
                and meta.occurred_at < entry.estimated_made_at))
        before = (self.etd, self.eta)
        self.trigger_event(ev.MilestoneRecorded, meta=meta, milestone=m, superseded=superseded)
        self._schedule_changed(before, meta, cause=f"{m.code} {m.classifier}")
        return not superseded

    def leg_at(self, code: str, location: str | None) -> int:
        """The sea leg a port call belongs to: leaving port i starts leg i, arriving at port
        i ends leg i-1 (ports: POL, transshipment ports, POD)."""
        o = self.order
        ports = [o.pol, *o.transshipment_ports, *([o.pod] if o.pod else [])]
        if location not in ports or len(ports) < 2:
            return 0
        i = ports.index(location)
        return min(i, len(ports) - 2) if code in LEG_START_CODES else max(i - 1, 0)

    def _schedule_changed(self, before: tuple, meta: EventMeta, cause: str) -> None:
        if (self.etd, self.eta) != before:
            self.trigger_event(ev.ScheduleChanged, meta=meta, previous_etd=before[0],
                               etd=self.etd, previous_eta=before[1], eta=self.eta, cause=cause)

    def roll_over(self, to: VesselVoyage, reason: str, new_etd: datetime, new_eta: datetime,
                  leg: int, meta: EventMeta) -> None:
        self._require_confirmed("roll the cargo over")
        new_etd, new_eta = new_etd.astimezone(UTC), new_eta.astimezone(UTC)  # stored in UTC
        if to.is_placeholder:
            raise DomainError("vessel_placeholder_not_allowed", "roll over to a named vessel",
                              "to_vessel_voyage")
        if new_eta <= new_etd:
            raise DomainError("eta_before_etd", "the ETA must be after the ETD", "new_eta")
        shut_out = self.sailing_outcome is SailingOutcome.SHUT_OUT
        if leg == 0 and not shut_out and (self.departed
                                          or self.sailing_outcome is SailingOutcome.SHIPPED):
            raise InvalidTransition("already_departed", "the cargo has sailed from POL; "
                                    "only a transshipment leg can be rolled")
        current = self.legs[leg] if leg < len(self.legs) else None
        if current == to:
            raise InvalidTransition("rollover_to_same_sailing", f"the cargo is already on {to}")
        before = (self.etd, self.eta)
        self.trigger_event(ev.RolledOver, meta=meta, leg=leg, from_vessel_voyage=current,
                           to_vessel_voyage=to, reason=reason, new_etd=new_etd,
                           new_eta=new_eta)
        self._schedule_changed(before, meta, cause="rollover")

    def raise_exception(self, exc: ShipmentException, meta: EventMeta) -> int:
        if not (self.status is BookingStatus.COMPLETED and exc.kind is ExceptionKind.CLAIM):
            self._not_terminal("raise an exception")
        number = len(self.exceptions) + 1
        self.trigger_event(ev.ExceptionRaised, meta=meta, number=number, exception=exc)
        return number

    def resolve_exception(self, number: int, resolution: str, meta: EventMeta) -> None:
        found = next((e for e in self.exceptions if e.number == number), None)
        if found is None:
            raise NotFound("exception_not_found", f"no exception {number} on this shipment")
        if not found.is_open:
            raise InvalidTransition("exception_already_resolved",
                                    f"exception {number} was resolved already")
        self.trigger_event(ev.ExceptionResolved, meta=meta, number=number,
                           resolution=resolution)

    def notify_customer(self, notice: CustomerNotice, meta: EventMeta) -> None:
        """Record what CS told the customer (any time: even a cancellation is news)."""
        self.trigger_event(ev.CustomerNotified, meta=meta, notice=notice)

    def record_sla_breach(self, timer: str, kind: str, started_at: datetime, due_at: datetime,
                          meta: EventMeta) -> bool:
        """Record that a timer passed its due time; once per timer, so tickers may race."""
        if timer in self.sla_breaches:
            return False
        self.trigger_event(ev.SlaBreached, meta=meta, timer=timer, kind=kind,
                           started_at=started_at, due_at=due_at)
        return True
