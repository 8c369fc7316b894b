"""The booking-order review rules of domain.md §2.1, one named pure function each.

Two kinds:

* **data rules** say the order itself is wrong or incomplete for booking (no terminal for
  Manila, a 20' box at 25 t without an overweight request). A booking request or amendment
  that breaks one is refused, naming the rule: the sender fixes the data.
* **approval rules** need a person's yes that the data cannot give (the customer's
  signature or the route manager's approval, sales confirming a rate that differs from the
  hand-over, the carrier's consent to special clauses). They put a review *on hold* until
  the data is completed or someone's confirmation is recorded.

Each rule returns ``None`` when the order passes, else a :class:`Violation`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from decimal import Decimal

from shipflow.events.common import Violation
from shipflow.events.shipment.booking import (
    BookingOrder,
    LoadType,
    PaymentTerm,
    SettlementParty,
    StuffingMethod,
)
from shipflow.events.shipment.documents import ShippingInstructions

Rule = Callable[[BookingOrder], Violation | None]

DATA_RULES: dict[str, Rule] = {}
APPROVAL_RULES: dict[str, Rule] = {}


def data_rule(fn: Rule) -> Rule:
    DATA_RULES[fn.__name__] = fn
    return fn


def approval_rule(fn: Rule) -> Rule:
    APPROVAL_RULES[fn.__name__] = fn
    return fn


def _v(rule: Rule, detail: str, field: str | None = None) -> Violation:
    return Violation(rule=rule.__name__, detail=detail, field=field)


OVERWEIGHT_20FT_KG = Decimal("22000")
#: Whole English words (so "textiles" is not "tiles") and Chinese terms for dense cargo.
HEAVY_COMMODITY = re.compile(
    r"\b(stones?|granite|marble|tiles?|canned|ceramic tiles?|slabs?)\b"
    r"|石材|石板|大理石|花岗岩|罐头|瓷砖", re.IGNORECASE)

#: Ports with several terminals: the terminal must be named before booking.
MULTI_TERMINAL_PORTS: dict[str, tuple[str, ...]] = {
    "PHMNL": ("NORTH", "SOUTH"),  # Manila
    "MYPKG": ("NORTH", "WEST"),  # Port Kelang
    "IDJKT": ("UTC1", "UTC2", "UTC3"),  # Jakarta
    "VNSGN": ("NEW", "OLD"),  # Ho Chi Minh
    "TRIST": ("KUMPORT", "HAYDARPASA"),  # Istanbul
    "AEDXB": ("PORT RASHID", "JEBEL ALI"),  # Dubai
}


# --- data rules ----------------------------------------------------------------------------


@data_rule
def sailing_date_required(o: BookingOrder) -> Violation | None:
    if o.requested_sailing_date is None:
        return _v(sailing_date_required, "the requested sailing date is missing",
                  "requested_sailing_date")
    return None


@data_rule
def destination_required(o: BookingOrder) -> Violation | None:
    if o.pod is None:
        return _v(destination_required, "the port of discharge is missing", "pod")
    return None


@data_rule
def commodity_bilingual_required(o: BookingOrder) -> Violation | None:
    missing = [f for f in ("commodity_cn", "commodity_en") if not getattr(o, f)]
    if missing:
        return _v(commodity_bilingual_required,
                  "the commodity must be described in Chinese and in English", missing[0])
    return None


@data_rule
def nominated_carrier_flag_required(o: BookingOrder) -> Violation | None:
    if o.carrier_nominated is None:
        return _v(nominated_carrier_flag_required,
                  "say whether the carrier is nominated by the customer", "carrier_nominated")
    return None


@data_rule
def equipment_required(o: BookingOrder) -> Violation | None:
    if o.load_type is LoadType.FCL and not o.equipment:
        return _v(equipment_required, "an FCL booking needs at least one equipment line",
                  "equipment")
    return None


@data_rule
def capacity_exceeded(o: BookingOrder) -> Violation | None:
    if o.load_type is not LoadType.FCL or not o.equipment:
        return None
    cubic = sum(line.spec.cubic_m3 * line.count for line in o.equipment)
    payload = sum(line.spec.max_payload_kg * line.count for line in o.equipment)
    if o.volume_cbm > cubic:
        return _v(capacity_exceeded,
                  f"{o.volume_cbm} m³ of cargo does not fit in the equipment ({cubic} m³)",
                  "equipment")
    if o.gross_weight_kg > payload:
        return _v(capacity_exceeded,
                  f"{o.gross_weight_kg} kg exceeds the equipment's payload ({payload} kg)",
                  "equipment")
    return None


def weight_per_container_kg(o: BookingOrder, length_ft: int) -> Decimal:
    """Cargo weight per box of a given length, assuming cargo fills boxes by cubic capacity."""
    total_cubic = sum(line.spec.cubic_m3 * line.count for line in o.equipment)
    share = [line.spec.cubic_m3 for line in o.equipment if line.spec.length_ft == length_ft]
    if not share or total_cubic == 0:
        return Decimal(0)
    return (o.gross_weight_kg * share[0] / total_cubic).quantize(Decimal("1"))


@data_rule
def overweight_20ft(o: BookingOrder) -> Violation | None:
    twenties = [line for line in o.equipment if line.spec.length_ft == 20]
    if not twenties or all(line.overweight_requested for line in twenties):
        return None
    per_box = weight_per_container_kg(o, 20)
    commodity = f"{o.commodity_en or ''} {o.commodity_cn or ''}".lower()
    found = HEAVY_COMMODITY.search(commodity)
    heavy = found.group(0) if found else None
    if per_box > OVERWEIGHT_20FT_KG:
        return _v(overweight_20ft, f"about {per_box} kg per 20' container is over 22 t: "
                  "request overweight containers", "equipment")
    if heavy:
        return _v(overweight_20ft, f"heavy commodity ('{heavy}') in 20' containers: "
                  "request overweight containers", "equipment")
    return None


@data_rule
def reefer_settings_required(o: BookingOrder) -> Violation | None:
    for i, line in enumerate(o.equipment):
        if not line.spec.reefer:
            continue
        r = line.reefer
        if r is None or r.temperature_c is None:
            return _v(reefer_settings_required, f"reefer {line.size_type} needs a temperature",
                      f"equipment.{i}.reefer.temperature_c")
        if r.ventilation_cbm_h is None:
            return _v(reefer_settings_required, f"reefer {line.size_type} needs a ventilation "
                      "setting", f"equipment.{i}.reefer.ventilation_cbm_h")
        if line.genset_required is None:
            return _v(reefer_settings_required, f"say whether reefer {line.size_type} needs a "
                      "genset", f"equipment.{i}.genset_required")
    return None


@data_rule
def payment_term_required(o: BookingOrder) -> Violation | None:
    if o.freight_payment_term is None:
        return _v(payment_term_required, "state the freight payment term "
                  "(PREPAID, COLLECT or ELSEWHERE)", "freight_payment_term")
    if o.freight_payment_term is PaymentTerm.ELSEWHERE and o.payable_at is None:
        return _v(payment_term_required, "freight payable elsewhere needs the place it is "
                  "payable at", "payable_at")
    return None


@data_rule
def us_routing_required(o: BookingOrder) -> Violation | None:
    us = any(code and code.startswith("US") for code in (o.pod, o.place_of_delivery))
    if us and o.us_routing is None:
        return _v(us_routing_required, "US lanes must state routing ALL_WATER or MLB",
                  "us_routing")
    return None


@data_rule
def terminal_required(o: BookingOrder) -> Violation | None:
    for port_field, terminal_field in (("pod", "pod_terminal"), ("pol", "pol_terminal")):
        port = getattr(o, port_field)
        terminals = MULTI_TERMINAL_PORTS.get(port or "")
        if not terminals:
            continue
        named = (getattr(o, terminal_field) or "").strip().upper()
        if named not in terminals:
            return _v(terminal_required, f"{port} has several terminals: name one of "
                      f"{', '.join(terminals)}", terminal_field)
    return None


@data_rule
def stuffing_details_required(o: BookingOrder) -> Violation | None:
    s = o.stuffing
    if o.load_type is LoadType.BULK:
        return None
    if s is None:
        return _v(stuffing_details_required, "state the stuffing method (CY, DRAYAGE or SELF)",
                  "stuffing")
    if s.method is StuffingMethod.DRAYAGE and not (s.pickup_at and s.pickup_address and s.contact):
        return _v(stuffing_details_required, "drayage needs pickup time, address and contact",
                  "stuffing")
    if s.method is StuffingMethod.CY and not (s.expected_delivery_at and s.delivery_place):
        return _v(stuffing_details_required, "CY stuffing needs the expected delivery time and "
                  "place", "stuffing")
    return None


@data_rule
def settlement_party_required(o: BookingOrder) -> Violation | None:
    if o.settlement_party is SettlementParty.THIRD_PARTY and o.settlement_third_party is None:
        return _v(settlement_party_required, "name the third party that settles",
                  "settlement_third_party")
    return None


# --- approval rules ------------------------------------------------------------------------


@approval_rule
def customer_signature_required(o: BookingOrder) -> Violation | None:
    if not o.customer_signature_ref and o.route_manager_approval is None:
        return _v(customer_signature_required, "the booking order must be signed/stamped by "
                  "the customer or approved by the route manager", "customer_signature_ref")
    return None


def _rate_key(rates: list) -> Counter:
    return Counter((r.code, r.basis, r.size_type, r.unit_price.amount, r.unit_price.currency)
                   for r in rates)


@approval_rule
def rate_differs_from_handover(o: BookingOrder) -> Violation | None:
    if not o.booked_rates:
        return None
    booked, sold = _rate_key(o.booked_rates), _rate_key(o.sold_rates)
    differing = (booked - sold) + (sold - booked)
    if differing:
        codes = sorted({key[0] for key in differing})
        return _v(rate_differs_from_handover, "rates on the booking order differ from the "
                  f"sales hand-over ({', '.join(codes)}): sales must confirm", "booked_rates")
    return None


@approval_rule
def carrier_consent_required(o: BookingOrder) -> Violation | None:
    if (o.lc_clauses or o.bl_clauses or o.carrier_certificates) and o.carrier_consent is None:
        return _v(carrier_consent_required, "L/C clauses, B/L clauses and carrier certificates "
                  "need the carrier's consent first", "carrier_consent")
    return None


# --- checks --------------------------------------------------------------------------------


def data_violations(order: BookingOrder) -> list[Violation]:
    return [v for rule in DATA_RULES.values() if (v := rule(order)) is not None]


def review_violations(order: BookingOrder) -> list[Violation]:
    """Everything a review looks at: the data rules and the approval rules."""
    return data_violations(order) + [
        v for rule in APPROVAL_RULES.values() if (v := rule(order)) is not None
    ]


# --- shipping instructions -----------------------------------------------------------------


def shipping_instructions_violation(si: ShippingInstructions) -> Violation | None:
    """The first broken rule of shipping instructions: a container listed twice
    (``duplicate_container``) or a VGM below its cargo weight (``vgm_below_cargo_weight``)."""
    seen: set[str] = set()
    for i, c in enumerate(si.containers):
        if c.container_no in seen:
            return Violation(rule="duplicate_container", detail=f"{c.container_no} is listed "
                             "twice", field=f"containers.{i}.container_no")
        seen.add(c.container_no)
        if c.vgm_kg is not None and c.vgm_kg < c.cargo_weight_kg:
            return Violation(rule="vgm_below_cargo_weight", detail=f"the VGM of "
                             f"{c.container_no} is less than its cargo weight",
                             field=f"containers.{i}.vgm_kg")
    return None
