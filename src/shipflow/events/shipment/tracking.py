"""Milestones (DCSA Track & Trace 2.2 codes) and exceptions."""

from __future__ import annotations

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from shipflow.events.common import (
    Code,
    ContainerNumber,
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
        "PICK": "picked up (empty released / cargo collected)",
        "STUF": "stuffed",
        "GTIN": "gated in",
        "LOAD": "loaded on board",
        "DISC": "discharged",
        "GTOT": "gated out",
        "STRP": "stripped",
        "DROP": "dropped off (delivered / empty returned)",
    },
    MilestoneKind.TRANSPORT: {"DEPA": "departed", "ARRI": "arrived"},
    MilestoneKind.SHIPMENT: {  # DCSA shipmentEventTypeCode, plus customs hold / release
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
        "HOLD": "on hold (customs)",
        "RELS": "released (customs)",
    },
}


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
