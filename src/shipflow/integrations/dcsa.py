"""DCSA Track & Trace 2.2 events, as carriers and visibility providers push them, read into
shipflow milestones.

One DCSA event (``eventType`` SHIPMENT / TRANSPORT / EQUIPMENT, ``eventClassifierCode``
PLN / EST / ACT) becomes one :class:`Milestone` plus the references it can be matched by:
carrier booking reference (``documentReferences`` BKG, or a SHIPMENT event's ``documentID``
with ``documentTypeCode`` BKG), transport document reference (TRD), container
(``equipmentReference``). Field names follow the DCSA T&T 2.2 event domain
(dcsaorg/DCSA-OpenAPI ``domain/event``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError

from shipflow.events.common import UtcDatetime
from shipflow.events.shipment.tracking import Milestone

#: Which DCSA field carries the event type code, per eventType (``eventTypeCode`` is the
#: deprecated fallback DCSA still allows).
CODE_FIELDS = {
    "SHIPMENT": "shipmentEventTypeCode",
    "TRANSPORT": "transportEventTypeCode",
    "EQUIPMENT": "equipmentEventTypeCode",
}

_UTC = TypeAdapter(UtcDatetime)

#: DCSA document types we match shipments by, to our reference kinds.
DOCUMENT_KINDS = {"BKG": "booking", "TRD": "bl"}


@dataclass(frozen=True)
class Incoming:
    """A carrier event read into our terms, or the reason it cannot be."""

    event_id: str | None
    milestone: Milestone | None = None
    created_at: datetime | None = None
    references: list[tuple[str, str]] = field(default_factory=list)  # (kind, value), best first
    invalid: str | None = None


def _references(e: dict[str, Any]) -> list[tuple[str, str]]:
    refs: list[tuple[str, str]] = []
    if e.get("eventType") == "SHIPMENT" and e.get("documentTypeCode") in DOCUMENT_KINDS:
        refs.append((DOCUMENT_KINDS[e["documentTypeCode"]], str(e.get("documentID") or "")))
    for ref in e.get("documentReferences") or []:
        if isinstance(ref, dict) and ref.get("documentReferenceType") in DOCUMENT_KINDS:
            refs.append((DOCUMENT_KINDS[ref["documentReferenceType"]],
                         str(ref.get("documentReferenceValue") or "")))
    if e.get("equipmentReference"):
        refs.append(("container", str(e["equipmentReference"])))
    return [(kind, value.strip().upper()) for kind, value in refs if value.strip()]


def _location(e: dict[str, Any]) -> str | None:
    for holder in (e.get("eventLocation"), e.get("transportCall")):
        if isinstance(holder, dict) and holder.get("UNLocationCode"):
            return str(holder["UNLocationCode"])
    return None


def _vessel_voyage(e: dict[str, Any]) -> dict[str, Any] | None:
    call = e.get("transportCall")
    if not isinstance(call, dict) or not isinstance(call.get("vessel"), dict):
        return None
    name = call["vessel"].get("vesselName")
    if not name:
        return None
    return {"vessel": name, "imo": call["vessel"].get("vesselIMONumber"),
            "voyage": call.get("exportVoyageNumber") or call.get("carrierVoyageNumber") or ""}


def _rule(e: ValidationError) -> str:
    first = e.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    return f"{first['type']}: {where + ': ' if where else ''}{first['msg']}"


def read_event(e: Any) -> Incoming:
    """Read one DCSA T&T event; never raises: a bad event is an :class:`Incoming` with
    ``invalid`` set, so one bad event does not reject a batch."""
    if not isinstance(e, dict):
        return Incoming(None, invalid="not_an_object: each event must be a JSON object")
    event_id = e.get("eventID")
    event_type = e.get("eventType")
    if not event_id:
        return Incoming(None, invalid="event_id_required: eventID is missing")
    if event_type not in CODE_FIELDS:
        return Incoming(str(event_id), invalid=f"event_type_unknown: eventType must be one "
                        f"of {', '.join(CODE_FIELDS)}")
    try:
        milestone = Milestone.model_validate({
            "kind": event_type,
            "code": e.get(CODE_FIELDS[event_type]) or e.get("eventTypeCode"),
            "classifier": e.get("eventClassifierCode"),
            "event_time": e.get("eventDateTime"),
            "location": _location(e),
            "vessel_voyage": _vessel_voyage(e),
            "container_no": e.get("equipmentReference") if event_type == "EQUIPMENT" else None,
        })
    except ValidationError as err:
        return Incoming(str(event_id), invalid=_rule(err))
    try:
        created = _UTC.validate_python(e.get("eventCreatedDateTime"))
    except ValidationError as err:
        return Incoming(str(event_id), invalid=f"{err.errors()[0]['type']}: "
                        f"eventCreatedDateTime: {err.errors()[0]['msg']}")
    references = _references(e)
    if not references:
        return Incoming(str(event_id), invalid="reference_required: no booking, transport "
                        "document or equipment reference to match a shipment by")
    return Incoming(str(event_id), milestone, created, references)
