"""SLA timers: one shipment's timers (now or as of a time), and the desk's work queue.

A customer key sees only the timers it was promised (``customer_view.CUSTOMER_TIMERS``: the
cut-offs and free time), on its own shipments; the desks' service levels stay inside."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from shipflow.api.auth import Caller, scope_customer
from shipflow.api.deps import ReadSide, Service, consistent, visible_shipment
from shipflow.api.errors import ERRORS, refuse
from shipflow.events.common import UtcDatetime
from shipflow.projections import customer_view
from shipflow.projections.engine.base import fold
from shipflow.projections.sla import rows
from shipflow.projections.sla import tables as sla_tables

router = APIRouter(tags=["SLA timers"], responses=ERRORS)

STATES = ("open", "met", "breached", "cancelled")


class SlaTimerOut(BaseModel):
    shipment_id: UUID
    key: str  # unique per shipment, e.g. booking_confirmation, delay_notice:2, claim:1
    kind: str
    office: str
    customer_id: str
    cs_owner: str
    started_at: datetime
    due_at: datetime
    met_at: datetime | None
    breached_at: datetime | None
    state: str  # open, met, breached, cancelled
    late: bool  # met after its due time


def _out(t: rows.SlaTimer) -> SlaTimerOut:
    return SlaTimerOut(**{f: getattr(t, f) for f in SlaTimerOut.model_fields})


@router.get("/shipments/{shipment_id}/sla", response_model=list[SlaTimerOut],
            summary="A shipment's SLA timers (now, or as of a moment)",
            dependencies=[consistent("sla"), Depends(visible_shipment)])
def shipment_timers(shipment_id: UUID, rm: ReadSide, svc: Service, caller: Caller,
                    as_of: UtcDatetime | None = None) -> list[SlaTimerOut]:
    if as_of is not None:
        view = fold(rm.get("sla"), svc.history(shipment_id), as_of)[1]
        timers = sorted(view.timers, key=lambda t: (t.due_at, t.key)) if view else []
    else:
        with rm.engine.connect() as conn:
            timers = rows.timers_for(conn, sla_tables.active(conn), shipment_id)
        if not timers:
            svc.get(shipment_id)  # 404 for an unknown shipment; else it simply has none yet
    if caller.is_customer:
        timers = customer_view.timers(timers)
    return [_out(t) for t in timers]


@router.get("/sla", response_model=list[SlaTimerOut],
            summary="The desk's work queue: timers by state and office, earliest due first",
            dependencies=[consistent("sla")])
def work_queue(
    rm: ReadSide, caller: Caller,
    state: Annotated[list[str], Query(description=f"one or more of {', '.join(STATES)}")] = [],  # noqa: B006
    office: str | None = None, kind: str | None = None, customer: str | None = None,
    cs_owner: str | None = None, due_before: UtcDatetime | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[SlaTimerOut]:
    unknown = [s for s in state if s not in STATES]
    if unknown:
        raise refuse(422, "sla_state_unknown", "Unknown state",
                     f"{', '.join(unknown)}: use {', '.join(STATES)}")
    with rm.engine.connect() as conn:
        timers = rows.work_queue(conn, sla_tables.active(conn), state=state or None,
                                 office=office.upper() if office else None, kind=kind,
                                 due_before=due_before,
                                 customer_id=scope_customer(caller, customer),
                                 cs_owner=cs_owner, limit=limit,
                                 kinds=customer_view.CUSTOMER_TIMERS if caller.is_customer
                                 else None)
    return [_out(t) for t in timers]
