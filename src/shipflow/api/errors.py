"""RFC 9457 problem details for every error the API returns.

Domain errors name the rule they enforce; validation errors name the field and the rule
(the pydantic error type, or our own such as ``unlocode_format``). A database outage is
retryable, not a bug: 503 ``database_unavailable`` with ``Retry-After``, or 507
``storage_full`` (see :mod:`shipflow.outages` for which errors are which).
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

import psycopg
import sqlalchemy.exc
from eventsourcing.persistence import PersistenceError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException
from starlette.routing import compile_path

from shipflow.events.common import (
    DomainError,
    InvalidTransition,
    NotFound,
    NotPermitted,
    RulesBroken,
    VersionConflict,
)
from shipflow.outages import DATABASE_UNAVAILABLE, STORAGE_FULL, Outage, classify
from shipflow.services.idempotency import IdempotencyKeyReused, IdempotentReplay

log = logging.getLogger("shipflow.api")

PROBLEM_JSON = "application/problem+json"


class ViolationOut(BaseModel):
    rule: str
    field: str | None = None
    detail: str


class Problem(BaseModel):
    """An RFC 9457 problem detail, with the broken rules listed."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    violations: list[ViolationOut] = []
    current_version: int | None = None


def problem(status: int, rule: str, title: str, detail: str, request: Request | None = None,
            violations: list[dict[str, Any]] | None = None, **extra: Any) -> JSONResponse:
    body = Problem(type=f"urn:shipflow:problem:{rule}", title=title, status=status,
                   detail=detail, instance=request.url.path if request else None,
                   violations=[ViolationOut(**v) for v in violations or []], **extra)
    headers = {"ETag": f'"{extra["current_version"]}"'} if extra.get("current_version") else {}
    if status == 503:
        headers["Retry-After"] = "1"
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status,
                        media_type=PROBLEM_JSON, headers=headers)


#: The error responses every router documents (each a problem+json).
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "content": {PROBLEM_JSON: {}}}
    for status in (400, 401, 403, 404, 409, 412, 422, 503)}

#: Which HTTP status each kind of refusal gets, most specific first.
STATUS_BY_ERROR: list[tuple[type[DomainError], int, str]] = [
    (VersionConflict, 412, "The shipment changed since you read it"),
    (IdempotencyKeyReused, 409, "Idempotency key reused"),
    (NotFound, 404, "Not found"),
    (NotPermitted, 403, "Not permitted"),
    (InvalidTransition, 409, "Not possible in the shipment's current state"),
    (RulesBroken, 422, "The booking breaks a rule"),
    (DomainError, 422, "The request breaks a rule"),
]


def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    status, title = next((s, t) for cls, s, t in STATUS_BY_ERROR if isinstance(exc, cls))
    extra = {"current_version": exc.current} if isinstance(exc, VersionConflict) else {}
    if exc.rule == "concurrent_write":
        status, title = 409, "Concurrent change"
    return problem(status, exc.rule, title, exc.detail, request,
                   [v.model_dump() for v in exc.violations], **extra)


def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if any(e["type"] == "json_invalid" for e in errors):
        return problem(400, "json_invalid", "Malformed JSON", "the request body is not valid "
                       "JSON", request, [{"rule": "json_invalid", "field": "body",
                                         "detail": errors[0].get("msg", "")}])
    violations: list[dict[str, Any]] = [
        {"rule": e["type"], "field": ".".join(str(p) for p in e["loc"] if p != "body") or "body",
         "detail": e["msg"]} for e in errors]
    fields = ", ".join(v["field"] for v in violations)
    return problem(422, violations[0]["rule"], "Invalid request",
                   f"{len(violations)} invalid field(s): {fields}", request, violations)


