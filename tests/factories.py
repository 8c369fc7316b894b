"""Valid domain objects for tests, with overrides: each test states only what it varies."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from shipflow.events.common import EventMeta, VesselVoyage
from shipflow.events.shipment.amendments import AmendmentRequest
from shipflow.events.shipment.booking import BookingOrder
from shipflow.events.shipment.documents import CarrierConfirmation, ShippingInstructions
from shipflow.events.shipment.tracking import Rollover

NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def meta(actor: str = "cs.wang", role: str = "cs", **kw: Any) -> EventMeta:
    return EventMeta(actor=actor, role=role, occurred_at=kw.pop("occurred_at", NOW),
                     correlation_id=kw.pop("correlation_id", "test"), **kw)


def order_data(**overrides: Any) -> dict[str, Any]:
    """A complete FCL booking CNSHA → USLAX that passes every review rule."""
    data: dict[str, Any] = {
        "customer_id": "CUST-ACME",
        "booking_party": {"name": "Acme Trading (Shanghai) Co."},
        "shipper": {"name": "Acme Trading (Shanghai) Co.", "address": "88 Century Ave"},
        "consignee": {"name": "Acme Imports LLC", "address": "1 Harbor Dr, Long Beach"},
        "notify_party": {"name": "Acme Imports LLC"},
        "sales_owner": "sales.li",
        "cs_owner": "cs.wang",
        "business_source": "DIRECT",
        "load_type": "FCL",
        "carrier": "MAEU",
        "carrier_nominated": False,
        "requested_sailing_date": "2026-12-05",
        "pol": "CNSHA",
        "pod": "USLAX",
        "place_of_delivery": "USLAX",
        "us_routing": "ALL_WATER",
        "commodity_cn": "木制家具",
        "commodity_en": "Wooden furniture",
        "hs_code": "940360",
        "packages": 120,
        "package_type": "CARTONS",
        "gross_weight_kg": "14500",
        "volume_cbm": "62",
        "equipment": [{"size_type": "45G1", "count": 1}],
        "freight_payment_term": "PREPAID",
        "incoterm": "FOB",
        "sold_rates": [
            {"code": "OFR", "unit_price": {"amount": "1850", "currency": "USD"},
             "size_type": "45G1"},
            {"code": "THC", "basis": "PER_CONTAINER",
             "unit_price": {"amount": "1100", "currency": "CNY"}},
        ],
        "free_days": {"demurrage": 7, "detention": 7},
        "po_numbers": ["PO-2026-0042"],
        "stuffing": {"method": "SELF"},
        "customer_signature_ref": "SO-STAMPED-0042",
    }
    data.update(overrides)
    return data


def order(**overrides: Any) -> BookingOrder:
    return BookingOrder.model_validate(order_data(**overrides))


def confirmation_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "carrier": "MAEU",
        "carrier_booking_no": "255123456",
        "vessel_voyage": {"vessel": "MAERSK ESSEN", "voyage": "248E"},
        "etd": (NOW + timedelta(days=15)).isoformat(),
        "eta": (NOW + timedelta(days=30)).isoformat(),
        "cutoffs": {"si": (NOW + timedelta(days=12)).isoformat(),
                    "vgm": (NOW + timedelta(days=13)).isoformat(),
                    "cy": (NOW + timedelta(days=14)).isoformat()},
        "equipment": [{"size_type": "45G1", "count": 1}],
    }
    data.update(overrides)
    return data


def confirmation(**overrides: Any) -> CarrierConfirmation:
    return CarrierConfirmation.model_validate(confirmation_data(**overrides))


def si_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "containers": [{
            "container_no": "MSKU1234565", "size_type": "45G1", "seals": ["ML123456"],
            "packages": 120, "package_type": "CARTONS", "cargo_weight_kg": "14500",
            "volume_cbm": "62", "vgm_kg": "18400", "vgm_method": "SM1"}],
        "marks_and_numbers": "ACME / LA / 1-120",
        "description_of_goods": "WOODEN FURNITURE",
        "number_of_originals": 3,
    }
    data.update(overrides)
    return data


def shipping_instructions(**overrides: Any) -> ShippingInstructions:
    return ShippingInstructions.model_validate(si_data(**overrides))


# --- commands as data, from their arguments in the order the desks say them ------------------


def amendment(changes: list[Any], customer_confirmation_ref: str, reason: str = "",
              charges: Sequence[Any] = (), notify_parties: Sequence[str] = ()
              ) -> AmendmentRequest:
    return AmendmentRequest(changes=changes, customer_confirmation_ref=customer_confirmation_ref,
                            reason=reason, charges=list(charges),
                            notify_parties=list(notify_parties))


def rollover(to: VesselVoyage, reason: str, new_etd: datetime, new_eta: datetime,
             leg: int = 0) -> Rollover:
    return Rollover(to_vessel_voyage=to, reason=reason, new_etd=new_etd, new_eta=new_eta,
                    leg=leg)
