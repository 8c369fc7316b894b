"""DCSA Booking 2.0 in: a ``CreateBooking`` (or ``UpdateBooking``) request read into
shipflow's booking order, and a booking read back as the spec's ``Booking``.

:func:`read_booking` validates the request against ``BKG_v2.0.5.yaml`` first (a refusal names
the spec's field path), then maps it (``docs/dcsa.md`` has the table). What the order has no
place for is kept verbatim on the order (``intake.content`` is the whole request) and
reported (``intake.unmapped``: the JSON paths). What shipflow needs and the request lacks is
refused, naming the DCSA field: there is no draft-order flow, so an incomplete booking is
not recorded.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from shipflow.events.common import Violation
from shipflow.events.shipment.booking import BookingIntake, BookingOrder
from shipflow.integrations.dcsa_schema import BKG, validator
from shipflow.integrations.documents_config import DocumentsConfig

STANDARD = "DCSA BKG 2.0.5"
#: A commodity described in Chinese and English ("Wooden furniture / 木制家具") gives both.
_CJK = re.compile(r"[\u4e00-\u9fff\u3000-\u303f\uff00-\uffef]+")
_KG = {"KGM": Decimal(1), "LBR": Decimal("0.45359237")}
_CBM = {"MTQ": Decimal(1), "FTQ": Decimal("0.028316846592")}
_TERMS = {"PRE": "PREPAID", "COL": "COLLECT"}
#: Fields of a CreateBooking this mapping reads; anything else is kept and reported.
MAPPED = frozenset({
    "receiptTypeAtOrigin", "deliveryTypeAtDestination", "cargoMovementTypeAtOrigin",
    "cargoMovementTypeAtDestination", "freightPaymentTermCode", "vessel",
    "carrierExportVoyageNumber", "carrierCode", "carrierCodeListProvider",
    "expectedDepartureDate", "incoTerms", "invoicePayableAt", "references",
    "documentParties.bookingAgent", "documentParties.shipper", "documentParties.consignee",
    "documentParties.other", "shipmentLocations", "requestedEquipments",
    "requestedOnCarriageModeOfTransport", "isEquipmentSubstitutionAllowed"})
#: Where a booking-order field comes from, to name it in a refusal.
DCSA_FIELD = {
    "customer_id": "documentParties.bookingAgent.identifyingCodes",
    "booking_party": "documentParties.bookingAgent", "shipper": "documentParties.shipper",
    "consignee": "documentParties.consignee", "pol": "shipmentLocations (POL)",
    "pod": "shipmentLocations (POD)", "place_of_delivery": "shipmentLocations (PDE)",
    "place_of_receipt": "shipmentLocations (PRE)", "load_type": "cargoMovementTypeAtOrigin",
    "requested_sailing_date": "expectedDepartureDate",
    "commodity_cn": "requestedEquipments.commodities.commodityType (in Chinese)",
    "commodity_en": "requestedEquipments.commodities.commodityType",
    "hs_code": "requestedEquipments.commodities.HSCodes",
    "packages": "requestedEquipments.commodities.outerPackaging.numberOfPackages",
    "gross_weight_kg": "requestedEquipments.commodities.cargoGrossWeight",
    "volume_cbm": "requestedEquipments.commodities.cargoGrossVolume",
    "equipment": "requestedEquipments", "freight_payment_term": "freightPaymentTermCode",
    "payable_at": "invoicePayableAt", "us_routing": "requestedOnCarriageModeOfTransport",
    "stuffing": "requestedEquipments.containerPositionings", "incoterm": "incoTerms",
    "pol_terminal": "shipmentLocations (POL).location.facilityName",
    "pod_terminal": "shipmentLocations (POD).location.facilityName",
}


class BookingRefused(Exception):
    def __init__(self, violations: list[Violation]) -> None:
        super().__init__("; ".join(f"{v.field}: {v.detail}" for v in violations))
        self.violations = violations


@dataclass(frozen=True)
class ReadBooking:
    order: BookingOrder
    unmapped: list[str]


def new_request_reference() -> str:
    return str(uuid.uuid4())


def dcsa_field(our_field: str | None) -> str | None:
    """The DCSA field a booking-order field (a dotted path) comes from."""
    if our_field is None:
        return None
    head = our_field.split(".")[0]
    return DCSA_FIELD.get(head, our_field)


def _address(p: dict[str, Any]) -> str | None:
    a = p.get("address") or {}
    lines = list(p.get("addressLines") or [])
    if a:
        street = " ".join(str(a[k]) for k in ("street", "streetNumber") if a.get(k))
        lines.append(", ".join(x for x in (street, a.get("floor"), a.get("POBox")) if x))
        lines.append(" ".join(str(a[k]) for k in ("postCode", "city", "stateRegion",
                                                  "countryCode") if a.get(k)))
    return "\n".join(line for line in lines if line) or None


def _party(p: dict[str, Any] | None) -> dict[str, Any] | None:
    if not p:
        return None
    contact = (p.get("partyContactDetails") or [{}])[0]
    return {"name": p["partyName"], "address": _address(p), "contact": contact.get("name"),
            "email": contact.get("email"), "phone": contact.get("phone")}


def _locations(b: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {sl.get("locationTypeCode"): sl.get("location") or {}
            for sl in b.get("shipmentLocations") or []}


def _commodities(b: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for e in b.get("requestedEquipments") or [] for c in e.get("commodities") or []]


def _sum(items: list[dict[str, Any]], key: str, units: dict[str, Decimal]) -> Decimal | None:
    values = [Decimal(str(c[key]["value"])) * units[c[key]["unit"]] for c in items if c.get(key)]
    return sum(values, Decimal(0)).quantize(Decimal("0.001")) if values else None


def _reefer(e: dict[str, Any]) -> dict[str, Any] | None:
    r = e.get("activeReeferSettings")
    if not r:
        return None
    temp = Decimal(str(r["temperatureSetpoint"]))
    if r.get("temperatureUnit") == "FAH":
        temp = ((temp - 32) * 5 / 9).quantize(Decimal("0.1"))
    return {"temperature_c": temp, "ventilation_cbm_h": r.get("airExchangeSetpoint"),
            "humidity_pct": r.get("humiditySetpoint")}


def _stuffing(b: dict[str, Any], shipper: dict[str, Any] | None) -> dict[str, Any]:
    """Store door (SD) is drayage (拖装), from the container positioning the request gives;
    a full container delivered to the CY is arranged by the customer (自理); cargo delivered
    to the CFS is stuffed there by us (场装)."""
    receipt = b.get("receiptTypeAtOrigin")
    positioning: dict[str, Any] = next((p for e in b.get("requestedEquipments") or []
                        for p in e.get("containerPositionings") or []), {})
    where = _address(positioning.get("location") or {}) or (
        (positioning.get("location") or {}).get("UNLocationCode"))
    if receipt == "SD":
        return {"method": "DRAYAGE", "pickup_at": positioning.get("dateTime"),
                "pickup_address": where, "contact": (shipper or {}).get("contact")}
    if receipt == "CFS":
        return {"method": "CY", "expected_delivery_at": positioning.get("dateTime"),
                "delivery_place": where}
    return {"method": "SELF"}


def _customer_id(b: dict[str, Any]) -> str | None:
    agent = (b.get("documentParties") or {}).get("bookingAgent") or {}
    return next((c["partyCode"] for c in agent.get("identifyingCodes") or []
                 if c.get("codeListProvider") == "ZZZ"), None)


def _us_routing(b: dict[str, Any]) -> str | None:
    mode = b.get("requestedOnCarriageModeOfTransport")
    return {"RAIL": "MLB", "VESSEL": "ALL_WATER", "BARGE": "ALL_WATER"}.get(mode or "")


def _order_data(b: dict[str, Any], customer: Any, reference: str) -> dict[str, Any]:
    parties = b.get("documentParties") or {}
    loc = _locations(b)
    commodities = _commodities(b)
    texts = [c["commodityType"] for c in commodities]
    chinese = [cn for t in texts if (cn := "".join(_CJK.findall(t)))]
    english = [en for t in texts if (en := _CJK.sub(" ", t).strip(" /|-;,"))]
    refs = b.get("references") or []
    notify = next((o["party"] for o in parties.get("other") or []
                   if o.get("partyFunction") in ("N1", "NI")), None)
    shipper = _party(parties.get("shipper"))
    vessel = b.get("vessel") or {}
    packages = [c["outerPackaging"] for c in commodities if c.get("outerPackaging")]
    return {
        "customer_id": customer.customer_id, "cs_owner": customer.cs_owner,
        "sales_owner": customer.sales_owner, "business_source": customer.business_source,
        "booking_party": _party(parties.get("bookingAgent")), "shipper": shipper,
        "consignee": _party(parties.get("consignee")), "notify_party": _party(notify),
        "load_type": b.get("cargoMovementTypeAtOrigin"),
        "carrier": b.get("carrierCode"), "carrier_nominated": bool(b.get("carrierCode")),
        "requested_sailing_date": b.get("expectedDepartureDate"),
        "planned_vessel_voyage": {"vessel": vessel["name"], "imo": vessel.get(
            "vesselIMONumber"), "voyage": b.get("carrierExportVoyageNumber") or ""}
        if vessel else None,
        "place_of_receipt": loc.get("PRE", {}).get("UNLocationCode"),
        "pol": loc.get("POL", {}).get("UNLocationCode"),
        "pol_terminal": loc.get("POL", {}).get("facilityName"),
        "pod": loc.get("POD", {}).get("UNLocationCode"),
        "pod_terminal": loc.get("POD", {}).get("facilityName"),
        "place_of_delivery": loc.get("PDE", {}).get("UNLocationCode"),
        "us_routing": _us_routing(b),
        "commodity_cn": "; ".join(chinese) or None,
        "commodity_en": "; ".join(" ".join(e.split()) for e in english) or None,
        "hs_code": next((h for c in commodities for h in c.get("HSCodes") or []), None),
        "packages": sum(p.get("numberOfPackages") or 0 for p in packages) or None,
        "package_type": next((p.get("description") or p.get("packageCode")
                              for p in packages if p.get("description") or p.get(
                                  "packageCode")), "PACKAGES"),
        "gross_weight_kg": _sum(commodities, "cargoGrossWeight", _KG),
        "volume_cbm": _sum(commodities, "cargoGrossVolume", _CBM),
        "equipment": [{"size_type": e["ISOEquipmentCode"], "count": e["units"],
                       "reefer": _reefer(e), "genset_required": (e.get(
                           "activeReeferSettings") or {}).get("isGeneratorSetRequired")}
                      for e in b.get("requestedEquipments") or []],
        "freight_payment_term": _TERMS.get(b.get("freightPaymentTermCode") or ""),
        "payable_at": (b.get("invoicePayableAt") or {}).get("UNLocationCode"),
        "incoterm": b.get("incoTerms"),
        "po_numbers": [r["value"] for r in refs if r.get("type") == "PO"] + list(
            (parties.get("shipper") or {}).get("purchaseOrderReferences") or []),
        "customer_references": [f"{r['type']}:{r['value']}" for r in refs
                                if r.get("type") != "PO"],
        "stuffing": _stuffing(b, shipper),
        # The customer's own system sent it, under the customer's key: its written order.
        "customer_signature_ref": f"DCSA booking request {reference}",
        "intake": {"standard": STANDARD, "request_reference": reference, "content": b,
                   "unmapped": unmapped_paths(b)},
    }


def unmapped_paths(b: dict[str, Any]) -> list[str]:
    found = []
    for key, value in b.items():
        if key == "documentParties" and isinstance(value, dict):
            found += [f"documentParties.{k}" for k in value if f"documentParties.{k}" not in
                      MAPPED]
        elif key not in MAPPED:
            found.append(key)
    return sorted(found)


def read_booking(b: Any, config: DocumentsConfig, reference: str,
                 schema: str = "CreateBooking") -> ReadBooking:
    """The booking order a DCSA request asks for; raises :class:`BookingRefused`."""
    problems = validator(BKG, schema).problems(b)
    if problems:
        raise BookingRefused([Violation(rule="dcsa_schema", field=p.path or None,
                                        detail=p.message) for p in problems])
    customer_id = _customer_id(b)
    if customer_id is None:
        raise BookingRefused([Violation(
            rule="dcsa_customer_code_required",
            field="documentParties.bookingAgent.identifyingCodes",
            detail="name your customer account: an identifying code with codeListProvider "
                   "ZZZ and your shipflow customer id as partyCode")])
    customer = config.booking_customer(customer_id)
    if customer is None:
        raise BookingRefused([Violation(
            rule="dcsa_customer_not_configured",
            field="documentParties.bookingAgent.identifyingCodes",
            detail=f"customer {customer_id} does not book through DCSA here (its desk owners "
                   "are not configured: booking_customers in SHIPFLOW_DOCUMENTS_CONFIG_PATH)")])
    data = _order_data(b, customer, reference)
    try:
        order = BookingOrder.model_validate(data)
    except ValidationError as e:
        raise BookingRefused([Violation(
            rule="dcsa_booking_incomplete" if err["input"] is None else err["type"],
            field=dcsa_field(".".join(str(p) for p in err["loc"])),
            detail=f"{err['msg']} (shipflow's {'.'.join(str(p) for p in err['loc'])})")
            for err in e.errors()]) from None
    assert isinstance(order.intake, BookingIntake)
    return ReadBooking(order, order.intake.unmapped)
