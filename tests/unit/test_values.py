"""Value objects: codes the desks type in (UN/LOCODE, ISO 4217, ISO 6346), times and money.

Each refusal carries a rule name (the pydantic error type) that the API reports per field.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from pydantic import TypeAdapter, ValidationError

from factories import NOW, order_data, si_data
from shipflow.events.common import (
    ContainerNumber,
    CurrencyCode,
    EventMeta,
    Money,
    UnLocode,
    UtcDatetime,
    VesselVoyage,
)
from shipflow.events.shipment.booking import BookingOrder
from shipflow.events.shipment.documents import ShippingInstructions
from shipflow.events.shipment.equipment import SizeTypeCode
from shipflow.events.shipment.tracking import CODES, Milestone, MilestoneKind


def error_type(adapter_type: object, value: object) -> str:
    with pytest.raises(ValidationError) as e:
        TypeAdapter(adapter_type).validate_python(value)
    return e.value.errors()[0]["type"]


# --- UN/LOCODE -----------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "normalised"), [
    ("CNSHA", "CNSHA"),
    (" cn sha ", "CNSHA"),
    ("USLAX", "USLAX"),
    ("MXZLO", "MXZLO"),
    ("DEHA2", "DEHA2"),  # digits 2-9 are allowed in the location part
])
def test_unlocode_accepted_and_normalised(raw, normalised):
    assert TypeAdapter(UnLocode).validate_python(raw) == normalised


@pytest.mark.parametrize(("raw", "rule"), [
    ("CNSH", "unlocode_format"),
    ("CNSHAX", "unlocode_format"),
    ("CN-SHA", "unlocode_format"),
    ("C1SHA", "unlocode_format"),
    ("CNSH1", "unlocode_format"),  # 0 and 1 are never used (confusable with O and I)
    ("", "unlocode_format"),
    ("Shanghai", "unlocode_format"),
    ("XXSHA", "unlocode_country"),
    ("UKLON", "unlocode_country"),  # the UK is GB in ISO 3166
])
def test_unlocode_refused(raw, rule):
    assert error_type(UnLocode, raw) == rule


def test_unlocode_error_names_the_booking_order_field():
    with pytest.raises(ValidationError) as e:
        BookingOrder.model_validate(order_data(pod="UKFXT"))
    [err] = e.value.errors()
    assert (err["type"], err["loc"]) == ("unlocode_country", ("pod",))


# --- ISO 4217 currency ---------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "normalised"), [("USD", "USD"), (" cny ", "CNY"), ("eur", "EUR")])
def test_currency_accepted_and_normalised(raw, normalised):
    assert TypeAdapter(CurrencyCode).validate_python(raw) == normalised


@pytest.mark.parametrize("raw", ["RMB", "US$", "EURO", "XYZ", ""])
def test_currency_refused(raw):
    assert error_type(CurrencyCode, raw) == "currency_code"


# --- ISO 6346 container numbers and size types ---------------------------------------------


@pytest.mark.parametrize(("raw", "normalised"), [
    ("MSKU1234565", "MSKU1234565"),
    ("msku 123456 5", "MSKU1234565"),
    ("CSQU3054383", "CSQU3054383"),  # the example of the standard
])
def test_container_number_with_valid_check_digit(raw, normalised):
    assert TypeAdapter(ContainerNumber).validate_python(raw) == normalised


@pytest.mark.parametrize("raw", ["MSKU1234566", "MSKU123456", "MSK1234565", "1234MSKU565", ""])
def test_container_number_refused(raw):
    assert error_type(ContainerNumber, raw) == "container_check_digit"


def test_container_number_error_points_at_the_container_in_shipping_instructions():
    data = si_data()
    data["containers"][0]["container_no"] = "MSKU1234566"
    with pytest.raises(ValidationError) as e:
        ShippingInstructions.model_validate(data)
    [err] = e.value.errors()
    assert (err["type"], err["loc"]) == ("container_check_digit", ("containers", 0, "container_no"))


@pytest.mark.parametrize(("raw", "normalised"), [("22G1", "22G1"), ("45r1", "45R1"),
                                                  (" l5g1 ", "L5G1")])
def test_size_type_accepted(raw, normalised):
    assert TypeAdapter(SizeTypeCode).validate_python(raw) == normalised


@pytest.mark.parametrize("raw", ["20GP", "40HC", "45G2", ""])
def test_size_type_refused(raw):
    # the desk's everyday names (20GP, 40HC) are not ISO 6346 codes
    assert error_type(SizeTypeCode, raw) == "iso6346_size_type"


# --- times ---------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [datetime(2026, 11, 22, 8, 0), "2026-11-22T08:00:00"])
def test_naive_time_refused(raw):
    assert error_type(UtcDatetime, raw) == "timezone_required"


@pytest.mark.parametrize("raw", [
    datetime(2026, 11, 22, 8, 0, tzinfo=timezone(timedelta(hours=8))),
    "2026-11-22T08:00:00+08:00",
    "2026-11-21T19:00:00-05:00",
    "2026-11-22T00:00:00Z",
])
def test_aware_time_converted_to_utc(raw):
    value = TypeAdapter(UtcDatetime).validate_python(raw)
    assert value == datetime(2026, 11, 22, 0, 0, tzinfo=UTC)
    assert value.utcoffset() == timedelta(0)
    assert value.hour == 0


def test_event_meta_refuses_a_naive_occurred_at():
    with pytest.raises(ValidationError) as e:
        EventMeta(actor="cs.wang", role="cs", occurred_at=datetime(2026, 11, 22, 8, 0),
                  correlation_id="c")
    assert e.value.errors()[0]["type"] == "timezone_required"
    assert e.value.errors()[0]["loc"] == ("occurred_at",)


# --- money ---------------------------------------------------------------------------------


def usd(amount: str) -> Money:
    return Money(amount=amount, currency="USD")


def test_money_adds_and_subtracts_exactly():
    assert usd("0.1") + usd("0.2") == usd("0.3")
    assert usd("1850.00") - usd("50.25") == usd("1799.75")
    assert (usd("10") + usd("5")).currency == "USD"


@pytest.mark.parametrize("op", [lambda a, b: a + b, lambda a, b: a - b])
def test_money_refuses_to_mix_currencies(op):
    with pytest.raises(ValueError, match="cannot combine USD and CNY"):
        op(usd("100"), Money(amount="100", currency="CNY"))


def test_money_times_quantity():
    assert usd("1850").times(Decimal("3")) == usd("5550.00")
    assert usd("12.50").times(Decimal("2.5")).amount == Decimal("31.25")


def test_money_refuses_bad_currency_and_too_many_decimals():
    with pytest.raises(ValidationError) as e:
        Money(amount="1", currency="RMB")
    assert (e.value.errors()[0]["type"], e.value.errors()[0]["loc"]) == ("currency_code",
                                                                         ("currency",))
    with pytest.raises(ValidationError) as e:
        usd("1.23456")
    assert e.value.errors()[0]["type"] == "decimal_max_places"


def test_money_is_immutable():
    m = usd("1")
    with pytest.raises(ValidationError) as e:
        m.amount = Decimal("2")
    assert e.value.errors()[0]["type"] == "frozen_instance"
    assert m.amount == Decimal("1")


def test_money_reads_like_an_invoice_line():
    assert str(Money(amount="1850.00", currency="usd")) == "1850.00 USD"


# --- vessels -------------------------------------------------------------------------------


@pytest.mark.parametrize(("vessel", "placeholder"), [("TEMP", True), ("temp", True),
                                                     ("MAERSK ESSEN", False)])
def test_temp_vessel_is_a_placeholder(vessel, placeholder):
    assert VesselVoyage(vessel=vessel, voyage="001").is_placeholder is placeholder


@pytest.mark.parametrize("imo", ["123456", "12345678", "IMO1234567"])
def test_vessel_imo_is_seven_digits(imo):
    with pytest.raises(ValidationError):
        VesselVoyage(vessel="MAERSK ESSEN", imo=imo)
    assert VesselVoyage(vessel="MAERSK ESSEN", imo="9456771").imo == "9456771"


# --- DCSA milestone codes ------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "code"),
                         [(k, c) for k, codes in CODES.items() for c in codes])
def test_every_dcsa_code_is_accepted_for_its_event_type(kind, code):
    m = Milestone(kind=kind, code=code, classifier="ACT", event_time=NOW)
    assert (m.kind, m.code) == (kind, code)


@pytest.mark.parametrize(("kind", "code"), [
    ("TRANSPORT", "GTIN"),  # an equipment code on a transport event
    ("EQUIPMENT", "DEPA"),
    ("SHIPMENT", "LOAD"),
    ("EQUIPMENT", "gtin"),
    ("TRANSPORT", "XXXX"),
])
def test_dcsa_code_must_belong_to_the_event_type(kind, code):
    with pytest.raises(ValidationError) as e:
        Milestone(kind=kind, code=code, classifier="ACT", event_time=NOW)
    assert e.value.errors()[0]["type"] == "dcsa_event_code"


def test_milestone_validates_its_time_and_container():
    base = {"kind": MilestoneKind.EQUIPMENT, "code": "GTIN", "classifier": "ACT"}
    with pytest.raises(ValidationError) as e:
        Milestone(**base, event_time=datetime(2026, 12, 1, 10, 0))
    assert e.value.errors()[0]["type"] == "timezone_required"
    with pytest.raises(ValidationError) as e:
        Milestone(**base, event_time=NOW, container_no="MSKU1234566")
    assert e.value.errors()[0]["type"] == "container_check_digit"
