"""The booking-order review rules of domain.md §2.1.

Every rule in ``DATA_RULES`` and ``APPROVAL_RULES`` has failing orders (asserting the rule name
and the field the desk must fix) and passing orders. Each failing order breaks exactly one rule,
so a rule that fires for the wrong reason, or on the wrong field, shows up here.
"""

from __future__ import annotations

import pytest

from factories import NOW, order
from shipflow.events.shipment.rules import (
    APPROVAL_RULES,
    DATA_RULES,
    data_violations,
    review_violations,
)

REEFER = {"size_type": "45R1", "count": 1}
REEFER_OK = {**REEFER, "reefer": {"temperature_c": "-18", "ventilation_cbm_h": "0"},
             "genset_required": False}
OFR_1850 = {"code": "OFR", "unit_price": {"amount": "1850", "currency": "USD"},
            "size_type": "45G1"}
THC_1100 = {"code": "THC", "basis": "PER_CONTAINER",
            "unit_price": {"amount": "1100", "currency": "CNY"}}
APPROVAL = {"by": "Route manager Zhao", "capacity": "route manager", "at": NOW.isoformat()}


def twenties(count: int = 1, **line) -> list[dict]:
    return [{"size_type": "22G1", "count": count, **line}]


def pairs(violations) -> list[tuple[str, str | None]]:
    return [(v.rule, v.field) for v in violations]


def test_the_factory_order_is_valid():
    assert data_violations(order()) == []
    assert review_violations(order()) == []


DATA_FAILING = [
    ("sailing_date_required", "requested_sailing_date", {"requested_sailing_date": None}),
    ("destination_required", "pod", {"pod": None}),
    ("commodity_bilingual_required", "commodity_cn", {"commodity_cn": None}),
    ("commodity_bilingual_required", "commodity_en", {"commodity_en": ""}),
    ("nominated_carrier_flag_required", "carrier_nominated", {"carrier_nominated": None}),
    ("equipment_required", "equipment", {"equipment": []}),
    # 3x40HC hold 228.9 m³, not 250
    ("capacity_exceeded", "equipment",
     {"equipment": [{"size_type": "45G1", "count": 3}], "volume_cbm": "250"}),
    # one 40HC carries 26.5 t at most
    ("capacity_exceeded", "equipment", {"gross_weight_kg": "27000"}),
    # a 20GP at 25 t: within its 28.2 t payload, but over 22 t without an overweight request
    ("overweight_20ft", "equipment",
     {"equipment": twenties(), "gross_weight_kg": "25000", "volume_cbm": "20"}),
    # 2x20GP at 30 t is 15 t a box, but stone is heavy cargo whatever the weight
    ("overweight_20ft", "equipment",
     {"equipment": twenties(2), "gross_weight_kg": "30000", "volume_cbm": "30",
      "commodity_en": "Granite stone slabs", "commodity_cn": "石材"}),
    ("overweight_20ft", "equipment",
     {"equipment": twenties(), "gross_weight_kg": "9000", "volume_cbm": "10",
      "commodity_en": "Slabs", "commodity_cn": "石材"}),
    ("overweight_20ft", "equipment",
     {"equipment": twenties(), "gross_weight_kg": "18000", "volume_cbm": "25",
      "commodity_en": "Canned tomatoes", "commodity_cn": "番茄罐头"}),
    # one 20' line requested overweight, the other not
    ("overweight_20ft", "equipment",
     {"equipment": [*twenties(overweight_requested=True), *twenties()],
      "gross_weight_kg": "50000", "volume_cbm": "40"}),
    ("reefer_settings_required", "equipment.0.reefer.temperature_c", {"equipment": [REEFER]}),
    ("reefer_settings_required", "equipment.0.reefer.ventilation_cbm_h",
     {"equipment": [{**REEFER, "reefer": {"temperature_c": "-18"}, "genset_required": False}]}),
    ("reefer_settings_required", "equipment.0.genset_required",
     {"equipment": [{**REEFER_OK, "genset_required": None}]}),
    ("reefer_settings_required", "equipment.1.reefer.temperature_c",
     {"equipment": [REEFER_OK, {"size_type": "22R1", "count": 1}], "volume_cbm": "80"}),
    ("payment_term_required", "freight_payment_term", {"freight_payment_term": None}),
    ("payment_term_required", "payable_at", {"freight_payment_term": "ELSEWHERE"}),
    ("us_routing_required", "us_routing", {"us_routing": None}),
    # Vancouver, then by rail to Chicago: still a US lane
    ("us_routing_required", "us_routing",
     {"pod": "CAVAN", "place_of_delivery": "USCHI", "us_routing": None}),
    ("terminal_required", "pod_terminal",
     {"pod": "PHMNL", "place_of_delivery": "PHMNL", "us_routing": None}),
    ("terminal_required", "pod_terminal",
     {"pod": "PHMNL", "place_of_delivery": "PHMNL", "us_routing": None, "pod_terminal": "EAST"}),
    ("terminal_required", "pod_terminal",
     {"pod": "AEDXB", "place_of_delivery": "AEDXB", "us_routing": None}),
    ("terminal_required", "pol_terminal", {"pol": "MYPKG"}),
    ("terminal_required", "pol_terminal", {"pol": "VNSGN", "pol_terminal": "CAT LAI"}),
    ("stuffing_details_required", "stuffing", {"stuffing": None}),
    ("stuffing_details_required", "stuffing",
     {"stuffing": {"method": "DRAYAGE", "pickup_at": NOW.isoformat(),
                   "pickup_address": "1 Factory Rd, Kunshan"}}),
    ("stuffing_details_required", "stuffing",
     {"stuffing": {"method": "CY", "expected_delivery_at": NOW.isoformat()}}),
    ("settlement_party_required", "settlement_third_party", {"settlement_party": "THIRD_PARTY"}),
]

