"""The B/L draft of a shipment: current, by version, as of a time, its versions and diffs.

The document is the customer's own, so a customer key reads it as staff do; only who caused
each version is shown as the organisation (``customer_view.bl_version``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from shipflow.api import dcsa_bl
from shipflow.api.auth import Caller
from shipflow.api.deps import ReadSide, Service, consistent, visible_shipment
from shipflow.api.errors import ERRORS, refuse
from shipflow.events.common import UtcDatetime
from shipflow.projections import bl_draft, customer_view
from shipflow.services.shipments import ShipmentService

router = APIRouter(prefix="/shipments/{shipment_id}/bl-draft", tags=["B/L drafts"],
                   responses=ERRORS, dependencies=[Depends(visible_shipment)])


class BlDraftOut(BaseModel):
    shipment_id: UUID
    version: int
    status: str  # DRAFT, APPROVED, ISSUED
    approved_version: int | None
    document: dict[str, Any]  # DCSA eBL 3.0 transport document field names
    updated_at: datetime


class BlVersionOut(BaseModel):
    version: int
    caused_by: str  # the event type that changed a B/L field
    event_version: int  # the shipment's version then
    actor: str  # for a customer key: "forwarder"
    recorded_at: datetime
    document: dict[str, Any] | None = None


class FieldDiff(BaseModel):
    path: str
    before: Any = None
    after: Any = None


class BlDiffOut(BaseModel):
    from_version: int
    to_version: int
    changes: list[FieldDiff]


def _behind_or_unknown(svc: ShipmentService, shipment_id: UUID) -> Exception:
    svc.get(shipment_id)  # raises shipment_not_found for an unknown shipment
    return refuse(503, "view_behind", "The view is behind", "the B/L draft view has not "
                  "caught up with this shipment yet; retry, or pass min_position")


@router.get("", response_model=BlDraftOut, summary="The B/L draft (current, a version, as of)",
            dependencies=[consistent("bl_drafts")], responses=dcsa_bl.RESPONSES)
def get_draft(shipment_id: UUID, rm: ReadSide, svc: Service, request: Request,
              version: Annotated[int | None, Query(ge=1)] = None,
              as_of: Annotated[UtcDatetime | None, Query(
                  description="the draft as it stood at this moment")] = None,
              format: Annotated[Literal["native", "dcsa"], Query(  # noqa: A002 - the API's word
                  description="dcsa: the DCSA eBL 3.0 TransportDocument")] = "native",
              ) -> Any:
    if version is not None and as_of is not None:
        raise refuse(400, "as_of_or_version", "Ambiguous request",
                     "ask for as_of or version, not both")
    if as_of is not None:
        view = bl_draft.as_of(svc.history(shipment_id), as_of)
        if view is None:
            raise refuse(404, "shipment_not_yet_booked", "Not found",
                         f"no booking existed at {as_of.isoformat()}")
        if format == "dcsa":
            return dcsa_bl.dcsa_answer(request, svc, shipment_id, view.as_current(), False,
                                       as_of)
        return BlDraftOut(**view.as_current())
    with rm.engine.connect() as conn:
        tables = bl_draft.active(conn)
        draft = bl_draft.current(conn, tables, shipment_id)
        if draft is None:
            raise _behind_or_unknown(svc, shipment_id)
        if version is not None:
            found = bl_draft.version(conn, tables, shipment_id, version)
            if found is None:
                raise refuse(404, "bl_draft_version_not_found", "No such version",
                             f"the draft has versions 1 to {draft['version']}")
            status = draft["status"] if version == draft["version"] else "SUPERSEDED"
            if format == "dcsa":
                return dcsa_bl.dcsa_answer(request, svc, shipment_id, {
                    **found, "status": status}, version == draft["version"], None)
            return BlDraftOut(shipment_id=shipment_id, version=version, status=status,
                              approved_version=draft["approved_version"],
                              document=found["document"], updated_at=found["recorded_at"])
    if format == "dcsa":
        return dcsa_bl.dcsa_answer(request, svc, shipment_id, draft, True, None)
    return BlDraftOut(**draft)


@router.get("/versions", response_model=list[BlVersionOut],
            summary="Every version of the draft: who and which event caused it",
            dependencies=[consistent("bl_drafts")])
def list_versions(shipment_id: UUID, rm: ReadSide, svc: Service, caller: Caller,
                  documents: bool = False) -> list[BlVersionOut]:
    with rm.engine.connect() as conn:
        rows = bl_draft.versions(conn, bl_draft.active(conn), shipment_id, documents)
    if not rows:
        raise _behind_or_unknown(svc, shipment_id)
    if caller.is_customer:
        rows = [customer_view.bl_version(r) for r in rows]
    return [BlVersionOut(**r) for r in rows]


@router.get("/diff", response_model=BlDiffOut,
            summary="Field-by-field changes between two versions (default: the last change)",
            dependencies=[consistent("bl_drafts")])
def diff_versions(shipment_id: UUID, rm: ReadSide, svc: Service,
                  from_version: Annotated[int | None, Query(alias="from", ge=1)] = None,
                  to_version: Annotated[int | None, Query(alias="to", ge=1)] = None,
                  ) -> BlDiffOut:
    with rm.engine.connect() as conn:
        tables = bl_draft.active(conn)
        draft = bl_draft.current(conn, tables, shipment_id)
        if draft is None:
            raise _behind_or_unknown(svc, shipment_id)
        to_n = to_version or draft["version"]
        from_n = from_version or max(to_n - 1, 1)
        a = bl_draft.version(conn, tables, shipment_id, from_n)
        b = bl_draft.version(conn, tables, shipment_id, to_n)
    if a is None or b is None:
        raise refuse(404, "bl_draft_version_not_found", "No such version",
                     f"the draft has versions 1 to {draft['version']}")
    return BlDiffOut(from_version=from_n, to_version=to_n,
                     changes=[FieldDiff(**d) for d in bl_draft.diff(a["document"],
                                                                    b["document"])])
