"""The booking order (委托书 / S-O) as the sales hand-over delivers it, domain.md §2.1.

Shape is validated here (codes, numbers, formats). Whether the order is *complete and
bookable* is decided by the named rules in :mod:`shipflow.events.shipment.rules`, so a hand-over
can be recorded and reviewed before every detail is known.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import Field, PositiveInt

from shipflow.events.common import (
    Code,
    Money,
    NonEmptyStr,
    Party,
    UnLocode,
    UtcDatetime,
    ValueObject,
    VesselVoyage,
)
from shipflow.events.shipment.equipment import SIZE_TYPES, SizeTypeCode


class BusinessSource(Code):
    DIRECT = "DIRECT"  # 直客
    CO_LOADER = "CO_LOADER"  # 同行: another forwarder books through us
    NOMINATED = "NOMINATED"  # 指定货: nominated by our overseas agent


class LoadType(Code):
    FCL = "FCL"
    LCL = "LCL"
    BULK = "BULK"


class PaymentTerm(Code):
    PREPAID = "PREPAID"
    COLLECT = "COLLECT"
    ELSEWHERE = "ELSEWHERE"  # payable at a third place


class Incoterm(Code):
    EXW = "EXW"
    FCA = "FCA"
    FAS = "FAS"
    FOB = "FOB"
    CFR = "CFR"
    CIF = "CIF"
    CPT = "CPT"
    CIP = "CIP"
    DAP = "DAP"
    DPU = "DPU"
    DDP = "DDP"


class StuffingMethod(Code):
    CY = "CY"  # 场装: cargo delivered to the CY/CFS
    DRAYAGE = "DRAYAGE"  # 拖装: we truck the empty to the shipper
    SELF = "SELF"  # 自理: the customer arranges it


class CustomsBy(Code):
    US = "US"
    CUSTOMER = "CUSTOMER"


class SettlementParty(Code):
    BOOKING_PARTY = "BOOKING_PARTY"
    SHIPPER = "SHIPPER"
    THIRD_PARTY = "THIRD_PARTY"


class UsRouting(Code):
    ALL_WATER = "ALL_WATER"
    MLB = "MLB"  # mini land bridge


class RateBasis(Code):
    PER_CONTAINER = "PER_CONTAINER"
    PER_BL = "PER_BL"
    PER_CBM = "PER_CBM"
    PER_TON = "PER_TON"
    LUMP_SUM = "LUMP_SUM"


class ReeferSettings(ValueObject):
    temperature_c: Decimal | None = Field(default=None, ge=-70, le=40)
    ventilation_cbm_h: Decimal | None = Field(default=None, ge=0, le=300)
    humidity_pct: Decimal | None = Field(default=None, ge=0, le=100)


class EquipmentLine(ValueObject):
    size_type: SizeTypeCode
    count: PositiveInt
    reefer: ReeferSettings | None = None
    genset_required: bool | None = None
    overweight_requested: bool = False

    @property
    def spec(self):  # noqa: ANN201 - SizeType, kept loose for pydantic
        return SIZE_TYPES[self.size_type]


class Stuffing(ValueObject):
    method: StuffingMethod
    # CY/CFS: when and where the cargo is delivered to us
    expected_delivery_at: UtcDatetime | None = None
    delivery_place: str | None = None
    # drayage: where and when the truck picks the cargo up
    pickup_at: UtcDatetime | None = None
    pickup_address: str | None = None
    contact: str | None = None


class RateLine(ValueObject):
    """A line of the sold rate: ocean freight or a surcharge (BAF, THC, DOC, ...)."""

    code: NonEmptyStr
    description: str = ""
    basis: RateBasis = RateBasis.PER_CONTAINER
    unit_price: Money
    size_type: SizeTypeCode | None = None


class FreeDays(ValueObject):
    demurrage: int = Field(default=0, ge=0, le=365)
    detention: int = Field(default=0, ge=0, le=365)


class Approval(ValueObject):
    """Someone's recorded yes: who, in what capacity, when, with what reference."""

    by: NonEmptyStr
    capacity: str = ""
    at: UtcDatetime
    reference: str | None = None


