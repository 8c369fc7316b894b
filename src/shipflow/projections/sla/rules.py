"""The pure SLA rules that need more than a duration: the [002] pickup deadline, free time,
and what the shipment's timeline says about containers (gate-in, gate-out, empty return)."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from shipflow.events.shipment.aggregate import Shipment
from shipflow.events.shipment.tracking import MilestoneKind
from shipflow.projections.sla.calendar import end_of_calendar_days
from shipflow.projections.sla.config import OfficeConfig


def pickup_due(office: OfficeConfig, ordered_at: datetime) -> datetime:
    """[002] pickup: ordered before the morning cut-off → same day by 15:00; before the late
    cut-off (16:00) → same day by closing time; later → next working day by 12:00. An order
    on a day the office is closed counts from the next working day's opening."""
    cal = office.calendar
    day, wall = cal.local_date(ordered_at), cal.local_time(ordered_at)
    if not cal.is_working_day(day):
        day, wall = cal.next_working_day(day), time.min
    if wall < office.pickup_morning_cutoff:
        return cal.at(day, office.pickup_same_day_due)
    if wall < office.pickup_late_cutoff:
        return cal.closing(day)
    return cal.at(cal.next_working_day(day), office.pickup_next_morning_due)


def _parts(timeline_key: str) -> tuple[str, str, str, str, str]:
    kind, code, where, leg, container = timeline_key.split(":")
    return kind, code, where, leg, container


def equipment_actuals(s: Shipment, code: str, where: str | None = None) -> dict[str, datetime]:
    """Actual times of an equipment event by container ("-": reported without one)."""
    found: dict[str, datetime] = {}
    for key, entry in s.timeline.items():
        kind, c, loc, _, container = _parts(key)
        if (kind == str(MilestoneKind.EQUIPMENT) and c == code and entry.actual
                and (where is None or loc == where)):
            found[container] = entry.actual
    return found


def gated_in_at(s: Shipment) -> datetime | None:
    """When the last container gated in at POL (every container known: SI or equipment)."""
    gated = equipment_actuals(s, "GTIN", s.order.pol)
    if "-" in gated:
        return gated["-"]
    si = s.shipping_instructions
    expected = {c.container_no for c in si.containers} if si else set()
    if expected:
        return max(gated[c] for c in expected) if expected <= gated.keys() else None
    if gated and len(gated) >= max(1, s.order.container_count):
        return max(gated.values())
    return None


def container_key(kind: str, container: str | None) -> str:
    return f"{kind}:{container}" if container and container != "-" else kind


def same_container(kind: str, key: str, container: str | None) -> bool:
    """Whether a report about ``container`` (None or "-": the whole shipment) concerns the
    timer ``key`` of ``kind`` (per container, or for the whole shipment)."""
    return not container or container == "-" or key in (kind, f"{kind}:{container}")


def free_time_due(tz: str, tc: Any, start: datetime, days: int) -> datetime:
    """Free time ends at the port's (or office's) local midnight after the last free day."""
    return end_of_calendar_days(tz, start, days if tc.free_time_counts_start_day else days + 1)
