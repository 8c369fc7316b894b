"""shipflow's own history as DCSA Track & Trace 2.2 events (``GET /dcsa/tnt/v2/events``).

:func:`tnt_events` is a pure function of one recorded shipment event and the shipment after
it; it returns the DCSA events that fact is, in the specification's shape (``shipmentEvent``,
``transportEvent``, ``equipmentEvent``):

- ``BookingRequested``: SHIPMENT ``RECE`` ACT of the booking request (``CBR``);
- ``CarrierConfirmed``: SHIPMENT ``CONF`` ACT (``BKG``), TRANSPORT ``DEPA`` PLN at POL (the
  ETD) and ``ARRI`` PLN at POD (the ETA);
- ``CarrierRejected``: SHIPMENT ``REJE`` ACT (``CBR``);
- ``ShippingInstructionsSubmitted``: SHIPMENT ``RECE`` ACT (``SHI``);
- ``MilestoneRecorded`` (desk, spreadsheet or feed; not a superseded one): the milestone;
- ``RolledOver``: TRANSPORT ``DEPA`` PLN (the new vessel and ETD) and ``ARRI`` PLN (the new
  ETA), ``changeRemark`` saying so (the desk's reason is its own note);
- ``BlDraftApproved``: SHIPMENT ``APPR`` ACT (``TRD``); ``BlIssued``: SHIPMENT ``ISSU`` ACT
  (``TRD``, the B/L number).

Any other event (reviews, amendments, charges, notices, ...) is no T&T event.

- ``eventID``: a feed event keeps the carrier's ``eventID``; any other is a UUID derived from
  the shipment, its version and the event's place in it (stable across rebuilds).
- ``eventCreatedDateTime`` is when **shipflow** recorded the fact (what a poller filters
  on, so an event reported late is not missed); ``eventDateTime`` is when it happened, or is
  planned / expected to, written in the local time of its port.
- ``documentReferences``: the carrier booking (``BKG``) and the B/L (``TRD``) as known then.
- What DCSA requires and a desk entry may not say: a transport call's ``transportCallID``
  (the carrier's, else ``<UN/LOCODE>-<voyage>``) and ``modeOfTransport`` (the carrier's,
  else ``VESSEL``: shipflow books sea freight); an equipment event's ``emptyIndicatorCode``
  (the carrier's, else :func:`empty_or_laden`). A vessel is named only with its IMO number
  (DCSA requires it); without one, its voyage is still given.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shipflow.events.common import VesselVoyage
from shipflow.events.ports import port_zone
from shipflow.events.shipment import events as ev
from shipflow.events.shipment.tracking import Milestone, Place

if TYPE_CHECKING:
    from shipflow.events.shipment.aggregate import Shipment

_NAMESPACE = uuid.UUID("0b6a3f55-3f43-4c1e-9d8e-3f2a0c1d5e77")

#: Equipment codes after which a container is empty, unless the carrier said otherwise:
#: the empty is released (PICK) or returned (DROP) and a stripped one is empty; a gate, a
#: load, a discharge, stuffing, an inspection or a reseal move the cargo-carrying box.
_EMPTY_AFTER = frozenset({"PICK", "DROP", "STRP"})


def empty_or_laden(code: str) -> str:
    """DCSA requires ``emptyIndicatorCode`` on an equipment event; a desk entry that did not
    say is read by its code (the export cycle: the empty is picked up, stuffed, gated in
    laden, loaded; discharged, gated out, stripped, the empty dropped off)."""
    return "EMPTY" if code in _EMPTY_AFTER else "LADEN"


def event_id(shipment_id: uuid.UUID, version: int, index: int) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{shipment_id}:{version}:{index}"))


def local_time(moment: datetime, locode: str | None) -> str:
    """An instant in the local time of a port (UTC when there is none)."""
    return moment.astimezone(port_zone(locode)).isoformat()


def tnt_events(event: Any, shipment: Shipment) -> list[dict[str, Any]]:
    """The DCSA T&T 2.2 events a recorded shipment event is (often none)."""
    made = _MAKERS.get(type(event))
    if made is None:
        return []
    created = event.timestamp.isoformat()
    refs = _document_references(shipment)
    out = []
    for i, body in enumerate(made(event, shipment)):
        base: dict[str, Any] = {"eventID": event_id(shipment.id, event.originator_version, i),
                                "eventCreatedDateTime": created}
        if body["eventType"] != "SHIPMENT" and refs:
            base["documentReferences"] = refs
        out.append({**base, **body})
    return out


def _document_references(s: Shipment) -> list[dict[str, str]]:
    refs = []
    if s.confirmation is not None:
        refs.append({"documentReferenceType": "BKG",
                     "documentReferenceValue": s.confirmation.carrier_booking_no})
    if s.bl_issue is not None:
        refs.append({"documentReferenceType": "TRD",
                     "documentReferenceValue": s.bl_issue.bl_number})
    return refs


def booking_request_reference(s: Shipment) -> str:
    """What the booking request is known by: its DCSA request reference when it came in
    through DCSA Booking, else the shipment's id."""
    intake = s.order.intake
    return intake.request_reference if intake is not None else str(s.id)


