"""The B/L (transport document) a shipment's state implies, in DCSA eBL 3.0 field names.

:func:`assemble` is a pure function of the Shipment aggregate: the booking order as amended,
the carrier confirmation, the shipping instructions, the vessel legs after rollovers and the
issued B/L. It returns a fresh JSON-able dict (strings, ints, bools, None, lists, dicts) that
shares nothing with the aggregate, so a view may keep it while the aggregate moves on.

Field names follow the DCSA eBL 3.0 ``TransportDocument`` schema (dcsaorg/DCSA-OpenAPI
``ebl/v3/EBL_v3.0.0.yaml``; the same model in dcsaorg/Conformance-Gateway
``standards/ebl/v300/model``):

- top level: ``transportDocumentReference``, ``transportDocumentTypeCode`` (BOL/SWB),
  ``isShippedOnBoardType``, ``freightPaymentTermCode`` (PRE/COL),
  ``numberOfOriginalsWithoutCharges``, ``shippedOnBoardDate``, ``issueDate``,
  ``placeOfIssue``, ``cargoMovementTypeAtOrigin`` / ``cargoMovementTypeAtDestination``,
  ``carrierCode``, ``carrierCodeListProvider``, ``carrierClauses``, ``invoicePayableAt``,
  ``documentParties``, ``transports``, ``consignmentItems``, ``utilizedTransportEquipments``;
- ``documentParties``: ``shipper``, ``consignee``, ``notifyParties``; a party is
  ``partyName``, ``displayedAddress`` (address lines) and ``partyContactDetails``
  (``name``, ``email``, ``phone``);
- ``transports``: ``placeOfReceipt``, ``portOfLoading``, ``portOfDischarge``,
  ``placeOfDelivery`` (each ``{"UNLocationCode": ...}``) and ``vesselVoyages``
  (``vesselName``, ``carrierExportVoyageNumber``);
- ``consignmentItems``: ``carrierBookingReference``, ``descriptionOfGoods``, ``HSCodes``,
  ``shippingMarks``, ``cargoItems`` (``equipmentReference``, ``cargoGrossWeight``,
  ``cargoGrossVolume``, ``outerPackaging`` with ``numberOfPackages`` and ``description``);
- ``utilizedTransportEquipments``: ``equipment`` (``equipmentReference``,
  ``ISOEquipmentCode``), ``seals`` (``number``), ``activeReeferSettings``
  (``temperatureSetpoint``, ``temperatureUnit``, ``airExchangeSetpoint``,
  ``airExchangeUnit``, ``humiditySetpoint``).

Not DCSA eBL 3.0 names, and said so: ``vesselIMONumber`` on a vessel voyage (the DCSA
Booking / Arrival Notice name; eBL 3.0 has no IMO there), and on each utilized equipment
``cargoGrossWeight`` (the eBL 2.0 name; 3.0 dropped calculated weights there) and
``verifiedGrossMass`` (``value``, ``unit``, ``method``: SOLAS VGM, no eBL field).

Choices where our data is thinner than DCSA's:

- Party addresses are free text, so they go to ``displayedAddress`` (one line per line of
  text), not to the structured ``address``; a party's tax id has no type or country, so it is
  left out.
- ``freightPaymentTermCode`` is PRE or COL; freight payable elsewhere (a third place) has no
  DCSA code, so it is null and ``invoicePayableAt`` names the place. ``invoicePayableAt`` is
  the booking's ``payable_at`` when given, else POL for prepaid and POD for collect.
- Before shipping instructions there are no containers: the one cargo item carries the
  booking's packages, weight and volume with ``equipmentReference`` null, and
  ``utilizedTransportEquipments`` is empty. From the SI on, each container is a cargo item.
- The transport document type is BOL until a B/L is issued as a sea waybill (SWB); the
  number of originals comes from the SI, then from the issued B/L.
- ``shippedOnBoardDate``, ``issueDate``, ``placeOfIssue`` and ``transportDocumentReference``
  (the B/L number) are null until the B/L is issued: milestones never change a draft.
- Planned dates and the document status are not part of the document (a new ETD or an
  approval is not a B/L change); the view carries the status.

Decimals are strings without trailing zeros (``"14500"``, ``"18400.5"``); dates are ISO.
"""

