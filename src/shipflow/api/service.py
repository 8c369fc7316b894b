"""The service itself: liveness, and each view's position in the event log."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from shipflow import outages
from shipflow.api import errors
from shipflow.api.auth import STAFF, allow
from shipflow.api.deps import ReadSide
from shipflow.api.errors import ERRORS

router = APIRouter(tags=["service"], responses=ERRORS)


class Health(BaseModel):
    status: Literal["ok", "down"]
    #: Each store: ``up``, or why it is down (``database_unavailable``, ``storage_full``,
    #: ``error``).
    stores: dict[str, str]


@router.get("/health", summary="Liveness and the databases", response_model=Health,
            responses={503: {"model": Health,
                             "description": "A database is down (which: its field)"}})
def health(request: Request) -> Any:
    """Cheap checks of the event store and the read-model database: 200 when both answer,
    else 503 with ``Retry-After`` naming the store that is down."""
    state = request.app.state
    stores = {"event_store": outages.event_store_problem(state.service.store),
              "read_models": outages.read_models_problem(state.read_models.engine)}
    body = Health(status="ok" if not any(stores.values()) else "down",
                  stores={k: v or "up" for k, v in stores.items()})
    if body.status == "ok":
        return body
    return JSONResponse(body.model_dump(), status_code=503, headers={
        "Retry-After": str(errors.OUTAGE_RETRY_AFTER_S)})


class ViewStatusOut(BaseModel):
    name: str
    active_slot: str
    position: int
    head: int
    lag: int


@router.get("/projections", response_model=list[ViewStatusOut],
            summary="Each view's position in the event log and its lag",
            dependencies=[allow(STAFF)])
def projection_status(rm: ReadSide) -> list[ViewStatusOut]:
    return [ViewStatusOut(name=s.name, active_slot=s.active_slot, position=s.position,
                          head=s.head, lag=s.lag) for s in rm.status()]
