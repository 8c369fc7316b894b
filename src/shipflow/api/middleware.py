"""Every request: a request id, an access-log line, and the request metrics.

- The request id is the client's ``X-Request-ID`` (when it is a sane token) or a new one; it
  is returned in the response's ``X-Request-ID`` and becomes the correlation id of the events
  the request records (:func:`request_id`, read by ``api/deps.py``) — so an operator goes from
  a log line to the events and back.
- The access log is one JSON line per request (``shipflow.access``): method, route template,
  status, duration, request id and the API key's **id** (never the key). No query strings:
  they may carry references a customer would not want in logs.
- Metrics per route template and status (:mod:`shipflow.metrics`).

A plain ASGI middleware (no BaseHTTPMiddleware): it adds no task switches to a request and
sees the route FastAPI matched in the shared scope.
"""

from __future__ import annotations

import contextvars
import logging
import re
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shipflow import metrics

log = logging.getLogger("shipflow.access")

_REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "shipflow_request_id", default=None)
_SANE = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


def request_id() -> str | None:
    """The id of the request being served (None outside a request)."""
    return _REQUEST_ID.get()


class RequestContext:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v.decode("latin-1") for k, v in scope["headers"]
                      if k == b"x-request-id"), "")
        rid = given if _SANE.match(given) else uuid.uuid4().hex
        token = _REQUEST_ID.set(rid)
        started = time.perf_counter()
        status = 500  # what the client gets if the app fails before answering

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"],
                                      (b"x-request-id", rid.encode("latin-1"))]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _REQUEST_ID.reset(token)
            self._record(scope, rid, status, time.perf_counter() - started)

    @staticmethod
    def _record(scope: Scope, rid: str, status: int, seconds: float) -> None:
        route: Any = scope.get("route")
        template = getattr(route, "path", None) or "unmatched"
        method = scope["method"]
        metrics.REQUESTS.labels(method, template, str(status)).inc()
        metrics.LATENCY.labels(method, template).observe(seconds)
        principal = getattr(scope.get("state", {}).get("principal"), "key_id", None) \
            if isinstance(scope.get("state"), dict) else None
        log.info("%s %s %s", method, template, status, extra={
            "request_id": rid, "method": method, "route": template, "status": status,
            "duration_ms": round(seconds * 1000, 1), "key_id": principal})