def _model_error(request: Request, exc: Exception) -> JSONResponse:
    """A value object refused a value past the request's own validation."""
    assert isinstance(exc, ValidationError)
    violations: list[dict[str, Any]] = [
        {"rule": e["type"], "field": ".".join(str(p) for p in e["loc"]) or None,
         "detail": e["msg"]} for e in exc.errors()]
    return problem(422, violations[0]["rule"], "Invalid value", violations[0]["detail"],
                   request, violations)


def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    rule = {404: "route_not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    if isinstance(exc.detail, dict):  # raised by our own dependencies and routes
        d = exc.detail
        response = problem(exc.status_code, d["rule"], d["title"], d["detail"], request, [
            {"rule": d["rule"], "field": d.get("field"), "detail": d["detail"]}])
    else:
        response = problem(exc.status_code, rule, str(exc.detail), str(exc.detail), request)
    response.headers.update(exc.headers or {})
    if exc.status_code == 405:
        response.headers["Allow"] = ", ".join(_allowed_methods(request))
    return response


def _allowed_methods(request: Request) -> list[str]:
    """Every method the API serves at this path, from its OpenAPI document (Starlette lists
    only the first matching route's, and one path may be served by several routers)."""
    allowed: set[str] = set()
    for template, operations in request.app.openapi()["paths"].items():
        if compile_path(template)[0].match(request.url.path):
            allowed |= {method.upper() for method in operations}
    return sorted(allowed)


#: Seconds a client should wait before retrying while the database is unavailable.
OUTAGE_RETRY_AFTER_S = 5
#: Errors of the databases and their drivers: an outage is answered as one, anything else
#: goes on to :func:`_unexpected` (a 500, logged).
STORAGE_ERRORS: tuple[type[Exception], ...] = (
    PersistenceError, psycopg.Error, sqlalchemy.exc.SQLAlchemyError, sqlite3.Error)


def outage_problem(request: Request | None, outage: Outage) -> JSONResponse:
    if outage.rule == STORAGE_FULL:
        detail = ("the database has no room left to record this (disk or database file full); "
                  "nothing of this request was recorded. Retry once space has been freed.")
        return problem(507, STORAGE_FULL, "Storage full", detail, request,
                       [{"rule": STORAGE_FULL, "detail": detail}])
    detail = ("the database is unavailable just now; retry after the Retry-After delay "
              "(resend a command with the same Idempotency-Key, so it is recorded once)")
    response = problem(503, DATABASE_UNAVAILABLE, "Database unavailable", detail, request,
                       [{"rule": DATABASE_UNAVAILABLE, "detail": detail}])
    response.headers["Retry-After"] = str(OUTAGE_RETRY_AFTER_S)
    return response


def _storage_error(request: Request, exc: Exception) -> JSONResponse:
    outage = classify(exc)
    if outage is None:
        raise exc  # a bug: to _unexpected, which logs it
    log.warning("%s on %s %s: %s", outage.rule, request.method, request.url.path,
                outage.reason)
    return outage_problem(request, outage)


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    outage = classify(exc)  # an outage wrapped in another error still is one
    if outage is not None:
        log.warning("%s on %s %s: %s", outage.rule, request.method, request.url.path,
                    outage.reason)
        return outage_problem(request, outage)
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem(500, "internal_error", "Internal error", "an unexpected server error; "
                   "it has been logged", request)


def install(app: FastAPI) -> None:
    from shipflow.api.idempotency import replay

    app.add_exception_handler(IdempotentReplay, replay)
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(ValidationError, _model_error)
    app.add_exception_handler(HTTPException, _http_error)
    for storage_error in STORAGE_ERRORS:
        app.add_exception_handler(storage_error, _storage_error)
    app.add_exception_handler(Exception, _unexpected)


def refuse(status: int, rule: str, title: str, detail: str, field: str | None = None,
           headers: dict[str, str] | None = None) -> HTTPException:
    """An HTTP-level refusal (missing header, bad If-Match) in problem+json form."""
    problem_detail: Any = {"rule": rule, "title": title, "detail": detail, "field": field}
    return HTTPException(status, detail=problem_detail, headers=headers)
