"""``Idempotency-Key`` on POST: the first response is stored with the command's events; a
retry with the same key and request gets it again (``Idempotent-Replayed: true``) and writes
nothing; the same key with another request is refused (409). Keys are per key owner and
expire after ``SHIPFLOW_IDEMPOTENCY_TTL_S``. See :mod:`shipflow.idempotency`."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any

from eventsourcing.application import AggregateNotFoundError
from fastapi import Header, Request
from fastapi.responses import JSONResponse
from pydantic_core import to_jsonable_python

from shipflow.api.errors import refuse
from shipflow.idempotency import (
    PENDING,
    IdempotencyRecord,
    IdempotentReplay,
    Pending,
    Response,
    expiry,
)


def _request_hash(request: Request, body: bytes) -> str:
    h = hashlib.sha256()
    for part in (request.method, request.url.path, str(sorted(request.query_params.multi_items())),
                 request.headers.get("if-match", "")):
        h.update(part.encode() + b"\n")
    h.update(body)
    return h.hexdigest()


def command_response(status: int):  # noqa: ANN201 - builds a command endpoint's response
    """A command's response from what its service recorded (a Recorded / AccountRecorded:
    their fields are the response body); the position is filled in on replay."""

    def respond(recorded: Any) -> Response:
        body = {f.name: to_jsonable_python(getattr(recorded, f.name))
                for f in dataclasses.fields(recorded) if f.name != "extra"}
        body["position"] = None
        headers = {"ETag": f'"{recorded.version}"'}
        if status == 201 and hasattr(recorded, "shipment_id"):
            headers["Location"] = f"/shipments/{recorded.shipment_id}"
        elif status == 201 and hasattr(recorded, "customer_id"):
            headers["Location"] = f"/accounts/{recorded.customer_id}"
        return Response(status, body, headers)

    return respond


def key_owner(request: Request) -> str:
    """Keys are per key owner: the API key's owner (the actor until keys are required)."""
    principal = getattr(request.state, "principal", None)
    return principal.owner if principal else request.headers.get("x-actor", "")


async def idempotent(
    request: Request,
    idempotency_key: Annotated[str | None, Header(
        min_length=1, max_length=255,
        description="retry-safe: the same key returns the first response and writes nothing "
                    "again")] = None,
) -> AsyncIterator[None]:
    if idempotency_key is None or request.method != "POST":  # the others are idempotent
        yield
        return
    svc = request.app.state.service
    request_hash = _request_hash(request, await request.body())
    record_id = IdempotencyRecord.id_for(key_owner(request), idempotency_key)
    try:
        record = svc.store.repository.get(record_id)
    except AggregateNotFoundError:
        record = None
    now = datetime.now(UTC)
    if record is not None and not record.expired(now):
        if record.request_hash != request_hash:
            raise refuse(409, "idempotency_key_reused", "Idempotency key reused",
                         "this Idempotency-Key was used for a different request",
                         "Idempotency-Key")
        raise IdempotentReplay(record)
    route = request.scope.get("route")
    token = PENDING.set(Pending(
        record_id, request_hash, expiry(now, request.app.state.settings.idempotency_ttl_s),
        command_response(getattr(route, "status_code", None) or 200), record))
    try:
        yield
    finally:
        PENDING.reset(token)


def replay(request: Request, exc: Exception) -> JSONResponse:
    """Answer with the stored response; its position is the record's own log position."""
    assert isinstance(exc, IdempotentReplay)
    record = exc.record
    position = request.app.state.service.store.notification_id_of(record.id, record.version)
    body = record.body
    if isinstance(body, dict) and "position" in body:
        body = {**body, "position": position}
    return JSONResponse(body, status_code=record.status, headers={
        **record.headers, "X-Position": str(position), "Idempotent-Replayed": "true"})
