"""KPIs the desks report (domain.md §2.7, seeds [002] [003]) for a date range, from the views.

Definitions (a timer counts in the range its due time falls in):

- **on-time pickup rate**: pickup timers met by their due time ÷ pickup timers met or breached;
- **delivery TAT achieved**: shipments that arrived at POD (actual ARRI) in the range no later
  than the planned ETA (the carrier's confirmation or last rollover) plus a tolerance ÷ all
  that arrived in the range;
- **exceptions closed within their timeline**: claim and exception timers met by their due
  time ÷ those met or breached;
- **SLA breaches** by timer kind and by CS owner: timers breached in the range.
"""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import Connection, select

from shipflow.projections.search import SearchTables
from shipflow.projections.sla.tables import SlaTables


@dataclass(frozen=True)
class Rate:
    achieved: int
    total: int

    @property
    def percent(self) -> float | None:
        return round(100 * self.achieved / self.total, 1) if self.total else None


@dataclass(frozen=True)
class Kpis:
    start: datetime
    end: datetime
    on_time_pickup: Rate
    delivery_tat: Rate
    exceptions_within_timeline: Rate
    breaches_by_kind: dict[str, int] = field(default_factory=dict)
    breaches_by_cs_owner: dict[str, int] = field(default_factory=dict)


def _timer_rate(conn: Connection, sla: SlaTables, kinds: tuple[str, ...], start: datetime,
                end: datetime, office: str | None) -> Rate:
    t = sla.sla_timers
    query = select(t.c.state, t.c.late).where(
        t.c.kind.in_(kinds), t.c.due_at >= start, t.c.due_at < end,
        t.c.state.in_(("met", "breached")))
    if office:
        query = query.where(t.c.office == office)
    rows = conn.execute(query).all()
    return Rate(sum(1 for state, late in rows if state == "met" and not late), len(rows))


def kpis(conn: Connection, shipments: SearchTables, sla: SlaTables, start: datetime,
         end: datetime, office: str | None = None,
         tat_tolerance: timedelta = timedelta(hours=24)) -> Kpis:
    s, t = shipments.shipments, sla.sla_timers
    arrivals = select(s.c.eta, s.c.summary).where(s.c.eta_actual.is_(True), s.c.eta >= start,
                                                   s.c.eta < end)
    breaches = select(t.c.kind, t.c.cs_owner).where(t.c.breached_at >= start,
                                                    t.c.breached_at < end)
    if office:
        arrivals = arrivals.where(s.c.office == office)
        breaches = breaches.where(t.c.office == office)
    arrived = conn.execute(arrivals).all()
    on_time = 0
    for eta, summary in arrived:
        planned = summary.get("planned_eta")
        if planned and eta <= datetime.fromisoformat(planned) + tat_tolerance:
            on_time += 1
    breached = conn.execute(breaches).all()
    return Kpis(
        start, end,
        on_time_pickup=_timer_rate(conn, sla, ("pickup",), start, end, office),
        delivery_tat=Rate(on_time, len(arrived)),
        exceptions_within_timeline=_timer_rate(conn, sla, ("claim", "exception"), start, end,
                                               office),
        breaches_by_kind=dict(Counter(kind for kind, _ in breached).most_common()),
        breaches_by_cs_owner=dict(Counter(owner for _, owner in breached).most_common()))


def kpi_workbook(k: Kpis) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "KPIs"
    ws.append([f"KPIs from {k.start:%Y-%m-%d %H:%M} to {k.end:%Y-%m-%d %H:%M} UTC"])
    ws.append(["KPI", "%", "achieved", "of"])
    for name, rate in (("On-time pickup", k.on_time_pickup),
                       ("Delivery TAT achieved", k.delivery_tat),
                       ("Exceptions closed within timeline", k.exceptions_within_timeline)):
        ws.append([name, rate.percent, rate.achieved, rate.total])
    breaches = wb.create_sheet("SLA breaches")
    breaches.append(["By timer kind", "breaches"])
    for kind, n in k.breaches_by_kind.items():
        breaches.append([kind, n])
    breaches.append([])
    breaches.append(["By CS owner", "breaches"])
    for owner, n in k.breaches_by_cs_owner.items():
        breaches.append([owner, n])
    for sheet, rows in ((ws, (2,)), (breaches, (1, breaches.max_row - len(
            k.breaches_by_cs_owner)))):
        for r in rows:
            for cell in sheet[r]:
                cell.font = Font(bold=True)
        sheet.column_dimensions["A"].width = 36
    ws.freeze_panes = "A3"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
