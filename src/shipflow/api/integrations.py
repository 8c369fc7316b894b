"""Carrier and spreadsheet feeds: DCSA Track & Trace events and milestone CSV, in bulk."""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body, Depends, Header, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from shipflow.api.auth import TRACKING, allow
from shipflow.api.deps import ReadSide, Service, event_meta
from shipflow.api.errors import ERRORS, refuse
from shipflow.api.idempotency import Idempotency, idempotent
from shipflow.events.common import EventMeta, Source
from shipflow.integrations.csv_milestones import CsvError, read_csv
from shipflow.integrations.ingest import MAX_BATCH, MilestoneIngest
from shipflow.projections.engine.read_models import ReadModels
from shipflow.services import idempotency
from shipflow.services.idempotency import IdempotencyRequest
from shipflow.services.shipments import ShipmentService

router = APIRouter(prefix="/integrations", tags=["integrations"], responses=ERRORS,
                   dependencies=[allow(TRACKING), Depends(idempotent)])

class EventOutcome(BaseModel):
    index: int
    event_id: str | None
    status: str  # accepted, duplicate, superseded, unmatched, invalid
    shipment_id: UUID | None = None
    reason: str | None = None


class IngestResult(BaseModel):
    counts: dict[str, int]
    results: list[EventOutcome]


def feed_meta(
    request: Request,
    x_source: Annotated[Source, Header(description=(
        "where the facts come from; a feed's are `carrier_feed` unless said otherwise"))
    ] = Source.CARRIER_FEED,
    x_correlation_id: Annotated[str | None, Header(max_length=200)] = None,
) -> EventMeta:
    """A feed's metadata: the key's owner acts; the source is the carrier feed (or the
    ``X-Source`` sent), so an auditor tells a carrier's fact from a desk's entry. When each
    fact occurred is the event's own (see :func:`~shipflow.integrations.ingest.occurred_at`)."""
    return event_meta(request, x_source, None, x_correlation_id, None, None)


FeedMeta = Annotated[EventMeta, Depends(feed_meta)]


def _ingest(svc: ShipmentService, rm: ReadModels, events: list[Any], meta: EventMeta,
            idem: IdempotencyRequest | None, validate: bool = True) -> IngestResult:
    if idem is not None:
        idem.check(svc.store)  # a retry: the stored answer, before anything is matched
    # The per-shipment saves store no response (a plain service, without the key).
    outcomes = MilestoneIngest(svc.for_request(None), rm).ingest(
        events, meta.actor, meta.role, meta.source, meta.correlation_id, validate)
    result = IngestResult(counts=dict(Counter(o.status for o in outcomes)),
                          results=[EventOutcome(**vars(o)) for o in outcomes])
    if idem is not None:
        # A feed spans many shipments' transactions, so its answer is stored after them;
        # each event's own id already keeps a retry from writing anything twice.
        idem.respond = lambda r: idempotency.Response(200, r.model_dump(mode="json"), {})
        idempotency.save(svc.store, [], result, idem)
    return result


@router.post("/dcsa/tnt/events", response_model=IngestResult,
             summary="DCSA Track & Trace 2.2 events in bulk (up to 1,000), each checked against "
                     "the T&T 2.2 schema")
def dcsa_events(svc: Service, rm: ReadSide, meta: FeedMeta, idem: Idempotency,
                events: Annotated[list[Any], Body(max_length=MAX_BATCH, examples=[[{
                    "eventID": "5e51e72c-d872-4b7e-b3a4-5ad1f6f2d2a1", "eventType": "TRANSPORT",
                    "eventCreatedDateTime": "2026-12-05T10:00:00Z",
                    "eventDateTime": "2026-12-05T18:00:00+08:00",
                    "eventClassifierCode": "ACT", "transportEventTypeCode": "DEPA",
                    "transportCall": {"transportCallID": "CNSHA-248E", "modeOfTransport":
                                      "VESSEL", "UNLocationCode": "CNSHA",
                                      "exportVoyageNumber": "248E",
                                      "vessel": {"vesselIMONumber": "9456783",
                                                 "vesselName": "MAERSK ESSEN"}},
                    "documentReferences": [{"documentReferenceType": "BKG",
                                            "documentReferenceValue": "255123456"}]}]])],
                ) -> IngestResult:
    return _ingest(svc, rm, events, meta, idem)


@router.post("/milestones.csv", response_model=IngestResult,
             summary="Milestones from a spreadsheet (CSV, see docs/integrations.md)",
             openapi_extra={"requestBody": {"required": True, "content": {
                 "text/csv": {"schema": {"type": "string"}}}}})
async def milestones_csv(request: Request, svc: Service, rm: ReadSide,
                         meta: FeedMeta, idem: Idempotency) -> IngestResult:
    raw = await request.body()
    try:
        events = read_csv(raw.decode("utf-8"), MAX_BATCH)
    except UnicodeDecodeError:
        raise refuse(422, "csv_encoding", "Bad CSV", "send the CSV as UTF-8") from None
    except CsvError as e:
        raise refuse(422, e.rule, "Bad CSV", e.detail) from None
    # Rows are read into the DCSA shape but are not DCSA's: no T&T schema check for them.
    return await run_in_threadpool(_ingest, svc, rm, events, meta, idem, False)