from __future__ import annotations

import hashlib
import json
import re
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any

from shipflow.events.common import Party, VesselVoyage
from shipflow.events.shipment import events as ev
from shipflow.events.shipment.booking import BookingOrder, EquipmentLine
from shipflow.events.shipment.documents import ContainerInstruction

if TYPE_CHECKING:
    from shipflow.events.shipment.aggregate import Shipment

_SCAC = re.compile(r"^[A-Z]{4}$")
_FREIGHT_TERM = {"PREPAID": "PRE", "COLLECT": "COL"}
_MOVEMENT = {"FCL": "FCL", "LCL": "LCL"}


#: The events after which :func:`assemble` can read differently; after any other event the
#: document is unchanged (a test folds every event type to hold this list to account).
CHANGES_DOCUMENT = frozenset({
    ev.BookingRequested, ev.AmendmentApproved, ev.CarrierConfirmed,
    ev.ShippingInstructionsSubmitted, ev.RolledOver, ev.BlDraftApproved, ev.BlIssued})


def assemble(shipment: Shipment) -> dict[str, Any]:
    """The transport document as the shipment's current state implies it (pure)."""
    o: BookingOrder = shipment.order
    conf = shipment.confirmation
    si = shipment.shipping_instructions
    issue = shipment.bl_issue
    term = _code(o.freight_payment_term)
    carrier = conf.carrier if conf is not None else o.carrier
    originals = (issue.number_of_originals if issue is not None
                 else si.number_of_originals if si is not None else None)
    return {
        "transportDocumentReference": issue.bl_number if issue is not None else None,
        "transportDocumentTypeCode": _code(issue.document_type) if issue is not None else "BOL",
        "isShippedOnBoardType": True,
        "freightPaymentTermCode": _FREIGHT_TERM.get(term) if term else None,
        "numberOfOriginalsWithoutCharges": originals,
        "shippedOnBoardDate": _iso(issue.shipped_on_board_date) if issue is not None else None,
        "issueDate": _iso(issue.issue_date) if issue is not None else None,
        "placeOfIssue": _location(issue.place_of_issue) if issue is not None else None,
        "cargoMovementTypeAtOrigin": _MOVEMENT.get(_code(o.load_type) or ""),
        "cargoMovementTypeAtDestination": _MOVEMENT.get(_code(o.load_type) or ""),
        "carrierCode": carrier,
        "carrierCodeListProvider": "NMFTA" if carrier and _SCAC.match(carrier) else None,
        "carrierClauses": list(o.bl_clauses),
        "invoicePayableAt": _location(_payable_at(o, term)),
        "documentParties": {
            "shipper": _party(o.shipper),
            "consignee": _party(o.consignee),
            "notifyParties": [_party(o.notify_party)] if o.notify_party is not None else [],
        },
        "transports": {
            "placeOfReceipt": _location(o.place_of_receipt),
            "portOfLoading": _location(o.pol),
            "portOfDischarge": _location(o.pod),
            "placeOfDelivery": _location(o.place_of_delivery),
            "vesselVoyages": [_vessel_voyage(v) for v in shipment.legs if v is not None],
        },
        "consignmentItems": [{
            "carrierBookingReference": conf.carrier_booking_no if conf is not None else None,
            "descriptionOfGoods": _lines(si.description_of_goods if si is not None
                                         else o.commodity_en),
            "HSCodes": [o.hs_code] if o.hs_code else [],
            "shippingMarks": _lines(si.marks_and_numbers) if si is not None else [],
            "cargoItems": ([_cargo_item(c) for c in si.containers] if si is not None
                           else [_booked_cargo(o)]),
        }],
        "utilizedTransportEquipments": ([_equipment(c, o) for c in si.containers]
                                        if si is not None else []),
    }


# --- parts ---------------------------------------------------------------------------------