class BookingIntake(ValueObject):
    """A booking that came in through a standard interface (DCSA Booking 2.0): the reference
    its request is known by, the request as sent (verbatim, or as a later update of it was
    approved), and the fields of it the booking order has no place for (JSON paths)."""

    standard: NonEmptyStr = Field(examples=["DCSA BKG 2.0.5"])
    request_reference: NonEmptyStr
    content: dict[str, Any] = Field(default_factory=dict)
    unmapped: list[str] = Field(default_factory=list)


class BookingOrder(ValueObject):
    # parties and owners
    customer_id: NonEmptyStr = Field(description="our customer code; the account that is billed")
    booking_party: Party
    shipper: Party
    consignee: Party
    notify_party: Party | None = None
    office: str | None = Field(default=None, max_length=10, description=(
        "our handling office (e.g. SHA); its business calendar runs the SLA timers. "
        "Default: the office of the POL"))
    sales_owner: NonEmptyStr
    cs_owner: NonEmptyStr = Field(description="the CS rep who owns the booking and its amendments")
    business_source: BusinessSource
    load_type: LoadType
    # carrier and routing
    carrier: str | None = Field(default=None, description="carrier SCAC or name")
    carrier_nominated: bool | None = None
    requested_sailing_date: date | None = None
    planned_vessel_voyage: VesselVoyage | None = None
    place_of_receipt: UnLocode | None = None
    pol: UnLocode
    pol_terminal: str | None = None
    pod: UnLocode | None = None
    pod_terminal: str | None = None
    place_of_delivery: UnLocode | None = None
    transshipment_ports: list[UnLocode] = Field(default_factory=list)
    us_routing: UsRouting | None = None
    # cargo
    commodity_cn: str | None = None
    commodity_en: str | None = None
    hs_code: str | None = Field(default=None, pattern=r"^\d{4,10}$")
    packages: PositiveInt
    package_type: str = "PACKAGES"
    gross_weight_kg: Decimal = Field(gt=0, max_digits=12, decimal_places=3)
    volume_cbm: Decimal = Field(gt=0, max_digits=10, decimal_places=3)
    equipment: list[EquipmentLine] = Field(default_factory=list)
    special_handling: list[str] = Field(default_factory=list)
    # commercial terms
    freight_payment_term: PaymentTerm | None = None
    payable_at: UnLocode | None = None
    incoterm: Incoterm | None = None
    sold_rates: list[RateLine] = Field(default_factory=list, description="from the sales hand-over")
    booked_rates: list[RateLine] = Field(
        default_factory=list, description="rates as written on the customer's booking order"
    )
    free_days: FreeDays = FreeDays()
    settlement_party: SettlementParty = SettlementParty.BOOKING_PARTY
    settlement_third_party: Party | None = None
    po_numbers: list[str] = Field(default_factory=list)
    customer_references: list[str] = Field(default_factory=list)
    # operations
    stuffing: Stuffing | None = None
    customs_by: CustomsBy = CustomsBy.US
    inspection_by: CustomsBy = CustomsBy.US
    # clauses that need the carrier's consent before booking
    lc_clauses: list[str] = Field(default_factory=list)
    bl_clauses: list[str] = Field(default_factory=list)
    carrier_certificates: list[str] = Field(default_factory=list)
    carrier_consent: Approval | None = None
    # signed / stamped by the customer, or approved by the route manager
    customer_signature_ref: str | None = None
    route_manager_approval: Approval | None = None
    remarks: str = ""
    intake: BookingIntake | None = Field(default=None, description=(
        "set when the booking came in through DCSA Booking 2.0 (POST /dcsa/bkg/v2/bookings)"))

    @property
    def container_count(self) -> int:
        return sum(line.count for line in self.equipment)


#: Fields an amendment may not touch: ownership and the billed account are reassignments,
#: not amendments (委托更改), and need their own process.
NOT_AMENDABLE = frozenset({"customer_id", "cs_owner"})
#: Of a DCSA intake, an amendment may change what the customer sent, not its reference.
AMENDABLE_INTAKE = frozenset({"content", "unmapped"})
