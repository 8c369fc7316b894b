"""DCSA Track & Trace 2.2 events, as carriers and visibility providers push them, read into
shipflow milestones.

Each event is first validated against the specification's own schema
(``transportEvent`` / ``shipmentEvent`` / ``equipmentEvent`` of ``TNT_v2.2.0.yaml``, chosen
by ``eventType``), so a malformed event is refused with the spec's field path
(``dcsa_schema: transportCall.modeOfTransport: 'modeOfTransport' is required``); then it is
read into a :class:`Milestone`, whose rules (UN/LOCODE, container check digit, SMDG delay
reason) come next.

What is kept, and as what (``docs/dcsa.md`` has the table): the event type, code and
classifier; ``eventDateTime`` (when it happened, or is planned / expected to) and
``eventCreatedDateTime`` (when the carrier recorded it); the location and the transport call
(id, mode, facility type, ``location``), the vessel and voyage; ``emptyIndicatorCode``,
``delayReasonCode``, ``changeRemark`` (or the deprecated ``vesselScheduleChangeRemark``),
``references``, ``ISOEquipmentCode``; for a SHIPMENT event its document (``documentTypeCode``,
``documentID``, ``reason``). The references the event is matched by: the carrier booking
reference (``documentReferences`` BKG, or a SHIPMENT event's BKG document), the transport
document reference (TRD), the container (``equipmentReference``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError

from shipflow.events.common import UtcDatetime
from shipflow.events.shipment.tracking import Milestone
from shipflow.integrations.dcsa_schema import TNT, validator

#: Which DCSA field carries the event type code, per eventType (``eventTypeCode`` is the
#: deprecated fallback DCSA still allows).
CODE_FIELDS = {
    "SHIPMENT": "shipmentEventTypeCode",
    "TRANSPORT": "transportEventTypeCode",
    "EQUIPMENT": "equipmentEventTypeCode",
}
#: The specification's schema of each event type.
SCHEMAS = {"SHIPMENT": "shipmentEvent", "TRANSPORT": "transportEvent",
           "EQUIPMENT": "equipmentEvent"}

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


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _location(e: dict[str, Any]) -> str | None:
    for holder in (e.get("eventLocation"), e.get("transportCall")):
        if isinstance(holder, dict) and holder.get("UNLocationCode"):
            return str(holder["UNLocationCode"])
    return None


def _vessel_voyage(e: dict[str, Any]) -> dict[str, Any] | None:
    call = _dict(e.get("transportCall"))
    vessel = _dict(call.get("vessel"))
    if not vessel.get("vesselName"):
        return None
    return {"vessel": vessel["vesselName"], "imo": vessel.get("vesselIMONumber"),
            "voyage": call.get("exportVoyageNumber") or call.get("carrierVoyageNumber") or ""}


def _place(location: Any, call: dict[str, Any]) -> dict[str, Any] | None:
    """A DCSA location (and a transport call's facility) as a :class:`Place`."""
    loc = _dict(location)
    address = _dict(loc.get("address"))
    place = {
        "name": loc.get("locationName"), "latitude": loc.get("latitude"),
        "longitude": loc.get("longitude"),
        "un_location_code": loc.get("UNLocationCode") or call.get("UNLocationCode"),
        "facility_code": loc.get("facilityCode") or call.get("facilityCode"),
        "facility_code_list_provider": (loc.get("facilityCodeListProvider")
                                        or call.get("facilityCodeListProvider")),
        "address": {k: address.get(dcsa) for k, dcsa in _ADDRESS.items()} if address else None,
    }
    return place if any(v is not None for v in place.values()) else None


_ADDRESS = {"name": "name", "street": "street", "street_number": "streetNumber",
            "floor": "floor", "post_code": "postCode", "city": "city",
            "state_region": "stateRegion", "country": "country"}


def _milestone_fields(e: dict[str, Any], event_type: str) -> dict[str, Any]:
    call = _dict(e.get("transportCall"))
    where = e.get("eventLocation") if event_type == "EQUIPMENT" else call.get("location")
    document = None
    if event_type == "SHIPMENT" and e.get("documentTypeCode") and e.get("documentID"):
        document = {"type_code": e.get("documentTypeCode"), "id": e.get("documentID"),
                    "reason": e.get("reason")}
    return {
        "kind": event_type,
        "code": e.get(CODE_FIELDS[event_type]) or e.get("eventTypeCode"),
        "classifier": e.get("eventClassifierCode"),
        "event_time": e.get("eventDateTime"),
        "location": _location(e),
        "vessel_voyage": _vessel_voyage(e),
        "container_no": e.get("equipmentReference") if event_type == "EQUIPMENT" else None,
        "empty_indicator": e.get("emptyIndicatorCode"),
        "delay_reason": e.get("delayReasonCode"),
        "change_remark": e.get("changeRemark") or e.get("vesselScheduleChangeRemark"),
        "references": [{"type": r.get("referenceType"), "value": r.get("referenceValue")}
                       for r in e.get("references") or [] if isinstance(r, dict)],
        "transport_call_id": call.get("transportCallID"),
        "mode_of_transport": call.get("modeOfTransport"),
        "facility_type": call.get("facilityTypeCode"),
        "place": _place(where, call if event_type != "EQUIPMENT" else {}),
        "iso_equipment_code": e.get("ISOEquipmentCode"),
        "document": document,
        "carrier_recorded_at": e.get("eventCreatedDateTime"),
    }


def _rule(e: ValidationError) -> str:
    first = e.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    return f"{first['type']}: {where + ': ' if where else ''}{first['msg']}"


def schema_problem(e: dict[str, Any]) -> str | None:
    """The first way the event breaks the T&T 2.2 schema of its type, or None."""
    event_type = e.get("eventType")
    if event_type not in SCHEMAS:
        return (f"eventType: {event_type!r} is not one of {', '.join(SCHEMAS)}"
                if event_type is not None else "eventType: 'eventType' is required")
    problems = validator(TNT, SCHEMAS[event_type]).problems(e, limit=1)
    return str(problems[0]) if problems else None


def read_event(e: Any, validate: bool = True) -> Incoming:
    """Read one DCSA T&T event; never raises: a bad event is an :class:`Incoming` with
    ``invalid`` set, so one bad event does not reject a batch. ``validate``: check it against
    the specification's schema first (off for spreadsheet rows, which are not DCSA's)."""
    if not isinstance(e, dict):
        return Incoming(None, invalid="not_an_object: each event must be a JSON object")
    event_id = e.get("eventID")
    if validate:
        problem = schema_problem(e)
        if problem is not None:
            return Incoming(str(event_id) if event_id else None,
                            invalid=f"dcsa_schema: {problem}")
    event_type = e.get("eventType")
    if not event_id:
        return Incoming(None, invalid="event_id_required: eventID is missing")
    if event_type not in CODE_FIELDS:
        return Incoming(str(event_id), invalid=f"event_type_unknown: eventType must be one "
                        f"of {', '.join(CODE_FIELDS)}")
    try:
        milestone = Milestone.model_validate(_milestone_fields(e, event_type))
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
