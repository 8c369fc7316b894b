"""The customer status report CS sends to large accounts: one row per active shipment, in
Excel, formatted, with a frozen header and filters (domain.md §2.7, seed [000])."""

from __future__ import annotations

import io
from collections.abc import Collection
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from sqlalchemy import Connection, select

from shipflow.events.ports import port_zone
from shipflow.events.shipment.records import TERMINAL_STATUSES
from shipflow.projections.search import SearchTables
from shipflow.projections.sla.tables import SlaTables

_FINAL = [s.value for s in TERMINAL_STATUSES]

#: (header, width) of each column, in order.
COLUMNS = [
    ("Status", 13), ("PO", 16), ("Customer ref", 16), ("Booking", 14), ("B/L", 16),
    ("Containers", 16), ("POL", 7), ("POD", 7), ("Place of delivery", 10), ("Vessel", 18),
    ("Voyage", 8), ("ETD planned", 16), ("ETD estimated", 16), ("ETD actual", 16),
    ("ETA planned", 16), ("ETA estimated", 16), ("ETA actual", 16), ("Last milestone", 22),
    ("Open exceptions", 18), ("Next action", 22), ("Next action due", 16),
]


def active_shipments(conn: Connection, shipments: SearchTables, sla: SlaTables,
                     customer_id: str, kinds: Collection[str] | None = None
                     ) -> list[dict[str, Any]]:
    """The customer's shipments not yet finished, oldest booking first, with each one's
    earliest unmet SLA timer (the next action), of any kind or only ``kinds`` (a customer
    key's report shows only the timers it was promised)."""
    s, t = shipments.shipments, sla.sla_timers
    rows = [dict(r._mapping) for r in conn.execute(
        select(s).where(s.c.customer_id == customer_id, s.c.status.not_in(_FINAL))
        .order_by(s.c.booked_at))]
    ids = [r["shipment_id"] for r in rows]
    next_action: dict[str, tuple[str, datetime]] = {}
    of_kind = [t.c.kind.in_(list(kinds))] if kinds is not None else []
    for start in range(0, len(ids), 500):
        for sid, kind, due in conn.execute(
                select(t.c.shipment_id, t.c.kind, t.c.due_at)
                .where(t.c.shipment_id.in_(ids[start:start + 500]),
                       t.c.state.in_(("open", "breached")), *of_kind)
                .order_by(t.c.due_at)):
            next_action.setdefault(sid, (kind, due))
    for row in rows:
        row["next_action"] = next_action.get(row["shipment_id"])
    return rows


def _local(iso: str | None, locode: str | None) -> datetime | None:
    """Excel has no time zones: times are written as local time at the port."""
    if not iso:
        return None
    return datetime.fromisoformat(iso).astimezone(port_zone(locode)).replace(tzinfo=None)


def _row(r: dict[str, Any]) -> list[Any]:
    summ = r["summary"]
    dep, arr = summ.get("departure", {}), summ.get("arrival", {})
    last = summ.get("last_milestone")
    action = r["next_action"]
    return [
        r["status"], ", ".join(summ.get("po_numbers", [])),
        ", ".join(summ.get("customer_references", [])), r["carrier_booking_no"],
        r["bl_number"], ", ".join(summ.get("containers", [])), r["pol"], r["pod"],
        summ.get("place_of_delivery"), r["vessel"], r["voyage"],
        *(_local(dep.get(k), r["pol"]) for k in ("planned", "estimated", "actual")),
        *(_local(arr.get(k), r["pod"]) for k in ("planned", "estimated", "actual")),
        None if last is None else f"{last['code']} {last['classifier']} "
                                  f"{last.get('location') or ''}".strip(),
        ", ".join(summ.get("open_exception_kinds", [])),
        action[0].replace("_", " ") if action else None,
        action[1].replace(tzinfo=None) if action else None,
    ]


def status_workbook(customer_id: str, rows: list[dict[str, Any]], now: datetime) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "Shipments"
    ws.append([f"Status report for {customer_id} — {now:%Y-%m-%d %H:%M} UTC. Times are "
               "local at the port (ETD at POL, ETA at POD); next action due in UTC."])
    ws.append([h for h, _ in COLUMNS])
    for r in rows:
        ws.append(_row(r))
    header = Font(bold=True, color="FFFFFF")
    fill = PatternFill("solid", fgColor="1F4E78")
    for i, (_, width) in enumerate(COLUMNS, start=1):
        cell = ws.cell(row=2, column=i)
        cell.font, cell.fill = header, fill
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        ws.column_dimensions[get_column_letter(i)].width = width
    for row in ws.iter_rows(min_row=3):
        for cell in row:
            if isinstance(cell.value, datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
    ws.freeze_panes = "B3"
    ws.auto_filter.ref = f"A2:{get_column_letter(len(COLUMNS))}{max(ws.max_row, 2)}"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
