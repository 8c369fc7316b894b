"""``Idempotency-Key`` on POST, the HTTP side (the records: :mod:`shipflow.services.idempotency`).

The router dependency :func:`idempotent` only *prepares*: it hashes the request and names
the record by the API key's id and the client's key. The service looks the record up inside
the endpoint — after the endpoint's role and tenant checks have passed — and either replays
the stored answer (``Idempotent-Replayed: true``, nothing written), refuses the key reused
for another request (409), or saves the answer with the command's events. Keys expire after
``SHIPFLOW_IDEMPOTENCY_TTL_S``.
"""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic_core import to_jsonable_python

from shipflow.services.idempotency import IdempotencyRequest, IdempotentReplay, Response


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


async def idempotent(
    request: Request,
    idempotency_key: Annotated[str | None, Header(
        min_length=1, max_length=255,
        description="retry-safe: the same key returns the first response and writes nothing "
                    "again")] = None,
) -> None:
    """Router dependency: put this request's :class:`IdempotencyRequest` (or None) on
    ``request.state.idempotency`` for the service to use."""
    request.state.idempotency = None
    if idempotency_key is None or request.method != "POST":  # the others are idempotent
        return
    route = request.scope.get("route")
    request.state.idempotency = IdempotencyRequest.of(
        request.state.principal.key_id, idempotency_key,
        _request_hash(request, await request.body()), datetime.now(UTC),
        request.app.state.settings.idempotency_ttl_s,
        command_response(getattr(route, "status_code", None) or 200))


def idempotency_request(request: Request) -> IdempotencyRequest | None:
    return getattr(request.state, "idempotency", None)


Idempotency = Annotated[IdempotencyRequest | None, Depends(idempotency_request)]


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