def _party(p: Party) -> dict[str, Any]:
    party: dict[str, Any] = {"partyName": p.name}
    if p.address:
        party["displayedAddress"] = _lines(p.address)
    if p.contact or p.email or p.phone:
        contact = {"name": p.contact or p.name}
        if p.email:
            contact["email"] = p.email
        if p.phone:
            contact["phone"] = p.phone
        party["partyContactDetails"] = [contact]
    return party


def _vessel_voyage(v: VesselVoyage) -> dict[str, Any]:
    return {"vesselName": v.vessel, "carrierExportVoyageNumber": v.voyage or None,
            "vesselIMONumber": v.imo}


def _booked_cargo(o: BookingOrder) -> dict[str, Any]:
    return {
        "equipmentReference": None,
        "cargoGrossWeight": _weight(o.gross_weight_kg),
        "cargoGrossVolume": _volume(o.volume_cbm),
        "outerPackaging": {"numberOfPackages": o.packages, "description": o.package_type},
    }


def _cargo_item(c: ContainerInstruction) -> dict[str, Any]:
    return {
        "equipmentReference": c.container_no,
        "cargoGrossWeight": _weight(c.cargo_weight_kg),
        "cargoGrossVolume": _volume(c.volume_cbm),
        "outerPackaging": {"numberOfPackages": c.packages, "description": c.package_type},
    }


def _equipment(c: ContainerInstruction, o: BookingOrder) -> dict[str, Any]:
    ute: dict[str, Any] = {
        "equipment": {"equipmentReference": c.container_no, "ISOEquipmentCode": c.size_type},
        "seals": [{"number": s} for s in c.seals],
        "cargoGrossWeight": _weight(c.cargo_weight_kg),
        "verifiedGrossMass": ({"value": _dec(c.vgm_kg), "unit": "KGM", "method": c.vgm_method}
                              if c.vgm_kg is not None else None),
    }
    reefer = _reefer_settings(c.size_type, o.equipment)
    if reefer:
        ute["activeReeferSettings"] = reefer
    return ute


def _reefer_settings(size_type: str, lines: list[EquipmentLine]) -> dict[str, Any] | None:
    line = next((e for e in lines if e.size_type == size_type and e.reefer is not None), None)
    if line is None or line.reefer is None:
        return None
    r = line.reefer
    settings: dict[str, Any] = {}
    if r.temperature_c is not None:
        settings.update(temperatureSetpoint=_dec(r.temperature_c), temperatureUnit="CEL")
    if r.ventilation_cbm_h is not None:
        settings.update(airExchangeSetpoint=_dec(r.ventilation_cbm_h), airExchangeUnit="MQH")
    if r.humidity_pct is not None:
        settings["humiditySetpoint"] = _dec(r.humidity_pct)
    return settings or None


def _payable_at(o: BookingOrder, term: str | None) -> str | None:
    if o.payable_at:
        return o.payable_at
    if term == "PREPAID":
        return o.pol
    if term == "COLLECT":
        return o.pod
    return None


# --- scalars -------------------------------------------------------------------------------


def _location(code: str | None) -> dict[str, str] | None:
    return {"UNLocationCode": code} if code else None


def _weight(kg: Decimal | None) -> dict[str, str | None] | None:
    return {"value": _dec(kg), "unit": "KGM"} if kg is not None else None


def _volume(cbm: Decimal | None) -> dict[str, str | None] | None:
    return {"value": _dec(cbm), "unit": "MTQ"} if cbm is not None else None


def _dec(value: Decimal | None) -> str | None:
    """A decimal as a plain string without exponent or trailing zeros: 14500.000 → "14500"."""
    if value is None:
        return None
    d = value if isinstance(value, Decimal) else Decimal(str(value))
    return format(d.normalize(), "f")


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _code(value: Any) -> str | None:
    if value is None:
        return None
    return str(value.value) if isinstance(value, Enum) else str(value)


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def fingerprint(document: dict[str, Any]) -> str:
    """A short, stable digest of a document: what an approval is an approval *of*."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]