DATA_PASSING = [
    ("sailing_date_required", {"requested_sailing_date": "2026-12-20"}),
    ("destination_required", {"pod": "USLGB"}),
    ("commodity_bilingual_required", {"commodity_en": "Oak dining chairs",
                                      "commodity_cn": "橡木餐椅"}),
    ("nominated_carrier_flag_required", {"carrier_nominated": True}),
    ("equipment_required", {"equipment": [{"size_type": "42G1", "count": 1}]}),
    ("capacity_exceeded", {"equipment": [{"size_type": "45G1", "count": 3}],
                           "volume_cbm": "220"}),
    ("capacity_exceeded", {"load_type": "LCL", "equipment": [], "volume_cbm": "5"}),
    ("equipment_required", {"load_type": "BULK", "equipment": [], "stuffing": None}),
    ("overweight_20ft", {"equipment": twenties(overweight_requested=True),
                         "gross_weight_kg": "25000", "volume_cbm": "20"}),
    ("overweight_20ft", {"equipment": twenties(), "gross_weight_kg": "22000",
                         "volume_cbm": "20"}),
    # heavy goods in a 40' box are priced as usual
    ("overweight_20ft", {"commodity_en": "Granite stone slabs", "commodity_cn": "石材"}),
    ("overweight_20ft", {"equipment": twenties(2, overweight_requested=True),
                         "gross_weight_kg": "30000", "volume_cbm": "30",
                         "commodity_en": "Granite stone slabs", "commodity_cn": "石材"}),
    # 30 t spread over 2x20GP + 1x40HC by cubic is about 9.1 t per 20'
    ("overweight_20ft", {"equipment": [*twenties(2), {"size_type": "45G1", "count": 1}],
                         "gross_weight_kg": "30000", "volume_cbm": "100"}),
    ("reefer_settings_required", {"equipment": [REEFER_OK]}),
    ("reefer_settings_required", {"equipment": [{**REEFER_OK, "genset_required": True}]}),
    ("payment_term_required", {"freight_payment_term": "COLLECT"}),
    ("payment_term_required", {"freight_payment_term": "ELSEWHERE", "payable_at": "HKHKG"}),
    ("us_routing_required", {"us_routing": "MLB"}),
    ("us_routing_required", {"pod": "DEHAM", "place_of_delivery": "DEHAM", "us_routing": None}),
    ("terminal_required", {"pod": "PHMNL", "place_of_delivery": "PHMNL", "us_routing": None,
                           "pod_terminal": "north"}),
    ("terminal_required", {"pod": "AEDXB", "place_of_delivery": "AEDXB", "us_routing": None,
                           "pod_terminal": "Jebel Ali"}),
    ("terminal_required", {"pol": "IDJKT", "pol_terminal": " UTC2 "}),
    ("stuffing_details_required", {"stuffing": {
        "method": "DRAYAGE", "pickup_at": NOW.isoformat(),
        "pickup_address": "1 Factory Rd, Kunshan", "contact": "Mr Xu 139..."}}),
    ("stuffing_details_required", {"stuffing": {
        "method": "CY", "expected_delivery_at": NOW.isoformat(),
        "delivery_place": "Waigaoqiao CY"}}),
    ("settlement_party_required", {"settlement_party": "THIRD_PARTY",
                                   "settlement_third_party": {"name": "Acme Holdings HK"}}),
    ("settlement_party_required", {"settlement_party": "SHIPPER"}),
]


@pytest.mark.parametrize(("rule", "field", "overrides"), DATA_FAILING,
                         ids=[f"{r}-{f}" for r, f, _ in DATA_FAILING])
def test_data_rule_fails(rule, field, overrides):
    o = order(**overrides)
    assert pairs(data_violations(o)) == [(rule, field)]
    violation = DATA_RULES[rule](o)
    assert violation is not None and violation.detail


