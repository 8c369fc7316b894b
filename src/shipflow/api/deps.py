"""Request context: who is acting (until API keys arrive: ``X-Actor`` / ``X-Role``), the
event metadata headers, and ``If-Match`` for optimistic concurrency."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Header, Request

from shipflow.api.errors import refuse
from shipflow.application import ShipmentService
from shipflow.events.values import EventMeta, Source, UtcDatetime

ROLES = frozenset({"cs", "manager", "sales", "finance", "tracking", "integration", "admin",
                   "customer"})
_ETAG = re.compile(r'^\s*(?:W/)?"?(\d+)"?\s*$')


def service(request: Request) -> ShipmentService:
    return request.app.state.service


def event_meta(
    x_actor: Annotated[str | None, Header(description="who is acting, e.g. cs.wang")] = None,
    x_role: Annotated[str | None, Header(description=f"one of {sorted(ROLES)}")] = None,
    x_source: Annotated[Source, Header(description="where the fact comes from")] = Source.API,
    x_occurred_at: Annotated[UtcDatetime | None, Header(
        description="when it happened, if not now (ISO 8601 with offset)")] = None,
    x_correlation_id: Annotated[str | None, Header(max_length=200)] = None,
    x_causation_id: Annotated[str | None, Header(max_length=200)] = None,
    x_external_id: Annotated[str | None, Header(
        max_length=200, description="the sender's id for this fact")] = None,
) -> EventMeta:
    if not x_actor or not x_actor.strip():
        raise refuse(401, "actor_required", "Who is acting?", "send the X-Actor header",
                     "X-Actor")
    if x_role not in ROLES:
        raise refuse(401, "role_required", "Which role?",
                     f"send the X-Role header, one of {', '.join(sorted(ROLES))}", "X-Role")
    return EventMeta(actor=x_actor.strip(), role=x_role, source=x_source,
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