def transport_document_reference(s: Shipment) -> str | None:
    """The B/L's number once issued; until then the draft is known by the carrier booking
    number (the reference the carrier will issue the B/L against)."""
    if s.bl_issue is not None:
        return s.bl_issue.bl_number
    return s.confirmation.carrier_booking_no if s.confirmation is not None else None


def _shipment_event(code: str, doc_type: str, doc_id: str | None, at: datetime,
                    where: str | None, reason: str | None = None) -> dict[str, Any]:
    body = {"eventType": "SHIPMENT", "eventClassifierCode": "ACT",
            "shipmentEventTypeCode": code, "eventDateTime": local_time(at, where),
            "documentTypeCode": doc_type, "documentID": doc_id or "UNKNOWN"}
    if reason:
        body["reason"] = reason
    return body


def _transport_call(location: str | None, vv: VesselVoyage | None, call_id: str | None = None,
                    mode: str | None = None, facility_type: str | None = None,
                    place: Place | None = None) -> dict[str, Any]:
    voyage = vv.voyage if vv is not None and vv.voyage else None
    call: dict[str, Any] = {
        "transportCallID": call_id or f"{location or 'UNKNOWN'}-{voyage or 'NOVOYAGE'}"[:100],
        "modeOfTransport": mode or "VESSEL"}
    if location:
        call["UNLocationCode"] = location
    if voyage:
        call["exportVoyageNumber"] = voyage[:50]
    if facility_type:
        call["facilityTypeCode"] = facility_type
    if place is not None and (loc := _location(place)):
        call["location"] = loc
    if vv is not None and vv.imo:
        call["vessel"] = {"vesselIMONumber": vv.imo, "vesselName": vv.vessel[:35]}
    return call


def _location(p: Place) -> dict[str, Any]:
    loc: dict[str, Any] = {k: v for k, v in {
        "locationName": p.name, "latitude": p.latitude, "longitude": p.longitude,
        "UNLocationCode": p.un_location_code, "facilityCode": p.facility_code,
        "facilityCodeListProvider": p.facility_code_list_provider}.items() if v is not None}
    if p.address is not None:
        a = p.address
        address = {k: v for k, v in {
            "name": a.name, "street": a.street, "streetNumber": a.street_number,
            "floor": a.floor, "postCode": a.post_code, "city": a.city,
            "stateRegion": a.state_region, "country": a.country}.items() if v is not None}
        if address:
            loc["address"] = address
    return loc


def _planned(code: str, at: datetime, where: str | None, vv: VesselVoyage | None,
             remark: str | None = None) -> dict[str, Any]:
    body = {"eventType": "TRANSPORT", "eventClassifierCode": "PLN",
            "transportEventTypeCode": code, "eventDateTime": local_time(at, where),
            "transportCall": _transport_call(where, vv)}
    if remark:
        body["changeRemark"] = remark[:250]
    return body


