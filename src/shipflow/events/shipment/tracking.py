"""Milestones (DCSA Track & Trace 2.2 codes) and exceptions.

The code lists are DCSA T&T 2.2's own (``tests/conformance`` holds them equal to the
specification's enums); delay reasons are the SMDG codes DCSA refers to, read from the data
file ``data/smdg_delay_reason_codes.csv`` (the DCSA Information Model's list).
"""

from __future__ import annotations

import csv
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Annotated

from pydantic import AfterValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from shipflow.events.common import (
    Code,
    ContainerNumber,
    EventMeta,
    NonEmptyStr,
    UnLocode,
    UtcDatetime,
    ValueObject,
    VesselVoyage,
)


class MilestoneKind(Code):
    EQUIPMENT = "EQUIPMENT"
    TRANSPORT = "TRANSPORT"
    SHIPMENT = "SHIPMENT"


class Classifier(Code):
    PLN = "PLN"  # planned
    EST = "EST"  # estimated
    ACT = "ACT"  # actual


#: Codes that happen where a leg starts (departing a port) and where it ends (arriving).
LEG_START_CODES = frozenset({"DEPA", "LOAD", "GTIN", "STUF", "PICK"})

#: DCSA T&T event codes this service understands, by event type.
CODES: dict[MilestoneKind, dict[str, str]] = {
    MilestoneKind.EQUIPMENT: {
        "LOAD": "loaded on board",
        "DISC": "discharged",
        "GTIN": "gated in",
        "GTOT": "gated out",
        "STUF": "stuffed",
        "STRP": "stripped",
        "PICK": "picked up (empty released / cargo collected)",
        "DROP": "dropped off (delivered / empty returned)",
        "INSP": "inspected",
        "RSEA": "resealed",
        "RMVD": "removed (from a transport unit)",
    },
    MilestoneKind.TRANSPORT: {"ARRI": "arrived", "DEPA": "departed"},
    MilestoneKind.SHIPMENT: {  # DCSA shipmentEventTypeCode
        "RECE": "received",
        "DRFT": "drafted",
        "PENA": "pending approval",
        "PENU": "pending update",
        "REJE": "rejected",
        "APPR": "approved",
        "ISSU": "issued",
        "SURR": "surrendered",
        "SUBM": "submitted",
        "VOID": "void",
        "CONF": "confirmed",
        "REQS": "requested",
        "CMPL": "completed",
        "HOLD": "on hold",
        "RELS": "released",
    },
}


class EmptyIndicator(Code):
    """Is the container empty or laden (DCSA ``emptyIndicatorCode``): an empty PICK is the
    empty released to the shipper, a laden one the cargo collected."""

    EMPTY = "EMPTY"
    LADEN = "LADEN"


class TransportMode(Code):
    VESSEL = "VESSEL"
    RAIL = "RAIL"
    TRUCK = "TRUCK"
    BARGE = "BARGE"


class ReferenceType(Code):
    """DCSA reference types: freight forwarder's, shipping instruction, purchase order,
    customer's, agency order, empty container release (EQ)."""

    FF = "FF"
    SI = "SI"
    PO = "PO"
    CR = "CR"
    AAO = "AAO"
    EQ = "EQ"


@cache
def delay_reasons() -> dict[str, str]:
    """The SMDG delay reason codes DCSA uses (``delayReasonCode``): code → name."""
    text = (resources.files("shipflow.events.shipment") / "data"
            / "smdg_delay_reason_codes.csv").read_text(encoding="utf-8")
    return {row["delay_reason_code"]: row["delay_reason_name"]
            for row in csv.DictReader(text.splitlines())}


def _delay_reason(value: str) -> str:
    value = value.strip().upper()
    if value not in delay_reasons():
        raise PydanticCustomError(
            "delay_reason_code", "'{code}' is not an SMDG delay reason code (e.g. WEA bad "
            "weather, STR strike, CGS berth congestion)", {"code": value})
    return value


DelayReasonCode = Annotated[str, AfterValidator(_delay_reason)]


class PlaceAddress(ValueObject):
    name: str | None = Field(default=None, max_length=100)
    street: str | None = Field(default=None, max_length=100)
    street_number: str | None = Field(default=None, max_length=50)
    floor: str | None = Field(default=None, max_length=50)
    post_code: str | None = Field(default=None, max_length=10)
    city: str | None = Field(default=None, max_length=65)
    state_region: str | None = Field(default=None, max_length=65)
    country: str | None = Field(default=None, max_length=75)


class Place(ValueObject):
    """Where an event happened, as DCSA describes a location (a transport call's
    ``location``, an equipment event's ``eventLocation``)."""

    name: str | None = Field(default=None, max_length=100)
    latitude: str | None = Field(default=None, max_length=10)
    longitude: str | None = Field(default=None, max_length=11)
    un_location_code: UnLocode | None = None
    facility_code: str | None = Field(default=None, max_length=6)
    facility_code_list_provider: str | None = Field(default=None, pattern=r"^(BIC|SMDG)$")
    address: PlaceAddress | None = None


class Reference(ValueObject):
    """A shipper's or forwarder's reference the carrier shares back on an event."""

    type: ReferenceType
    value: str = Field(min_length=1, max_length=100)


