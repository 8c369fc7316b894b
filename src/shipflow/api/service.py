"""The service itself: liveness, each view's position in the event log, and an operator's way
out when a view has stopped on an event it cannot apply (retry, or skip that one event)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from shipflow import outages
from shipflow.api import errors
from shipflow.api.auth import STAFF, Caller, allow
from shipflow.api.deps import ReadSide
from shipflow.api.errors import ERRORS, refuse
from shipflow.projections.engine.failures import NotTheFailingEvent, ViewNotFailed
from shipflow.projections.engine.read_models import FAILED, RUNNING, ReadModels, ViewStatus

log = logging.getLogger("shipflow.api")

router = APIRouter(tags=["service"], responses=ERRORS)

ADMIN = frozenset({"admin"})


class Health(BaseModel):
    #: ``ok``; ``degraded``: the API serves, but a view has stopped on an event (its reads
    #: are stale; ``GET /projections`` says which event); ``down``: a database is down.
    status: Literal["ok", "degraded", "down"]
    #: Each store: ``up``, or why it is down (``database_unavailable``, ``storage_full``,
    #: ``error``).
    stores: dict[str, str]
    #: Each view: ``running``, or ``failed`` (stopped on an event). Empty when the read-model
    #: database is down.
    views: dict[str, str] = {}


@router.get("/health", summary="Liveness, the databases and the views", response_model=Health,
            responses={503: {"model": Health,
                             "description": "A database is down (which: its field)"}})
def health(request: Request) -> Any:
    """Cheap checks of the event store, the read-model database and the views: 200 while
    both databases answer — ``degraded`` when a view has stopped on an event, so a load
    balancer keeps the API in rotation while an operator sees which view — else 503 with
    ``Retry-After`` naming the store that is down."""
    state = request.app.state
    rm: ReadModels = state.read_models
    stores = {"event_store": outages.event_store_problem(state.service.store),
              "read_models": outages.read_models_problem(rm.engine)}
    views: dict[str, str] = {}
    if not stores["read_models"]:
        try:
            failed = rm.failed()
        except Exception as e:
            outage = outages.classify(e)
            log.warning("health: the views' state cannot be read: %s", outages.first_line(e))
            stores["read_models"] = outage.rule if outage else "error"
        else:
            views = {name: FAILED if name in failed else RUNNING for name in rm.projections}
    down = any(stores.values())
    body = Health(status="down" if down else "degraded" if FAILED in views.values() else "ok",
                  stores={k: v or "up" for k, v in stores.items()}, views=views)
    if not down:
        return body
    return JSONResponse(body.model_dump(), status_code=503, headers={
        "Retry-After": str(errors.OUTAGE_RETRY_AFTER_S)})


class FailureOut(BaseModel):
    """The event a view stopped on: it stays at ``stopped_at``, the position before it."""

    slot: str
    position: int
    stopped_at: int
    event_type: str
    aggregate_id: str
    aggregate_version: int
    stage: Literal["decode", "fold", "evolve", "write"]
    error_class: str
    error_message: str
    attempts: int
    first_failed_at: datetime
    failed_at: datetime
    retry_requested_at: datetime | None = None
    retry_requested_by: str | None = None


class SkipOut(BaseModel):
    """An event an operator skipped for the view (a dead letter): who, when and why."""

    position: int
    slot: str
    event_type: str
    aggregate_id: str
    aggregate_version: int
    error_class: str
    error_message: str
    reason: str
    skipped_by: str
    skipped_at: datetime


class ViewStatusOut(BaseModel):
    name: str
    active_slot: str
    position: int
    head: int
    lag: int
    state: Literal["running", "failed"]
    failure: FailureOut | None = None
    skipped: list[SkipOut] = []


def _out(s: ViewStatus) -> ViewStatusOut:
    f = s.failure
    return ViewStatusOut(
        name=s.name, active_slot=s.active_slot, position=s.position, head=s.head, lag=s.lag,
        state=RUNNING if s.state == RUNNING else FAILED,
        failure=None if f is None else FailureOut.model_validate(f, from_attributes=True),
        skipped=[SkipOut.model_validate(k, from_attributes=True) for k in s.skipped])


@router.get("/projections", response_model=list[ViewStatusOut],
            summary="Each view's position in the event log, its lag, and whether it stopped",
            dependencies=[allow(STAFF)])
def projection_status(rm: ReadSide) -> list[ViewStatusOut]:
    return [_out(s) for s in rm.status()]


ViewName = Annotated[str, Path(max_length=40, description="shipments, bl_drafts, sla or "
                                                          "statements")]


def _known(rm: ReadModels, name: str) -> None:
    if name not in rm.projections:
        raise refuse(404, "view_not_found", "No such view",
                     f"no view {name!r}; known: {', '.join(rm.projections)}")


def _not_failed(e: ViewNotFailed) -> Exception:
    return refuse(409, "view_not_failed", "The view has not stopped", str(e))


@router.post("/projections/{name}/retry", response_model=ViewStatusOut,
             summary="Try the event a stopped view cannot apply again (after a fix)",
             dependencies=[allow(ADMIN)])
def retry_view(name: ViewName, rm: ReadSide, caller: Caller) -> ViewStatusOut:
    """One batch of this view is applied now; the answer is the view's state after it:
    ``running`` again, or still ``failed`` with one more attempt recorded."""
    _known(rm, name)
    try:
        return _out(rm.retry(name, caller.owner))
    except ViewNotFailed as e:
        raise _not_failed(e) from None


class SkipIn(BaseModel):
    position: int = Field(ge=1, description="the position of the event the view stopped on "
                                            "(its `failure.position`)")
    reason: str = Field(min_length=1, max_length=2000, description="why the view may do "
                                                                    "without this event")


@router.post("/projections/{name}/skip", response_model=ViewStatusOut,
             summary="Skip the one event a stopped view cannot apply, saying why",
             dependencies=[allow(ADMIN)])
def skip_event(name: ViewName, body: Annotated[SkipIn, Body()], rm: ReadSide,
               caller: Caller) -> ViewStatusOut:
    """The view moves past that event without applying it; who skipped it and why is kept
    with the failure (``skipped`` in ``GET /projections``), and rebuilds leave it out too.
    Only the event the view stopped on can be skipped."""
    _known(rm, name)
    try:
        return _out(rm.skip(name, body.position, body.reason, caller.owner))
    except ViewNotFailed as e:
        raise _not_failed(e) from None
    except NotTheFailingEvent as e:
        raise refuse(409, "skip_not_the_failing_event", "Not the event the view stopped on",
                     str(e), "position") from None
