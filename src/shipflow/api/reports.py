"""Reports: the customer status report (Excel) and the desks' KPIs (JSON and Excel)."""

from __future__ import annotations

import re
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from shipflow.api.auth import STAFF, Caller, allow, require_visible
from shipflow.api.deps import ReadSide, consistent
from shipflow.api.errors import ERRORS, refuse
from shipflow.events.common import UtcDatetime
from shipflow.projections import customer_view, search
from shipflow.projections.sla import tables as sla_tables
from shipflow.reports.kpi import Kpis, kpi_workbook, kpis
from shipflow.reports.status import active_shipments, status_workbook

router = APIRouter(prefix="/reports", tags=["reports"], responses=ERRORS)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FILE: dict[int | str, dict[str, Any]] = {
    200: {"content": {XLSX: {}}, "description": "an Excel workbook"}}


def _xlsx(body: bytes, name: str) -> Response:
    # Header values are Latin-1: a customer id in any script still gives a safe file name.
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name)
    return Response(body, media_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{safe}"'})


@router.get("/status.xlsx", response_class=Response, responses=FILE,
            summary="Customer status report: one row per active shipment",
            dependencies=[consistent("shipments", "sla")])
def status_report(rm: ReadSide, caller: Caller,
                  customer: Annotated[str, Query(min_length=1)]) -> Response:
    require_visible(caller, customer, "customer_not_found", f"no customer {customer}")
    # a customer's "next action" is only one of the timers it was promised
    kinds = customer_view.CUSTOMER_TIMERS if caller.is_customer else None
    with rm.engine.connect() as conn:
        rows = active_shipments(conn, search.active(conn), sla_tables.active(conn), customer,
                                kinds)
    now = datetime.now(UTC)
    return _xlsx(status_workbook(customer, rows, now), f"status-{customer}-{now:%Y%m%d}.xlsx")


class RateOut(BaseModel):
    percent: float | None
    achieved: int
    total: int


class KpisOut(BaseModel):
    start: datetime
    end: datetime
    on_time_pickup: RateOut
    delivery_tat: RateOut
    exceptions_within_timeline: RateOut
    breaches_by_kind: dict[str, int]
    breaches_by_cs_owner: dict[str, int]


def _kpis(rm: ReadSide, start: datetime | None, end: datetime | None,
          office: str | None) -> Kpis:
    end = end or datetime.now(UTC)
    start = start or end - timedelta(days=30)
    if start >= end:
        raise refuse(422, "range_empty", "Empty range", "`from` must be before `to`", "from")
    with rm.engine.connect() as conn:
        return kpis(conn, search.active(conn), sla_tables.active(conn), start, end,
                    office.upper() if office else None)


Range = Annotated[UtcDatetime | None, Query(description="default: the last 30 days")]


@router.get("/kpi", response_model=KpisOut, summary="KPIs for a date range (default 30 days)",
            dependencies=[consistent("shipments", "sla"), allow(STAFF)])
def kpi_report(rm: ReadSide, start: Annotated[Range, Query(alias="from")] = None,
               end: Annotated[Range, Query(alias="to")] = None,
               office: str | None = None) -> KpisOut:
    k = _kpis(rm, start, end, office)
    rates = {name: RateOut(percent=getattr(k, name).percent, **asdict(getattr(k, name)))
             for name in ("on_time_pickup", "delivery_tat", "exceptions_within_timeline")}
    return KpisOut(start=k.start, end=k.end, breaches_by_kind=k.breaches_by_kind,
                   breaches_by_cs_owner=k.breaches_by_cs_owner, **rates)


@router.get("/kpi.xlsx", response_class=Response, responses=FILE,
            summary="KPIs for a date range, in Excel",
            dependencies=[consistent("shipments", "sla"), allow(STAFF)])
def kpi_excel(rm: ReadSide, start: Annotated[Range, Query(alias="from")] = None,
              end: Annotated[Range, Query(alias="to")] = None,
              office: str | None = None) -> Response:
    k = _kpis(rm, start, end, office)
    return _xlsx(kpi_workbook(k), f"kpi-{k.start:%Y%m%d}-{k.end:%Y%m%d}.xlsx")
