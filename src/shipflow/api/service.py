"""The service itself: liveness, and each view's position in the event log."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from shipflow.api.auth import STAFF, allow
from shipflow.api.deps import ReadSide
from shipflow.api.errors import ERRORS

router = APIRouter(tags=["service"], responses=ERRORS)


@router.get("/health", summary="Liveness")
def health() -> dict[str, str]:
    return {"status": "ok"}


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
