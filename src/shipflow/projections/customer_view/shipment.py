"""A shipment as its customer sees it: :func:`shipment_view`, a pure function of the Shipment
state (now, as of a time, at a version) and of who the customer is.

The shapes are the staff ones (``ShipmentView``) with the forwarder's own data taken out, so a
portal reads the same field names; each model forbids extra fields, so a staff answer can never
pass for a customer one. The rules are in :mod:`.rules`; what shows and why is in
``docs/api-access.md``.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shipflow.events.common import Party, VesselVoyage
from shipflow.events.shipment.booking import (
    Approval,
    BookingIntake,
    BookingOrder,
    CustomsBy,
    EquipmentLine,
    FreeDays,
    Incoterm,
    LoadType,
    PaymentTerm,
    RateLine,
    SettlementParty,
    Stuffing,
    UsRouting,
)
from shipflow.events.shipment.charges import ChargeLine
from shipflow.events.shipment.documents import BlIssue, CarrierConfirmation, ShippingInstructions
from shipflow.events.shipment.records import (
    Amendment,
    AmendmentStatus,
    BookingStatus,
    Charge,
    FieldChange,
    RaisedException,
    ReviewOutcome,
    SailingOutcome,
    TimelineEntry,
)
from shipflow.events.shipment.tracking import ExceptionKind, Milestone
from shipflow.projections.customer_view.rules import Customer, billed, order_field_visible


class View(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CustomerOrder(View):
    """The booking order without the forwarder's own fields (``rules.INTERNAL_ORDER_FIELDS``)."""

    customer_id: str
    booking_party: Party
    shipper: Party
    consignee: Party
    notify_party: Party | None
    office: str | None
    cs_owner: str = Field(description="the customer's contact at the forwarder")
    load_type: LoadType
    carrier: str | None
    carrier_nominated: bool | None
    requested_sailing_date: date | None
    planned_vessel_voyage: VesselVoyage | None
    place_of_receipt: str | None
    pol: str
    pol_terminal: str | None
    pod: str | None
    pod_terminal: str | None
    place_of_delivery: str | None
    transshipment_ports: list[str]
    us_routing: UsRouting | None
    commodity_cn: str | None
    commodity_en: str | None
    hs_code: str | None
    packages: int
    package_type: str
    gross_weight_kg: Decimal
    volume_cbm: Decimal
    equipment: list[EquipmentLine]
    special_handling: list[str]
    freight_payment_term: PaymentTerm | None
    payable_at: str | None
    incoterm: Incoterm | None
    booked_rates: list[RateLine]
    free_days: FreeDays
    settlement_party: SettlementParty
    settlement_third_party: Party | None
    po_numbers: list[str]
    customer_references: list[str]
    stuffing: Stuffing | None
    customs_by: CustomsBy
    inspection_by: CustomsBy
    lc_clauses: list[str]
    bl_clauses: list[str]
    carrier_certificates: list[str]
    carrier_consent: Approval | None
    customer_signature_ref: str | None
    remarks: str
    intake: BookingIntake | None = Field(default=None, description=(
        "the DCSA booking request as the customer's system sent it"))


class CustomerCharge(View):
    """A charge line billed to the customer; why it was voided is the forwarder's note."""

    number: int
    line: ChargeLine
    amendment_number: int | None
    voided: bool
    invoice_number: str | None


class CustomerAmendment(View):
    """An amendment the customer asked for: its changes (to fields it may see), its written
    confirmation, the fees billed to it, and the decision. Who requested or decided it, the
    desk's reason, the decision's reason and the internal notify list stay inside."""

    number: int
    changes: list[FieldChange]
    customer_confirmation_ref: str
    charges: list[ChargeLine]
    status: AmendmentStatus


class CustomerException(View):
    """What happened, where and when, and whether it is resolved; the tracking desk's
    description and resolution notes and who raised it stay inside."""

    number: int
    kind: ExceptionKind
    location: str | None
    raised_at: datetime
    resolved_at: datetime | None


class CustomerBlState(View):
    draft_approval: Approval | None = Field(description="the customer's own approval")
    draft_version: int | None


class CustomerShipment(View):
    id: UUID
    version: int = Field(description="counts every fact recorded, shown or not (the ETag)")
    created_at: datetime
    modified_at: datetime
    status: BookingStatus
    order: CustomerOrder
    review_outcome: ReviewOutcome | None
    carrier_confirmation: CarrierConfirmation | None
    vessel_voyage: VesselVoyage | None
    legs: list[VesselVoyage | None]
    etd: datetime | None
    eta: datetime | None
    departed: bool
    timeline: dict[str, TimelineEntry]
    last_milestone: Milestone | None
    amendments: list[CustomerAmendment]
    shipping_instructions: ShippingInstructions | None
    si_revision: int
    exceptions: list[CustomerException]
    charges: list[CustomerCharge]
    bl: CustomerBlState
    bl_approval_current: bool
    bl_issue: BlIssue | None
    sailing_outcome: SailingOutcome | None


# --- the projection --------------------------------------------------------------------------


def order(o: BookingOrder) -> CustomerOrder:
    return CustomerOrder(**{name: getattr(o, name) for name in CustomerOrder.model_fields})


def charge_lines(customer: Customer, lines: list[ChargeLine]) -> list[ChargeLine]:
    return [line for line in lines if billed(customer, line)]


def changes(cs: list[FieldChange]) -> list[FieldChange]:
    return [c for c in cs if order_field_visible(c.field)]


def charge(c: Charge) -> CustomerCharge:
    return CustomerCharge(number=c.number, line=c.line, amendment_number=c.amendment_number,
                          voided=c.voided, invoice_number=c.invoice_number)


def amendment(customer: Customer, a: Amendment) -> CustomerAmendment:
    return CustomerAmendment(number=a.number, changes=changes(a.changes),
                             customer_confirmation_ref=a.customer_confirmation_ref,
                             charges=charge_lines(customer, a.charges), status=a.status)


def exception(x: RaisedException) -> CustomerException:
    return CustomerException(number=x.number, kind=x.exception.kind,
                             location=x.exception.location, raised_at=x.raised_at,
                             resolved_at=x.resolved_at)


def shipment_view(s: Any, customer: Customer) -> CustomerShipment:
    """The customer's view of a Shipment (its state now, or folded to a time or version)."""
    return CustomerShipment(
        id=s.id, version=s.version, created_at=s.created_on, modified_at=s.modified_on,
        status=s.status, order=order(s.order), review_outcome=s.review_outcome,
        carrier_confirmation=s.confirmation, vessel_voyage=s.vessel_voyage, legs=s.legs,
        etd=s.etd, eta=s.eta, departed=s.departed, timeline=s.timeline,
        last_milestone=s.last_milestone,
        amendments=[amendment(customer, a) for a in s.amendments],
        shipping_instructions=s.shipping_instructions, si_revision=s.si_revision,
        exceptions=[exception(x) for x in s.exceptions],
        charges=[charge(c) for c in s.charges if billed(customer, c.line)],
        bl=CustomerBlState(draft_approval=s.bl.draft_approval,
                           draft_version=s.bl.draft_version),
        bl_approval_current=s.bl_approval_current, bl_issue=s.bl_issue,
        sailing_outcome=s.sailing_outcome)