class DocumentRef(ValueObject):
    """What a SHIPMENT event is about: DCSA ``documentTypeCode`` and ``documentID``."""

    type_code: str = Field(pattern=r"^(CBR|BKG|SHI|SRM|TRD|ARN|VGM|CAS|CUS|DGD|OOG)$")
    id: str = Field(min_length=1, max_length=100)
    reason: str | None = Field(default=None, max_length=5000)


class Milestone(ValueObject):
    kind: MilestoneKind
    code: str
    classifier: Classifier
    event_time: UtcDatetime = Field(description="when it happened, or is planned / expected to")
    location: UnLocode | None = None
    facility: str | None = None
    vessel_voyage: VesselVoyage | None = None
    leg: int | None = Field(default=None, ge=0, le=9, description=(
        "0 = first sea leg, 1.. = legs after transshipment; when omitted, the shipment "
        "derives it from where the location lies on its route"))
    container_no: ContainerNumber | None = None
    # What DCSA T&T 2.2 events say beside (optional: desks and spreadsheets may not know).
    empty_indicator: EmptyIndicator | None = Field(
        default=None, description="EQUIPMENT: is the container EMPTY or LADEN")
    delay_reason: DelayReasonCode | None = Field(
        default=None, description="TRANSPORT: the SMDG delay reason code, e.g. WEA")
    change_remark: str | None = Field(default=None, max_length=250, description=(
        "TRANSPORT: the carrier's words on why the schedule changed"))
    references: list[Reference] = Field(default_factory=list, max_length=50)
    transport_call_id: str | None = Field(default=None, max_length=100)
    mode_of_transport: TransportMode | None = None
    facility_type: str | None = Field(
        default=None, pattern=r"^(BOCR|CLOC|COFS|COYA|OFFD|DEPO|INTE|POTE|RAMP)$")
    place: Place | None = Field(default=None, description=(
        "the transport call's location, or an equipment event's eventLocation"))
    iso_equipment_code: str | None = Field(default=None, max_length=4)
    document: DocumentRef | None = Field(default=None, description=(
        "SHIPMENT: the document the event is about"))
    carrier_recorded_at: UtcDatetime | None = Field(default=None, description=(
        "when the carrier recorded the information (DCSA eventCreatedDateTime)"))

    @model_validator(mode="after")
    def _known_code(self) -> Milestone:
        if self.code not in CODES[self.kind]:
            raise PydanticCustomError(
                "dcsa_event_code",
                "'{code}' is not a DCSA {kind} event code (one of {known})",
                {"code": self.code, "kind": self.kind.value, "known": ", ".join(CODES[self.kind])},
            )
        return self

    @property
    def key(self) -> str:
        """What an estimate and an actual of the same happening share."""
        where = self.location or "-"
        return f"{self.kind}:{self.code}:{where}:{self.leg}:{self.container_no or '-'}"


class Rollover(ValueObject):
    """The cargo moves to another sailing (domain.md §2.3): at POL (leg 0) before it sails,
    or at a transshipment port (leg 1..)."""

    to_vessel_voyage: VesselVoyage
    reason: NonEmptyStr
    new_etd: UtcDatetime
    new_eta: UtcDatetime
    leg: int = Field(default=0, ge=0, le=9, description="0 = at POL; 1.. = at transshipment")


def estimate_made_at(m: Milestone, meta: EventMeta) -> datetime:
    """When an estimate was made, which orders estimates: the carrier's record time when it
    says (DCSA eventCreatedDateTime), else when the fact occurred."""
    return m.carrier_recorded_at or meta.occurred_at


def leg_at(ports: list[str], code: str, location: str | None) -> int:
    """The sea leg a port call belongs to: leaving port i starts leg i, arriving at port i
    ends leg i-1 (``ports``: POL, the transshipment ports, POD)."""
    if location not in ports or len(ports) < 2:
        return 0
    i = ports.index(location)
    return min(i, len(ports) - 2) if code in LEG_START_CODES else max(i - 1, 0)


class ExceptionKind(Code):
    HELD_BACK = "HELD_BACK"
    LATE_DELIVERY = "LATE_DELIVERY"
    NON_DELIVERY = "NON_DELIVERY"
    RETURN_TO_ORIGIN = "RETURN_TO_ORIGIN"
    CUSTOMS_INSPECTION = "CUSTOMS_INSPECTION"
    EQUIPMENT_SHORTAGE = "EQUIPMENT_SHORTAGE"
    STRIKE = "STRIKE"
    CLAIM = "CLAIM"


class ShipmentException(ValueObject):
    kind: ExceptionKind
    description: str = Field(min_length=1, max_length=2000)
    location: UnLocode | None = None


class NotificationKind(Code):
    """What CS told the customer (domain.md §2.3: tell them before they ask)."""

    BOOKING_CONFIRMATION = "BOOKING_CONFIRMATION"  # itinerary: vessel/voyage, ETD, ETA
    DELAY_NOTICE = "DELAY_NOTICE"
    STATUS_UPDATE = "STATUS_UPDATE"
    ARRIVAL_NOTICE = "ARRIVAL_NOTICE"


class CustomerNotice(ValueObject):
    kind: NotificationKind
    channel: str = Field(default="email", max_length=40)
    reference: str | None = Field(default=None, max_length=200)
    note: str = ""
