"""``GET /metrics``: Prometheus text for an ``admin`` or ``monitoring`` key (a scraper sends
``Authorization: Bearer sfk_…``). What the series mean: docs/deployment.md."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from shipflow import metrics
from shipflow.api.auth import allow
from shipflow.api.errors import ERRORS

router = APIRouter(tags=["service"], responses=ERRORS)


@router.get("/metrics", response_class=Response, summary="Prometheus metrics",
            dependencies=[allow(frozenset({"admin", "monitoring"}))],
            responses={200: {"content": {metrics.CONTENT_TYPE: {}}}})
def scrape(request: Request) -> Response:
    return Response(metrics.exposition(request.app.state.metrics),
                    media_type=metrics.CONTENT_TYPE)
