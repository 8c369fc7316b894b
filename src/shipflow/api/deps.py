"""Request context: the services a request talks to (made for this request, with its
``Idempotency-Key``), the event metadata of a command (who acts comes from the API key, see
:mod:`shipflow.api.auth`), ``If-Match``, the read side and read-your-writes."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Header, Query, Request

from shipflow.api.auth import require_visible
from shipflow.api.errors import refuse
from shipflow.api.idempotency import idempotency_request
from shipflow.api.middleware import request_id
from shipflow.auth.keys import Principal
from shipflow.events.common import EventMeta, Source, UtcDatetime
from shipflow.projections.engine.read_models import ReadModels, ViewStopped
from shipflow.services.accounts import AccountService
from shipflow.services.shipments import ShipmentService

_ETAG = re.compile(r'^\s*(?:W/)?"?(\d+)"?\s*$')


def service(request: Request) -> ShipmentService:
    return request.app.state.service.for_request(idempotency_request(request))


def accounts(request: Request) -> AccountService:
    return request.app.state.accounts.for_request(idempotency_request(request))


def read_models(request: Request) -> ReadModels:
    return request.app.state.read_models


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
                     correlation_id=x_correlation_id or request_id() or str(uuid.uuid4()),
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
Accounts = Annotated[AccountService, Depends(accounts)]
ReadSide = Annotated[ReadModels, Depends(read_models)]
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


#: Seconds a reader of a stopped view should wait before asking again (an operator acts).
STOPPED_RETRY_AFTER_S = 30


def consistent(*names: str):  # noqa: ANN201 - a FastAPI dependency factory
    """Wait until the named views have applied the log up to the client's position; a view
    that has stopped on an event before it answers 503 ``view_failed`` at once."""

    def wait(rm: ReadSide,
             min_position: Annotated[int | None, Query(
                 ge=0, description="the `position` a command returned: wait until the view "
                                   "includes it")] = None,
             x_min_position: Annotated[int | None, Header(ge=0)] = None,
             wait_s: Annotated[float, Query(gt=0, le=30, description="how long to wait")] = 5.0,
             ) -> None:
        wanted = max(p for p in (min_position, x_min_position, 0) if p is not None)
        if not wanted:
            return
        if wanted > (rm.store.recorder.max_notification_id() or 0):
            raise refuse(422, "position_beyond_log", "No such position", f"nothing has been "
                         f"written at position {wanted} yet", "min_position")
        try:
            reached = rm.wait_for(wanted, names, wait_s)
        except ViewStopped as e:  # waiting would not help: it needs an operator
            raise refuse(503, "view_failed", f"The {e.name} view has stopped", str(e),
                         "min_position", headers={"Retry-After": str(STOPPED_RETRY_AFTER_S)},
                         ) from None
        if not reached:
            raise refuse(503, "view_behind", "The view is behind",
                         f"the view has not reached position {wanted} within {wait_s}s; retry")

    return Depends(wait)
