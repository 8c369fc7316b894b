"""The FastAPI application: routers, problem+json errors, and the service's lifetime."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from shipflow import __version__, metrics
from shipflow.api import (
    accounts,
    api_keys,
    audit,
    bl_drafts,
    dcsa_booking,
    dcsa_tnt,
    errors,
    integrations,
    reports,
    shipment_reads,
    shipments,
    sla,
    webhooks,
)
from shipflow.api import metrics as metrics_api
from shipflow.api import service as service_api
from shipflow.api.auth import authenticate
from shipflow.api.middleware import RequestContext
from shipflow.auth.keys import KeyStore
from shipflow.config import Settings
from shipflow.migrations import upgrade
from shipflow.projections.engine.read_models import ReadModels
from shipflow.services.accounts import AccountService
from shipflow.services.shipments import ShipmentService
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


def create_app(settings: Settings | None = None,
               service: ShipmentService | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = service is None
        app.state.settings = settings
        svc = app.state.service = service or ShipmentService.from_settings(settings)
        app.state.accounts = AccountService(svc.store, cache=svc.cache)
        if settings.migrate_on_start:
            upgrade(settings)
        rm = app.state.read_models = ReadModels(settings, svc.store)
        app.state.keys = KeyStore(rm.engine)
        app.state.metrics = metrics.registry_for(rm)
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
    app.add_middleware(RequestContext)
    app.state.metrics = None  # made with the read side, in the lifespan
    errors.install(app)
    for module in (shipments, shipment_reads, bl_drafts, sla, webhooks, accounts,
                   integrations, dcsa_tnt, dcsa_booking, reports, api_keys, service_api,
                   metrics_api, audit):
        app.include_router(module.router)
    return app
