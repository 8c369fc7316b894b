"""Carrier confirmation, shipping instructions and B/L issue: the documents of a booking."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import Field, PositiveInt

from shipflow.events.common import (
    Code,
    ContainerNumber,
    NonEmptyStr,
    UnLocode,
    UtcDatetime,
    ValueObject,
    VesselVoyage,
)
from shipflow.events.ports import local_date
from shipflow.events.shipment.equipment import SizeTypeCode


class Cutoffs(ValueObject):
    si: UtcDatetime | None = None
    vgm: UtcDatetime | None = None
    cy: UtcDatetime | None = None


class ConfirmedEquipment(ValueObject):
    size_type: SizeTypeCode
    count: PositiveInt


class CarrierConfirmation(ValueObject):
    carrier: NonEmptyStr
    carrier_booking_no: NonEmptyStr
    vessel_voyage: VesselVoyage
    etd: UtcDatetime
    eta: UtcDatetime
    cutoffs: Cutoffs = Cutoffs()
    equipment: list[ConfirmedEquipment] = Field(default_factory=list)


class ContainerInstruction(ValueObject):
    container_no: ContainerNumber
    size_type: SizeTypeCode
    seals: list[NonEmptyStr] = Field(default_factory=list)
    packages: PositiveInt
    package_type: str = "PACKAGES"
    cargo_weight_kg: Decimal = Field(gt=0, max_digits=12, decimal_places=3)
    volume_cbm: Decimal | None = Field(default=None, gt=0, max_digits=10, decimal_places=3)
    vgm_kg: Decimal | None = Field(default=None, gt=0, max_digits=12, decimal_places=3)
    vgm_method: str | None = Field(default=None, pattern=r"^(SM1|SM2)$")


class ShippingInstructions(ValueObject):
    containers: list[ContainerInstruction] = Field(min_length=1)
    marks_and_numbers: str = ""
    description_of_goods: NonEmptyStr
    number_of_originals: int = Field(default=3, ge=0, le=10)


class BlDocumentType(Code):
    BOL = "BOL"  # bill of lading
    SWB = "SWB"  # sea waybill


class BlRelease(Code):
    ORIGINAL = "ORIGINAL"
    TELEX = "TELEX"
    SEAWAY = "SEAWAY"


class BlDating(Code):
    """How the shipped-on-board date relates to the actual loading, domain.md §2.5."""

    NORMAL = "NORMAL"
    BACK_DATED = "BACK_DATED"  # 倒签: dated before the cargo was loaded
    POST_DATED = "POST_DATED"  # 顺签: dated after the cargo was loaded
    ADVANCE = "ADVANCE"  # 预借: issued before the cargo is loaded at all


def dating_of(on_board: date, loaded_at: datetime | None, pol: str) -> BlDating:
    """How a shipped-on-board date relates to the actual loading (倒签/顺签/预借), by the
    calendar date at the port of loading."""
    if loaded_at is None:
        return BlDating.ADVANCE
    loaded_on = local_date(loaded_at, pol)
    if on_board < loaded_on:
        return BlDating.BACK_DATED
    if on_board > loaded_on:
        return BlDating.POST_DATED
    return BlDating.NORMAL


class BlIssue(ValueObject):
    bl_number: NonEmptyStr
    document_type: BlDocumentType = BlDocumentType.BOL
    number_of_originals: int = Field(default=3, ge=0, le=10)
    release: BlRelease = BlRelease.ORIGINAL
    shipped_on_board_date: date
    place_of_issue: UnLocode
    issue_date: date
