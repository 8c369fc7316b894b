"""Shipment reads: current state, state as of a time or version, and the audit history."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Response
from pydantic_core import to_jsonable_python

from shipflow.api.auth import Caller, require_visible
from shipflow.api.commands import ERRORS
from shipflow.api.deps import Service
from shipflow.api.errors import refuse
from shipflow.api.schemas import EventRecord, ShipmentView
from shipflow.events.shipment import Shipment
from shipflow.events.values import UtcDatetime

router = APIRouter(prefix="/shipments", tags=["shipment reads"], responses=ERRORS)

_NOT_PAYLOAD = {"originator_id", "originator_version", "timestamp", "originator_topic", "meta"}


def shipment_view(s: Shipment) -> ShipmentView:
    return ShipmentView(
        id=s.id, version=s.version, created_at=s.created_on, modified_at=s.modified_on,
        status=s.status, order=s.order, review_outcome=s.review_outcome,
        open_violations=s.open_violations, confirmations=s.confirmations,
        carrier_confirmation=s.confirmation, vessel_voyage=s.vessel_voyage, legs=s.legs,
        etd=s.etd, eta=s.eta, departed=s.departed, timeline=s.timeline,
        last_milestone=s.last_milestone, amendments=s.amendments,
        shipping_instructions=s.shipping_instructions, si_revision=s.si_revision,
        exceptions=s.exceptions, charges=s.charges, bl=s.bl,
        bl_approval_current=s.bl_approval_current, bl_issue=s.bl_issue,
        sailing_outcome=s.sailing_outcome)


def event_record(event: Any) -> EventRecord:
    meta = event.meta
    payload = {k: v for k, v in vars(event).items() if k not in _NOT_PAYLOAD}
    return EventRecord(
        type=type(event).__name__, version=event.originator_version,
        recorded_at=event.timestamp, occurred_at=meta.occurred_at, actor=meta.actor,
        role=meta.role, source=str(meta.source), correlation_id=meta.correlation_id,
        causation_id=meta.causation_id, external_id=meta.external_id,
        payload=to_jsonable_python(payload))


@router.get("/{shipment_id}", response_model=ShipmentView,
            summary="The shipment now, or as it was at a time or version")
def get_shipment(
    shipment_id: UUID, svc: Service, response: Response, caller: Caller,
    as_of: Annotated[UtcDatetime | None, Query(
        description="state as recorded at this moment (ISO 8601 with offset)")] = None,
    version: Annotated[int | None, Query(ge=1, le=2**31 - 1,
                                         description="state at this version")] = None,
) -> ShipmentView:
    if as_of is not None and version is not None:
        raise refuse(400, "as_of_or_version", "Ambiguous request",
                     "ask for as_of or version, not both")
    shipment = (svc.get_as_of(shipment_id, as_of) if as_of is not None
                else svc.get(shipment_id, version=version))
    require_visible(caller, shipment.order.customer_id, "shipment_not_found",
                    f"no shipment {shipment_id}")
    if version is not None and shipment.version != version:
        raise refuse(404, "version_not_found", "No such version",
                     f"the shipment has {shipment.version} versions")
    response.headers["ETag"] = f'"{shipment.version}"'
    return shipment_view(shipment)


@router.get("/{shipment_id}/events", response_model=list[EventRecord],
            summary="The full audit history of a shipment")
def get_events(shipment_id: UUID, svc: Service, caller: Caller) -> list[EventRecord]:
    history = svc.history(shipment_id)
    require_visible(caller, history[0].order.customer_id, "shipment_not_found",
                    f"no shipment {shipment_id}")
    return [event_record(e) for e in history]
