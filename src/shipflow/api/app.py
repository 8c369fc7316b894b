"""The FastAPI application: routers, problem+json errors, and the service's lifetime."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from shipflow import __version__, outages
from shipflow.api import accounts as accounts_api
from shipflow.api import (
    admin,
    commands,
    documents,
    errors,
    integrations,
    reads,
    reports,
    sla,
    views,
)
from shipflow.api import webhooks as webhooks_api
from shipflow.api.auth import authenticate
from shipflow.application import ShipmentService
from shipflow.auth.keys import KeyStore
from shipflow.config import Settings
from shipflow.migrations import upgrade
from shipflow.projections.read_models import ReadModels
from shipflow.workers import Workers

DESCRIPTION = """
Every booking, amendment (委托更改), milestone, rollover, charge and B/L step of a shipment
is recorded as an immutable event; the state, its history and its past are read back from
those events.

**Authentication**: every request but `/health` carries an API key, `Authorization: Bearer
sfk_…` (or `X-API-Key`); create one with `shipflow keys create`. The key's owner is the
actor of what it records and its role decides what it may do; a `customer` key sees only its
own customer's data. Optional on commands: `X-Source` (`api`, `tms`, `carrier_feed`),
`X-Occurred-At` (when it happened, if not now), `X-Correlation-Id`, `X-External-Id`, and
`Idempotency-Key` (a retry returns the first response and writes nothing again).

**Concurrency**: reads return `ETag: "<version>"`; send it back as `If-Match` to refuse a
stale write with 412.

**Errors** are RFC 9457 `application/problem+json`, naming each broken rule.
"""


class Health(BaseModel):
    status: Literal["ok", "down"]
    #: Each store: ``up``, or why it is down (``database_unavailable``, ``storage_full``,
    #: ``error``).
    stores: dict[str, str]


def create_app(settings: Settings | None = None,
               service: ShipmentService | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = service is None
        app.state.settings = settings
        svc = app.state.service = service or ShipmentService.from_settings(settings)
        if settings.migrate_on_start:
            upgrade(settings)
        rm = app.state.read_models = ReadModels(settings, svc.store)
        app.state.keys = KeyStore(rm.engine)
        workers = Workers(settings, svc, rm)
        if settings.run_workers:
            workers.start()
        try:
            yield
        finally:
            workers.close()
            rm.close()
            if own:
                svc.close()

    app = FastAPI(title="shipflow", version=__version__, description=DESCRIPTION,
                  dependencies=[Depends(authenticate)],
                  lifespan=lifespan)
    errors.install(app)
    app.include_router(commands.router)
    app.include_router(views.router)  # before reads: /shipments/lookup is not an id
    app.include_router(reads.router)
    app.include_router(documents.router)
    app.include_router(sla.router)
    app.include_router(webhooks_api.router)
    app.include_router(accounts_api.router)
    app.include_router(integrations.router)
    app.include_router(reports.router)
    app.include_router(admin.router)

    @app.get("/health", tags=["service"], summary="Liveness and the databases",
             response_model=Health, responses={503: {"model": Health, "description":
                                                     "A database is down (which: its field)"}})
    def health(request: Request) -> Any:
        """Cheap checks of the event store and the read-model database: 200 when both
        answer, else 503 with ``Retry-After`` naming the store that is down."""
        state = request.app.state
        stores = {"event_store": outages.event_store_problem(state.service.store),
                  "read_models": outages.read_models_problem(state.read_models.engine)}
        body = Health(status="ok" if not any(stores.values()) else "down",
                      stores={k: v or "up" for k, v in stores.items()})
        if body.status == "ok":
            return body
        return JSONResponse(body.model_dump(), status_code=503, headers={
            "Retry-After": str(errors.OUTAGE_RETRY_AFTER_S)})

    return app
