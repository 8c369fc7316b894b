"""``GET /shipments/{id}/bl-draft?format=dcsa``: a draft version as a DCSA eBL 3.0
``TransportDocument`` (the mapping: :mod:`shipflow.integrations.dcsa_ebl`). The shipment is
read as it stood when that version was current (the current version: as it stands now), so
planned dates and the office's configuration are those of the version's time."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from fastapi import Request
from fastapi.responses import JSONResponse

from shipflow.api.errors import problem
from shipflow.integrations.dcsa_ebl import DcsaDocumentRefused, context_of, transport_document
from shipflow.integrations.documents_config import load_documents_config
from shipflow.projections.sla.config import load_sla_config
from shipflow.services.shipments import ShipmentService

#: The OpenAPI answer of the B/L draft endpoint: the native draft, or the DCSA document.
RESPONSES: dict[int | str, dict[str, Any]] = {200: {
    "description": "The native draft (BlDraftOut), or with format=dcsa a DCSA eBL 3.0 "
                   "TransportDocument (EBL_v3.0.4.yaml)",
    "content": {"application/json": {"schema": {"anyOf": [
        {"$ref": "#/components/schemas/BlDraftOut"},
        {"type": "object", "title": "DCSA eBL 3.0 TransportDocument"}]}}}}}


def dcsa_answer(request: Request, svc: ShipmentService, shipment_id: UUID,
                draft: dict[str, Any], current: bool, as_of: datetime | None) -> JSONResponse:
    """``draft``: one version as the API read it (version, status, document,
    event_version when it is not the current one)."""
    if as_of is not None:
        shipment = svc.get_as_of(shipment_id, as_of)
    elif current:
        shipment = svc.get(shipment_id)
    else:
        shipment = svc.get(shipment_id, version=draft["event_version"])
    settings = request.app.state.settings
    status = draft["status"] if draft["status"] != "SUPERSEDED" else "DRAFT"
    ctx = context_of(shipment, status, load_sla_config(settings),
                     load_documents_config(settings.documents_config_path))
    try:
        document = transport_document(draft["document"], ctx)
    except DcsaDocumentRefused as e:
        first = e.violations[0]
        return problem(409, first.rule, "No DCSA transport document for this version",
                       f"draft version {draft['version']}: {len(e.violations)} field(s) the "
                       f"eBL 3.0 TransportDocument needs: "
                       f"{', '.join(v.field or '?' for v in e.violations)}", request,
                       [v.model_dump() for v in e.violations])
    return JSONResponse(document, headers={"X-Draft-Version": str(draft["version"])})