def _milestone(e: ev.MilestoneRecorded, s: Shipment) -> list[dict[str, Any]]:
    if e.superseded:
        return []
    m: Milestone = e.milestone
    body: dict[str, Any] = {"eventType": str(m.kind), "eventClassifierCode": str(m.classifier),
                            "eventDateTime": local_time(m.event_time, m.location)}
    if m.references:
        body["references"] = [{"referenceType": str(r.type), "referenceValue": r.value}
                              for r in m.references]
    vv = m.vessel_voyage or (s.legs[m.leg] if m.leg is not None and m.leg < len(s.legs)
                             else None)
    call = _transport_call(m.location, vv, m.transport_call_id,
                           str(m.mode_of_transport) if m.mode_of_transport else None,
                           m.facility_type, m.place if str(m.kind) == "TRANSPORT" else None)
    if str(m.kind) == "TRANSPORT":
        body.update(transportEventTypeCode=m.code, transportCall=call)
        if m.delay_reason:
            body["delayReasonCode"] = m.delay_reason
        if m.change_remark:
            body["changeRemark"] = m.change_remark
    elif str(m.kind) == "EQUIPMENT":
        body.update(equipmentEventTypeCode=m.code, emptyIndicatorCode=str(
            m.empty_indicator) if m.empty_indicator else empty_or_laden(m.code))
        if m.container_no:
            body["equipmentReference"] = m.container_no
        if m.iso_equipment_code:
            body["ISOEquipmentCode"] = m.iso_equipment_code
        where = m.place or (Place(un_location_code=m.location) if m.location else None)
        if where is not None:
            body["eventLocation"] = _location(where)
        if m.transport_call_id or m.vessel_voyage is not None:
            body["transportCall"] = call
    else:
        doc = m.document
        body.update(shipmentEventTypeCode=m.code,
                    documentTypeCode=doc.type_code if doc else "BKG",
                    documentID=doc.id if doc else (s.confirmation.carrier_booking_no
                                                   if s.confirmation else str(s.id)))
        if doc is not None and doc.reason:
            body["reason"] = doc.reason
    if e.meta.external_id and _is_uuid(e.meta.external_id):
        body["eventID"] = e.meta.external_id
    return [body]


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _requested(e: ev.BookingRequested, s: Shipment) -> list[dict[str, Any]]:
    return [_shipment_event("RECE", "CBR", booking_request_reference(s), e.meta.occurred_at,
                            s.order.pol)]


def _confirmed(e: ev.CarrierConfirmed, s: Shipment) -> list[dict[str, Any]]:
    c = e.confirmation
    return [_shipment_event("CONF", "BKG", c.carrier_booking_no, e.meta.occurred_at,
                            s.order.pol),
            _planned("DEPA", c.etd, s.order.pol, c.vessel_voyage),
            *([_planned("ARRI", c.eta, s.order.pod, s.legs[-1] or c.vessel_voyage)]
              if s.order.pod else [])]


def _rejected(e: ev.CarrierRejected, s: Shipment) -> list[dict[str, Any]]:
    return [_shipment_event("REJE", "CBR", booking_request_reference(s), e.meta.occurred_at,
                            s.order.pol)]  # the reason, as the desk wrote it, stays inside


def _si(e: ev.ShippingInstructionsSubmitted, s: Shipment) -> list[dict[str, Any]]:
    booking = s.confirmation.carrier_booking_no if s.confirmation else str(s.id)
    return [_shipment_event("RECE", "SHI", f"{booking}-SI{e.revision}", e.meta.occurred_at,
                            s.order.pol)]


def _rolled(e: ev.RolledOver, s: Shipment) -> list[dict[str, Any]]:
    o = s.order
    ports = [o.pol, *o.transshipment_ports]
    at = ports[e.leg] if e.leg < len(ports) else o.pol
    # The desk's reason is its own note (projections/customer_view): the feed says what
    # happened, not why the desk thinks it did.
    remark = "rolled over to another sailing"
    return [_planned("DEPA", e.new_etd, at, e.to_vessel_voyage, remark),
            *([_planned("ARRI", e.new_eta, o.pod, s.legs[-1] or e.to_vessel_voyage, remark)]
              if o.pod else [])]


def _approved(e: ev.BlDraftApproved, s: Shipment) -> list[dict[str, Any]]:
    return [_shipment_event("APPR", "TRD", transport_document_reference(s),
                            e.meta.occurred_at, s.order.pol)]


def _issued(e: ev.BlIssued, s: Shipment) -> list[dict[str, Any]]:
    return [_shipment_event("ISSU", "TRD", e.issue.bl_number, e.meta.occurred_at,
                            e.issue.place_of_issue)]


_MAKERS: dict[type, Any] = {
    ev.BookingRequested: _requested, ev.CarrierConfirmed: _confirmed,
    ev.CarrierRejected: _rejected, ev.ShippingInstructionsSubmitted: _si,
    ev.MilestoneRecorded: _milestone, ev.RolledOver: _rolled,
    ev.BlDraftApproved: _approved, ev.BlIssued: _issued,
}