@pytest.mark.parametrize(("rule", "overrides"), DATA_PASSING,
                         ids=[r for r, _ in DATA_PASSING])
def test_data_rule_passes(rule, overrides):
    o = order(**overrides)
    assert DATA_RULES[rule](o) is None
    assert data_violations(o) == []


def test_overweight_and_heavy_commodity_messages_say_why():
    heavy = data_violations(order(equipment=twenties(2), gross_weight_kg="30000", volume_cbm="30",
                                  commodity_en="Natural stone", commodity_cn="石材"))
    assert "'stone'" in heavy[0].detail
    over = data_violations(order(equipment=twenties(), gross_weight_kg="25000", volume_cbm="20"))
    assert "25000 kg" in over[0].detail


@pytest.mark.parametrize(("commodity_en", "commodity_cn"), [
    ("Cotton textiles", "棉纺织品"),
    ("Polyester textile fabric", "涤纶面料"),
], ids=["cotton-textiles", "polyester-textile"])
def test_light_commodity_in_20ft_needs_no_overweight_request(commodity_en, commodity_cn):
    o = order(equipment=twenties(), gross_weight_kg="8000", volume_cbm="25",
              commodity_en=commodity_en, commodity_cn=commodity_cn)
    assert data_violations(o) == []


APPROVAL_FAILING = [
    ("customer_signature_required", "customer_signature_ref", {"customer_signature_ref": None}),
    ("customer_signature_required", "customer_signature_ref", {"customer_signature_ref": ""}),
    pytest.param("rate_differs_from_handover", "booked_rates",
                 {"booked_rates": [{**OFR_1850, "unit_price": {"amount": "1950",
                                                               "currency": "USD"}}, THC_1100]},
                 id="rate_differs_from_handover-ofr-price"),
    pytest.param("rate_differs_from_handover", "booked_rates", {"booked_rates": [OFR_1850]},
                 id="rate_differs_from_handover-thc-missing"),
    ("carrier_consent_required", "carrier_consent",
     {"lc_clauses": ["B/L must show L/C No. LC-2026-889"]}),
    ("carrier_consent_required", "carrier_consent", {"bl_clauses": ["SHIPPED ON DECK"]}),
    ("carrier_consent_required", "carrier_consent",
     {"carrier_certificates": ["Vessel age certificate"]}),
]

APPROVAL_PASSING = [
    ("customer_signature_required", {"customer_signature_ref": None,
                                     "route_manager_approval": APPROVAL}),
    ("rate_differs_from_handover", {"booked_rates": []}),
    pytest.param("rate_differs_from_handover", {"booked_rates": [THC_1100, OFR_1850]},
                 id="rate_differs_from_handover-same-rates"),
    pytest.param("rate_differs_from_handover",
                 {"booked_rates": [{**OFR_1850, "unit_price": {"amount": "1850.00",
                                                               "currency": "usd"}}, THC_1100]},
                 id="rate_differs_from_handover-same-amount-written-apart"),
    ("carrier_consent_required", {"lc_clauses": ["B/L must show L/C No. LC-2026-889"],
                                  "carrier_consent": {**APPROVAL, "by": "MAEU Shanghai desk"}}),
]


@pytest.mark.parametrize(("rule", "field", "overrides"), APPROVAL_FAILING)
def test_approval_rule_fails(rule, field, overrides):
    o = order(**overrides)
    # approval rules never refuse the booking: they put the review on hold
    assert data_violations(o) == []
    assert pairs(review_violations(o)) == [(rule, field)]


@pytest.mark.parametrize(("rule", "overrides"), APPROVAL_PASSING)
def test_approval_rule_passes(rule, overrides):
    o = order(**overrides)
    assert APPROVAL_RULES[rule](o) is None
    assert review_violations(o) == []


def test_unsigned_order_without_route_manager_approval_is_held():
    o = order(customer_signature_ref=None)
    [v] = review_violations(o)
    assert (v.rule, v.field) == ("customer_signature_required", "customer_signature_ref")
    assert "route manager" in v.detail


def test_review_lists_data_and_approval_violations_together():
    o = order(customer_signature_ref=None, bl_clauses=["SHIPPED ON DECK"])
    assert [v.rule for v in review_violations(o)] == ["customer_signature_required",
                                                      "carrier_consent_required"]


def test_every_rule_has_a_failing_and_a_passing_case():
    def rules_in(table, index=0):
        return {(c.values[index] if hasattr(c, "values") else c[index]) for c in table}

    assert rules_in(DATA_FAILING) == set(DATA_RULES)
    assert rules_in(APPROVAL_FAILING) == set(APPROVAL_RULES)
    assert rules_in(DATA_PASSING) == set(DATA_RULES)
    assert rules_in(APPROVAL_PASSING) == set(APPROVAL_RULES)

