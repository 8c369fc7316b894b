"""API keys over HTTP (admin role): create (the key is in this answer only), list, revoke."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Body, Request
from pydantic import BaseModel, Field

from shipflow.api.auth import Caller, allow
from shipflow.api.errors import ERRORS, refuse
from shipflow.auth.keys import ROLES, ApiKeyError, KeyInfo

router = APIRouter(prefix="/admin/api-keys", tags=["admin"], responses=ERRORS,
                   dependencies=[allow(frozenset({"admin"}))])


class KeyIn(BaseModel):
    owner: str = Field(min_length=1, max_length=200, examples=["tms-prod"])
    role: str = Field(description=f"one of {', '.join(ROLES)}", examples=["integration"])
    customer_id: str | None = Field(default=None, description="for role customer: the one "
                                                              "customer the key sees")
    description: str = Field(default="", max_length=500)


@dataclass(frozen=True)
class KeyCreated(KeyInfo):
    key: str  # the API key itself: shown in this answer only


@router.post("", status_code=201, response_model=KeyCreated,
             summary="Create an API key (the key is in this answer only)")
def create_key(request: Request, caller: Caller, body: Annotated[KeyIn, Body()]) -> KeyCreated:
    try:
        key, info = request.app.state.keys.create(body.owner, body.role, caller.owner,
                                                  body.customer_id, body.description)
    except ApiKeyError as e:
        raise refuse(422, e.rule, "Bad key request", e.detail) from None
    return KeyCreated(**vars(info), key=key)


@router.get("", response_model=list[KeyInfo], summary="The API keys (never the keys themselves)")
def list_keys(request: Request, revoked: bool = False) -> list[KeyInfo]:
    return request.app.state.keys.list(include_revoked=revoked)


@router.delete("/{key_id}", status_code=204,
               summary="Revoke an API key: it stops working (never the last admin key)")
def revoke_key(request: Request, caller: Caller, key_id: str) -> None:
    try:
        revoked = request.app.state.keys.revoke(key_id, caller.owner)
    except ApiKeyError as e:
        raise refuse(409, e.rule, "Not possible", e.detail) from None
    if not revoked:
        raise refuse(404, "api_key_not_found", "Not found", f"no active key {key_id}")
