"""The B/L draft as a DCSA eBL 3.0 ``TransportDocument`` (``GET /shipments/{id}/bl-draft
?format=dcsa``), valid against ``EBL_v3.0.4.yaml``.

:func:`transport_document` takes a stored draft version (the native document of
:mod:`shipflow.events.shipment.transport_document`, already in eBL names) and the
:class:`DocumentContext` of the shipment as it stood then, and returns the DCSA document.
What the native draft does not carry comes from named places, never made up:

- ``transportDocumentReference``: the B/L number once issued; before, the carrier booking
  number; ``transportDocumentStatus``: the draft's (DRAFT, APPROVED, ISSUED);
- ``isElectronic``: false (shipflow issues paper B/Ls and sea waybills, on no eBL platform);
  ``isToOrder``: :func:`is_to_order`;
- ``receiptTypeAtOrigin``: :func:`receipt_type_at_origin` (the stuffing method);
  ``deliveryTypeAtDestination``: a DCSA booking's own, else
  :func:`delivery_type_at_destination`;
- ``termsAndConditions``, ``partyContactDetails``, ``documentParties.issuingParty``: the
  office's configuration (:mod:`.documents_config`);
- ``transports.plannedDepartureDate`` / ``plannedArrivalDate``: the ETD / ETA as local dates
  at POL / POD;
- ``utilizedTransportEquipments[].isShipperOwned``: false (shipflow books carrier boxes);
- the consignee's ``identifyingCodes``: a DCSA booking's own, else shipflow's mutually
  defined (``ZZZ``) code ``<customer>/CONSIGNEE``.

Address text is wrapped into ``displayedAddress`` lines of at most 35 characters (and kept
whole in ``addressLines``); goods description and marks lines likewise. Contacts without a
phone or an e-mail are left out (DCSA requires one). shipflow's extras (vessel IMO, VGM,
container gross weight) stay in the native draft. A document that still breaks the
specification is refused, naming each field (:class:`DcsaDocumentRefused`).
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from shipflow.events.common import Violation
from shipflow.integrations.dcsa_schema import EBL, validator
from shipflow.integrations.documents_config import OfficeDocuments

LINE = 35
MAX_DISPLAYED_LINES = 6


class DcsaDocumentRefused(Exception):
    def __init__(self, violations: list[Violation]) -> None:
        super().__init__("; ".join(f"{v.rule}: {v.detail}" for v in violations))
        self.violations = violations


@dataclass(frozen=True)
class DocumentContext:
    """What the DCSA document needs beside the native draft, as the shipment stood."""

    status: str
    office_code: str
    office: OfficeDocuments | None
    customer_id: str
    load_type: str
    stuffing_method: str | None
    planned_departure: date | None
    planned_arrival: date | None
    intake: dict[str, Any] = field(default_factory=dict)  # a DCSA booking's content


def is_to_order(consignee_name: str | None) -> bool:
    """A B/L made out "TO ORDER" (or "TO ORDER OF <bank>") is negotiable."""
    return (consignee_name or "").strip().upper().startswith(("TO ORDER", "TO THE ORDER"))


def receipt_type_at_origin(stuffing_method: str | None, load_type: str) -> str | None:
    """Drayage (拖装: we truck the box to the shipper) is store door; cargo delivered to us
    (场装) or arranged by the customer (自理) is received at the CY, or the CFS for LCL."""
    if stuffing_method is None:
        return None
    if stuffing_method == "DRAYAGE":
        return "SD"
    return "CFS" if load_type == "LCL" else "CY"


def delivery_type_at_destination(load_type: str) -> str:
    """shipflow books to the port of discharge: FCL is delivered at the CY, LCL at the CFS."""
    return "CFS" if load_type == "LCL" else "CY"


def wrap(text: str | None, width: int = LINE) -> list[str]:
    lines: list[str] = []
    for line in (text or "").splitlines():
        lines += textwrap.wrap(line.strip(), width) if line.strip() else []
    return lines


def _number(value: Any) -> int | float:
    d = Decimal(str(value))
    return int(d) if d == d.to_integral_value() else float(d)


def _measure(m: dict[str, Any] | None) -> dict[str, Any] | None:
    if not m or m.get("value") is None:
        return None
    return {"value": _number(m["value"]), "unit": m["unit"]}


def _contacts(party: dict[str, Any]) -> list[dict[str, Any]]:
    return [{k: v for k, v in c.items() if k in ("name", "email", "phone")}
            for c in party.get("partyContactDetails") or [] if c.get("email") or c.get("phone")]


def _party(p: dict[str, Any] | None) -> dict[str, Any] | None:
    if not p:
        return None
    out: dict[str, Any] = {"partyName": p["partyName"]}
    text = p.get("displayedAddress") or []
    if text:
        out["addressLines"] = text[:5]
        out["displayedAddress"] = [ln for t in text for ln in wrap(t)]
    contacts = _contacts(p)
    if contacts:
        out["partyContactDetails"] = contacts
    return out


def _consignee_codes(ctx: DocumentContext) -> list[dict[str, Any]]:
    sent = ((ctx.intake.get("documentParties") or {}).get("consignee") or {}).get(
        "identifyingCodes")
    if sent:
        return list(sent)
    return [{"codeListProvider": "ZZZ", "partyCode": f"{ctx.customer_id}/CONSIGNEE",
             "codeListName": "shipflow"}]


def _issuing_party(o: OfficeDocuments) -> dict[str, Any]:
    a = o.issuing_party_address
    address = {k: v for k, v in {
        "street": a.street, "streetNumber": a.street_number, "postCode": a.post_code,
        "city": a.city, "stateRegion": a.state_region, "countryCode": a.country_code}.items()
        if v is not None}
    return {"partyName": o.issuing_party_name, "address": address}


def _cargo_item(c: dict[str, Any]) -> dict[str, Any]:
    item: dict[str, Any] = {"equipmentReference": c["equipmentReference"],
                            "cargoGrossWeight": _measure(c.get("cargoGrossWeight")),
                            "outerPackaging": {
                                "numberOfPackages": c["outerPackaging"]["numberOfPackages"],
                                "description": c["outerPackaging"]["description"]}}
    volume = _measure(c.get("cargoGrossVolume"))
    if volume:
        item["cargoGrossVolume"] = volume
    return item


def _equipment(u: dict[str, Any]) -> dict[str, Any]:
    ute: dict[str, Any] = {"equipment": dict(u["equipment"]), "isShipperOwned": False,
                           "seals": [{"number": s["number"]} for s in u.get("seals") or []]}
    reefer = u.get("activeReeferSettings")
    if reefer:
        ute["activeReeferSettings"] = {k: _number(v) if "Setpoint" in k else v
                                       for k, v in reefer.items()}
    return ute


def _transports(native: dict[str, Any], ctx: DocumentContext) -> dict[str, Any]:
    t = native["transports"]
    out: dict[str, Any] = {k: t[k] for k in ("placeOfReceipt", "portOfLoading",
                                             "portOfDischarge", "placeOfDelivery") if t.get(k)}
    if ctx.planned_departure:
        out["plannedDepartureDate"] = ctx.planned_departure.isoformat()
    if ctx.planned_arrival:
        out["plannedArrivalDate"] = ctx.planned_arrival.isoformat()
    out["vesselVoyages"] = [{"vesselName": v["vesselName"],
                             "carrierExportVoyageNumber": v["carrierExportVoyageNumber"]}
                            for v in t.get("vesselVoyages") or []]
    return out


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


def transport_document(native: dict[str, Any], ctx: DocumentContext) -> dict[str, Any]:
    """The DCSA eBL 3.0 TransportDocument of one draft version; raises
    :class:`DcsaDocumentRefused` naming what is missing."""
    if not native.get("utilizedTransportEquipments"):
        raise DcsaDocumentRefused([Violation(
            rule="dcsa_needs_shipping_instructions", field="utilizedTransportEquipments",
            detail="a DCSA transport document is drawn from the shipping instructions "
                   "(containers, seals, weights); this draft version has none yet")])
    if ctx.office is None:
        raise DcsaDocumentRefused([Violation(
            rule="dcsa_office_not_configured", field="documentParties.issuingParty",
            detail=f"office {ctx.office_code} has no issuing party, contact and terms and "
                   "conditions in SHIPFLOW_DOCUMENTS_CONFIG_PATH (docs/dcsa.md)")])
    items = native["consignmentItems"]
    booking = items[0].get("carrierBookingReference") if items else None
    parties = native["documentParties"]
    consignee = _party(parties.get("consignee"))
    to_order = is_to_order((parties.get("consignee") or {}).get("partyName"))
    if consignee is not None:
        consignee["identifyingCodes"] = _consignee_codes(ctx)
    delivery = ctx.intake.get("deliveryTypeAtDestination") or delivery_type_at_destination(
        ctx.load_type)
    document = _drop_none({
        "transportDocumentReference": native.get("transportDocumentReference") or booking,
        "transportDocumentStatus": ctx.status,
        "transportDocumentTypeCode": native["transportDocumentTypeCode"],
        "isShippedOnBoardType": native["isShippedOnBoardType"],
        "freightPaymentTermCode": native.get("freightPaymentTermCode"),
        "isElectronic": False,
        "isToOrder": to_order,
        "numberOfOriginalsWithoutCharges": native.get("numberOfOriginalsWithoutCharges"),
        "shippedOnBoardDate": native.get("shippedOnBoardDate"),
        "issueDate": native.get("issueDate"),
        "placeOfIssue": native.get("placeOfIssue"),
        "termsAndConditions": ctx.office.terms_and_conditions,
        "receiptTypeAtOrigin": receipt_type_at_origin(ctx.stuffing_method, ctx.load_type),
        "deliveryTypeAtDestination": delivery,
        "cargoMovementTypeAtOrigin": native.get("cargoMovementTypeAtOrigin"),
        "cargoMovementTypeAtDestination": native.get("cargoMovementTypeAtDestination"),
        "carrierCode": native.get("carrierCode"),
        "carrierCodeListProvider": native.get("carrierCodeListProvider"),
        "carrierClauses": native.get("carrierClauses") or None,
        "transports": _transports(native, ctx),
        "invoicePayableAt": native.get("invoicePayableAt"),
        "partyContactDetails": [ctx.office.contact.model_dump(exclude_none=True)],
        "documentParties": _drop_none({
            "shipper": _party(parties.get("shipper")),
            "consignee": None if to_order else consignee,
            "notifyParties": [n for n in map(_party, parties.get("notifyParties") or [])
                              if n] or None,
            "issuingParty": _issuing_party(ctx.office),
        }),
        "consignmentItems": [_drop_none({
            "carrierBookingReference": i.get("carrierBookingReference"),
            "descriptionOfGoods": [ln for t in i.get("descriptionOfGoods") or []
                                   for ln in wrap(t)],
            "HSCodes": i.get("HSCodes") or None,
            "shippingMarks": [ln for t in i.get("shippingMarks") or [] for ln in wrap(t)]
            or None,
            "cargoItems": [_cargo_item(c) for c in i.get("cargoItems") or []],
        }) for i in items],
        "utilizedTransportEquipments": [_equipment(u)
                                        for u in native["utilizedTransportEquipments"]],
    })
    problems = validator(EBL, "TransportDocument").problems(document)
    if problems:
        raise DcsaDocumentRefused([Violation(rule=f"dcsa_{p.keyword}", field=p.path,
                                             detail=p.message) for p in problems])
    return document


def context_of(shipment: Any, status: str, sla: Any, docs: Any) -> DocumentContext:
    """The context of a draft version from the shipment as it stood then (``sla``: the SLA
    configuration, which names the office of a booking; ``docs``: the documents one)."""
    from shipflow.events.ports import local_date

    o = shipment.order
    office_code = sla.office_code(o.office, o.pol)
    etd, eta = shipment.etd, shipment.eta
    return DocumentContext(
        status=status, office_code=office_code, office=docs.office(office_code),
        customer_id=o.customer_id, load_type=str(o.load_type),
        stuffing_method=str(o.stuffing.method) if o.stuffing is not None else None,
        planned_departure=local_date(etd, o.pol) if etd else None,
        planned_arrival=local_date(eta, o.pod) if eta and o.pod else None,
        intake=dict(o.intake.content) if o.intake is not None else {})
