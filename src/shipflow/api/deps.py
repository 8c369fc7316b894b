"""Request context: the event metadata of a command (who acts comes from the API key, see
:mod:`shipflow.api.auth`) and ``If-Match`` for optimistic concurrency."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Header, Request

from shipflow.api.auth import require_visible
from shipflow.api.errors import refuse
from shipflow.application import ShipmentService
from shipflow.auth.keys import Principal
from shipflow.events.values import EventMeta, Source, UtcDatetime

_ETAG = re.compile(r'^\s*(?:W/)?"?(\d+)"?\s*$')


def service(request: Request) -> ShipmentService:
    return request.app.state.service


def event_meta(
    request: Request,
    x_source: Annotated[Source, Header(description="where the fact comes from")] = Source.API,
    x_occurred_at: Annotated[UtcDatetime | None, Header(
        description="when it happened, if not now (ISO 8601 with offset)")] = None,
    x_correlation_id: Annotated[str | None, Header(max_length=200)] = None,
    x_causation_id: Annotated[str | None, Header(max_length=200)] = None,
    x_external_id: Annotated[str | None, Header(
        max_length=200, description="the sender's id for this fact")] = None,
) -> EventMeta:
    """The metadata of what this request records: the API key's owner and role act."""
    caller = request.state.principal
    return EventMeta(actor=caller.owner, role=caller.role, source=x_source,
                     occurred_at=x_occurred_at or datetime.now(UTC),
                     correlation_id=x_correlation_id or str(uuid.uuid4()),
                     causation_id=x_causation_id, external_id=x_external_id)


def expected_version(
    if_match: Annotated[str | None, Header(description='the ETag you read, e.g. "7"')] = None,
) -> int | None:
    if if_match is None or if_match.strip() == "*":
        return None
    m = _ETAG.match(if_match)
    if not m:
        raise refuse(400, "if_match_format", "Bad If-Match",
                     'If-Match must be the ETag of the shipment, e.g. "7"', "If-Match")
    return int(m.group(1))


Service = Annotated[ShipmentService, Depends(service)]
Meta = Annotated[EventMeta, Depends(event_meta)]
ExpectedVersion = Annotated[int | None, Depends(expected_version)]


def own_shipment(svc: ShipmentService, caller: Principal, shipment_id: UUID) -> None:
    """A customer key may see the shipment (else 404 shipment_not_found); staff may."""
    if not caller.is_customer:
        return
    shipment = svc.get(shipment_id)
    require_visible(caller, shipment.order.customer_id, "shipment_not_found",
                    f"no shipment {shipment_id}")


def visible_shipment(shipment_id: UUID, request: Request) -> None:
    """A route dependency: the ``{shipment_id}`` in the path is the caller's to see."""
    own_shipment(request.app.state.service, request.state.principal, shipment_id)
