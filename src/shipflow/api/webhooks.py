"""Webhooks: subscriptions, the event-type catalogue, the delivery log, retry and replay.

Managing subscriptions and reading deliveries needs role ``admin`` or ``integration``.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field
from pydantic_core import to_jsonable_python

from shipflow.api.deps import Meta
from shipflow.api.errors import ERRORS, refuse
from shipflow.api.idempotency import idempotency_request, idempotent
from shipflow.events.common import EventMeta
from shipflow.services import idempotency
from shipflow.webhooks import catalogue
from shipflow.webhooks.examples import examples
from shipflow.webhooks.service import WebhookService

router = APIRouter(prefix="/webhooks", tags=["webhooks"], responses=ERRORS,
                   dependencies=[Depends(idempotent)])

ROLES = ("admin", "integration")
STATUSES = ("pending", "waiting", "sending", "succeeded", "dead", "cancelled")


def manager(meta: Meta) -> EventMeta:
    if meta.role not in ROLES:
        raise refuse(403, "webhook_role_required", "Not permitted",
                     "managing webhooks needs role admin or integration")
    return meta


def webhook_service(request: Request) -> WebhookService:
    rm = request.app.state.read_models
    return WebhookService(rm.settings, request.app.state.service.store, rm.engine,
                          idempotency=idempotency_request(request))


Admin = Annotated[EventMeta, Depends(manager)]
Hooks = Annotated[WebhookService, Depends(webhook_service)]


class SubscriptionIn(BaseModel):
    url: str = Field(max_length=2000, examples=["https://tms.example.com/hooks/shipflow"])
    description: str = Field(default="", max_length=500)
    event_types: list[str] = Field(min_length=1, examples=[["shipment.*", "sla.breached"]],
                                   description="types, `prefix.*` or `*`")
    customer_id: str | None = Field(default=None, max_length=100,
                                    description="only this customer's events")
    enabled: bool = True


class SubscriptionPatch(BaseModel):
    url: str | None = Field(default=None, max_length=2000)
    description: str | None = Field(default=None, max_length=500)
    event_types: list[str] | None = Field(default=None, min_length=1)
    customer_id: str | None = Field(default=None, max_length=100)
    enabled: bool | None = None


class SecretOut(BaseModel):
    id: str
    created_at: datetime
    expires_at: datetime | None  # None: the current secret


class SubscriptionOut(BaseModel):
    id: str
    url: str
    description: str
    event_types: list[str]
    customer_id: str | None
    enabled: bool
    disabled_reason: str | None
    version: int
    created_at: datetime
    updated_at: datetime
    secrets: list[SecretOut] = []
    failing_since: datetime | None = None
    last_success_at: datetime | None = None
    pending_deliveries: int = 0
    position: int | None = Field(default=None, description="log position of this change")


class SubscriptionCreated(SubscriptionOut):
    secret: str | None = Field(description="whsec_…: shown once, keep it (null when an "
                                           "Idempotency-Key retry replays the answer)")


class SecretRotated(BaseModel):
    secret: str | None = Field(description="the new whsec_… secret: shown once (null when an "
                                            "Idempotency-Key retry replays the answer)")
    previous_valid_until: datetime
    position: int


class EventTypeOut(BaseModel):
    type: str
    description: str
    source: str
    example: dict[str, Any]


class AttemptOut(BaseModel):
    attempt: int
    started_at: datetime
    latency_ms: int
    status_code: int | None
    outcome: str
    error: str | None
    response_excerpt: str | None


class DeliveryOut(BaseModel):
    id: int
    subscription_id: str
    message_id: str = Field(description="the webhook-id header: the same on every retry")
    type: str
    subject: str = Field(description="the shipment (or account) id")
    position: int
    origin: str  # live, replay
    status: str = Field(description="pending, waiting (behind an earlier delivery for the "
                        "same shipment), sending, succeeded, dead, cancelled")
    attempts: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    finished_at: datetime | None


class DeliveryDetail(DeliveryOut):
    payload: dict[str, Any]
    attempt_log: list[AttemptOut]


class ReplayOut(BaseModel):
    subscription_id: str
    from_position: int
    to_position: int
    deliveries: int


def _store_answer(hooks: WebhookService, answer: Any) -> None:
    """With an Idempotency-Key, the answer is stored with the subscription's event, but
    never its secret: a replay says ``secret: null``."""
    if hooks.idempotency is not None:
        def respond(sub: Any) -> idempotency.Response:
            status, body, headers = answer(sub)
            return idempotency.Response(status, to_jsonable_python(
                {**body, "secret": None}), headers)

        hooks.idempotency.respond = respond


def _out(hooks: WebhookService, sub: Any, position: int | None = None,
         **extra: Any) -> dict[str, Any]:
    return {**sub.as_dict(), "secrets": hooks.secrets(sub.id), **hooks.health(sub.id),
            "position": position, **extra}


@router.get("/event-types", response_model=list[EventTypeOut],
            summary="The catalogue of event types, each with an example payload")
def event_types() -> list[EventTypeOut]:
    ex = examples()
    return [EventTypeOut(type=t.name, description=t.description, source=t.source,
                         example=ex.get(t.name, {})) for t in catalogue.EVENT_TYPES.values()]


@router.post("/subscriptions", status_code=201, response_model=SubscriptionCreated,
             summary="Subscribe a URL; the signing secret is in this answer only")
def create(body: SubscriptionIn, meta: Admin, hooks: Hooks) -> dict[str, Any]:
    _store_answer(hooks, lambda sub: (201, _out(hooks, sub), {
        "Location": f"/webhooks/subscriptions/{sub.id}"}))
    sub, secret, position = hooks.create(meta, body.url, body.description, body.event_types,
                                         body.customer_id, body.enabled)
    return _out(hooks, sub, position, secret=secret)


@router.get("/subscriptions", response_model=list[SubscriptionOut],
            summary="Every subscription (as the dispatcher applies them)")
def list_(meta: Admin, hooks: Hooks, customer: str | None = None,
          min_position: Annotated[int | None, Query(
              ge=0, description="wait until the change at this position is applied")] = None,
          ) -> list[dict[str, Any]]:
    if min_position and not hooks.wait_applied(min_position):
        raise refuse(503, "view_behind", "The dispatcher is behind",
                     f"position {min_position} is not applied yet; retry")
    return [{**row, "secrets": hooks.secrets(row["id"]), **hooks.health(row["id"])}
            for row in hooks.list_subscriptions(customer)]


@router.get("/subscriptions/{subscription_id}", response_model=SubscriptionOut)
def get(subscription_id: UUID, meta: Admin, hooks: Hooks) -> dict[str, Any]:
    return _out(hooks, hooks.get(subscription_id))


@router.patch("/subscriptions/{subscription_id}", response_model=SubscriptionOut,
              summary="Change URL, description, types, customer filter, or enable/disable")
def patch(subscription_id: UUID, body: SubscriptionPatch, meta: Admin,
          hooks: Hooks) -> dict[str, Any]:
    fields = body.model_dump(exclude_unset=True)
    for name in ("url", "event_types", "enabled", "description"):
        if name in fields and fields[name] is None:
            raise refuse(422, "null_not_allowed", "Invalid value", f"{name} cannot be null",
                         name)
    sub, position = hooks.update(subscription_id, meta, fields)
    return _out(hooks, sub, position)


@router.delete("/subscriptions/{subscription_id}", status_code=204,
               summary="Delete: nothing more is sent, pending deliveries are cancelled")
def delete(subscription_id: UUID, meta: Admin, hooks: Hooks) -> Response:
    position = hooks.delete(subscription_id, meta)
    return Response(status_code=204, headers={"X-Position": str(position)})


@router.post("/subscriptions/{subscription_id}/secret/rotate", response_model=SecretRotated,
             summary="New secret; the old one keeps signing beside it for a grace period")
def rotate(subscription_id: UUID, meta: Admin, hooks: Hooks,
           grace_s: Annotated[float | None, Query(
               ge=0, le=30 * 24 * 3600, description="default SHIPFLOW_WEBHOOK_SECRET_GRACE_S"
           )] = None) -> SecretRotated:
    _store_answer(hooks, lambda sub: (200, {"previous_valid_until": sub.pending_events[
        -1].previous_valid_until, "position": None}, {}))
    secret, until, position = hooks.rotate_secret(subscription_id, meta, grace_s)
    return SecretRotated(secret=secret, previous_valid_until=until, position=position)


@router.get("/subscriptions/{subscription_id}/deliveries", response_model=list[DeliveryOut],
            summary="The subscription's deliveries, newest first")
def deliveries(subscription_id: UUID, meta: Admin, hooks: Hooks, status: str | None = None,
               limit: Annotated[int, Query(ge=1, le=1000)] = 100,
               before: Annotated[int | None, Query(description="a delivery id: older ones")
                                 ] = None) -> list[dict[str, Any]]:
    if status is not None and status not in STATUSES:
        raise refuse(422, "delivery_status_unknown", "Unknown status",
                     f"use one of {', '.join(STATUSES)}", "status")
    hooks.get(subscription_id)
    return hooks.deliveries(subscription_id, status, limit, before)


def _detail(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "payload": json.loads(row["body"])}


@router.get("/deliveries/{delivery_id}", response_model=DeliveryDetail,
            summary="One delivery: its payload and every attempt (status, latency, response)")
def delivery(delivery_id: int, meta: Admin, hooks: Hooks) -> dict[str, Any]:
    return _detail(hooks.delivery(delivery_id))


@router.post("/deliveries/{delivery_id}/retry", response_model=DeliveryDetail,
             summary="Send a delivery again now (e.g. a dead one, once the endpoint is fixed)")
def retry(delivery_id: int, meta: Admin, hooks: Hooks) -> dict[str, Any]:
    return _detail(hooks.retry(delivery_id))


@router.post("/subscriptions/{subscription_id}/replay", response_model=ReplayOut,
             summary="Resend history to one subscriber from a log position or a time")
def replay(subscription_id: UUID, meta: Admin, hooks: Hooks,
           from_: Annotated[str, Query(alias="from", description=(
               "a log position (the `position` of a payload) or an ISO 8601 time with offset"
           ))]) -> ReplayOut:
    position, when = None, None
    if from_.strip().isdigit():
        position = int(from_)
    else:
        try:
            when = datetime.fromisoformat(from_.strip().replace("Z", "+00:00"))
        except ValueError:
            when = None
        if when is None or when.tzinfo is None:
            raise refuse(422, "replay_from_format", "Bad 'from'", "from is a log position "
                         "or an ISO 8601 time with its UTC offset", "from")
    return ReplayOut(**hooks.replay(subscription_id, position, when))

