"""Example payloads, made the way real ones are: a scripted set of shipment lives goes
through the real aggregate (on the in-memory store) and the dispatcher's message builder.
The same script drives the tests that deliver every event type, so an example cannot drift
from what subscribers receive.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any

from shipflow.events.common import EventMeta, Money, VesselVoyage
from shipflow.events.shipment.amendments import AmendmentRequest
from shipflow.events.shipment.booking import Approval, BookingOrder
from shipflow.events.shipment.charges import ChargeChange, ChargeLine
from shipflow.events.shipment.documents import BlIssue, CarrierConfirmation, ShippingInstructions
from shipflow.events.shipment.records import FieldChange, SailingOutcome
from shipflow.events.shipment.tracking import (
    CustomerNotice,
    Milestone,
    Rollover,
    ShipmentException,
)
from shipflow.services.shipments import ShipmentService

NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def _meta(actor: str = "cs.wang", role: str = "cs") -> EventMeta:
    return EventMeta(actor=actor, role=role, occurred_at=NOW, correlation_id="example")


def order(customer_id: str, po: str) -> BookingOrder:
    return BookingOrder.model_validate({
        "customer_id": customer_id, "booking_party": {"name": "Acme Trading (Shanghai) Co."},
        "shipper": {"name": "Acme Trading (Shanghai) Co.", "address": "88 Century Ave"},
        "consignee": {"name": "Acme Imports LLC", "address": "1 Harbor Dr, Long Beach"},
        "sales_owner": "sales.li", "cs_owner": "cs.wang", "business_source": "DIRECT",
        "load_type": "FCL", "carrier": "MAEU", "carrier_nominated": False,
        "requested_sailing_date": "2026-12-05", "pol": "CNSHA", "pod": "USLAX",
        "place_of_delivery": "USLAX", "us_routing": "ALL_WATER", "commodity_cn": "木制家具",
        "commodity_en": "Wooden furniture", "hs_code": "940360", "packages": 120,
        "package_type": "CARTONS", "gross_weight_kg": "14500", "volume_cbm": "62",
        "equipment": [{"size_type": "45G1", "count": 1}], "freight_payment_term": "PREPAID",
        "incoterm": "FOB", "po_numbers": [po], "stuffing": {"method": "SELF"},
        "customer_signature_ref": f"SO-{po}"})


def confirmation(booking_no: str) -> CarrierConfirmation:
    return CarrierConfirmation.model_validate({
        "carrier": "MAEU", "carrier_booking_no": booking_no,
        "vessel_voyage": {"vessel": "MAERSK ESSEN", "voyage": "248E"},
        "etd": NOW + timedelta(days=15), "eta": NOW + timedelta(days=30),
        "cutoffs": {"si": NOW + timedelta(days=12), "vgm": NOW + timedelta(days=13),
                    "cy": NOW + timedelta(days=14)},
        "equipment": [{"size_type": "45G1", "count": 1}]})


def _charge(amount: str) -> ChargeLine:
    return ChargeLine(direction="RECEIVABLE", code="OFR", quantity=1,
                      unit_price=Money(amount=amount, currency="USD"), counterparty="CUST-ACME")


def lifecycle(svc: ShipmentService, customer_id: str = "CUST-ACME",
              tag: str = "0042") -> list[uuid.UUID]:
    """Four shipments whose events make every shipment webhook type; returns their ids."""
    m = _meta()
    sid = svc.request_booking(order(customer_id, f"PO-{tag}"), m).shipment_id
    svc.review(sid, [], m)
    svc.confirm_by_carrier(sid, confirmation(f"2551{tag}"), m)
    svc.notify_customer(sid, CustomerNotice(kind="BOOKING_CONFIRMATION"), m)
    n = svc.request_amendment(sid, AmendmentRequest(
        changes=[FieldChange(field="consignee.address", after="2 Harbor Dr, Long Beach")],
        customer_confirmation_ref="email 2026-11-21 from shipper", reason="consignee moved",
        notify_parties=["customs_broker"]), m).result
    svc.approve_amendment(sid, n, m)
    n = svc.request_amendment(sid, AmendmentRequest(
        changes=[FieldChange(field="remarks", after="fragile")],
        customer_confirmation_ref="email 2026-11-22"), m).result
    svc.reject_amendment(sid, n, "customer withdrew it", m)
    svc.submit_shipping_instructions(sid, ShippingInstructions.model_validate({
        "containers": [{"container_no": "MSKU1234565", "size_type": "45G1",
                        "seals": ["ML123456"], "packages": 120, "package_type": "CARTONS",
                        "cargo_weight_kg": "14500", "volume_cbm": "62", "vgm_kg": "18400",
                        "vgm_method": "SM1"}],
        "marks_and_numbers": "ACME / LA / 1-120", "description_of_goods": "WOODEN FURNITURE",
        "number_of_originals": 3}), m)
    svc.add_charge(sid, _charge("1850.00"), None, m)
    svc.adjust_charge(sid, 1, ChargeChange(unit_price=Money(amount="1900.00", currency="USD"),
                                           reason="GRI"), m)
    svc.add_charge(sid, _charge("50.00"), None, m)
    svc.void_charge(sid, 2, "duplicate", m)
    svc.record_milestone(sid, Milestone(kind="EQUIPMENT", code="GTIN", classifier="ACT",
                                        event_time=NOW + timedelta(days=13),
                                        location="CNSHA", container_no="MSKU1234565"), m)
    svc.roll_over(sid, Rollover(to_vessel_voyage=VesselVoyage(vessel="MAERSK EMDEN",
                                                              voyage="250E"),
                                reason="vessel full", new_etd=NOW + timedelta(days=16),
                                new_eta=NOW + timedelta(days=32)), m)
    x = svc.raise_exception(sid, ShipmentException(kind="CUSTOMS_INSPECTION",
                                                   description="export inspection",
                                                   location="CNSHA"), m).result
    svc.resolve_exception(sid, x, "released after inspection", m)
    svc.approve_bl_draft(sid, Approval(by="Ms Chen (Acme)", at=NOW), None, m)
    departed = NOW + timedelta(days=16)
    svc.record_milestone(sid, Milestone(kind="TRANSPORT", code="DEPA", classifier="ACT",
                                        event_time=departed, location="CNSHA"), m)
    svc.record_milestone(sid, Milestone(kind="TRANSPORT", code="ARRI", classifier="EST",
                                        event_time=NOW + timedelta(days=33),
                                        location="USLAX"), m)
    svc.issue_bl(sid, BlIssue(bl_number=f"SFLW2611{tag}", shipped_on_board_date=departed.date(),
                              place_of_issue="CNSHA", issue_date=date(2026, 12, 6)), m)
    svc.record_sailing_outcome(sid, SailingOutcome.SHIPPED, "", m)
    svc.record_sla_breach(sid, "booking_confirmation", "booking_confirmation", NOW,
                          NOW + timedelta(hours=4), EventMeta.system("sla", NOW))
    svc.close_shipment(sid, "all done", m)
    ids = [sid]
    for ending in ("reject", "decline", "cancel"):
        other = svc.request_booking(order(customer_id, f"PO-{tag}-{ending}"), m).shipment_id
        svc.review(other, [], m)
        if ending == "reject":
            svc.reject_by_carrier(other, "no space", m)
        elif ending == "decline":
            svc.confirm_by_carrier(other, confirmation(f"2552{tag}"), m)
            svc.decline(other, "blank sailing", m)
        else:
            svc.cancel(other, "customer cancelled the order", m)
        ids.append(other)
    return ids


def account_lifecycle(svc: ShipmentService, customer_id: str = "CUST-ACME") -> None:
    """An account whose events make every account webhook type (accounts receivable)."""
    from shipflow.events.account.values import (
        AccountTerms,
        Application,
        InvoiceRequest,
        PaymentAdvice,
        PaymentMethod,
    )
    from shipflow.services.accounts import AccountService

    fin = _meta("fin.lee", "finance")
    ar = AccountService(svc.store)
    ar.open_account(customer_id, AccountTerms.model_validate({
        "name": "Acme Trading (Shanghai) Co.", "currencies": ["USD"],
        "bill_to": [{"code": customer_id, "party": {"name": "Acme Trading (Shanghai) Co."}}],
        "credit_limits": [{"amount": "50000", "currency": "USD"}], "credit_term_days": 30,
        "settlement_mode": "PER_SHIPMENT", "collection_owner": "ar.zhang"}), fin)
    sid = svc.request_booking(order(customer_id, "PO-AR-1"), _meta()).shipment_id
    svc.add_charge(sid, _charge("1850.00"), None, _meta())
    invoice = ar.issue_invoice(customer_id, InvoiceRequest(
        shipment_id=sid, bill_to=customer_id, currency="USD", issue_date=date(2026, 11, 20)),
        _meta()).result
    payment = ar.receive_payment(customer_id, PaymentAdvice(
        amount=Money(amount="1850.00", currency="USD"), bank_reference="BANK-0001",
        value_date=date(2026, 11, 25), payer="Acme Trading", method=PaymentMethod.TRANSFER),
        fin).result
    ar.apply_payment(customer_id, payment.number, [Application(
        invoice_number=invoice.number, amount=Money(amount="1850.00", currency="USD"))],
        None, fin)
    ar.place_hold(customer_id, "over the credit limit", fin)
    ar.release_hold(customer_id, "paid", fin)


@cache
def examples() -> dict[str, dict[str, Any]]:
    """One example payload per webhook type."""
    from shipflow.projections.engine.runner import FoldCache
    from shipflow.store import Shipflow
    from shipflow.webhooks import catalogue
    from shipflow.webhooks.subscription import WebhookSubscription

    store = Shipflow(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    svc = ShipmentService(store)
    lifecycle(svc)
    if "account.invoice_issued" in catalogue.EVENT_TYPES:
        account_lifecycle(svc)
    sub = WebhookSubscription.create(_meta("it.admin", "admin"), "https://tms.example.com/hooks",
                                     "TMS", ["shipment.*"], None, True, "secret-id")
    sub.set_enabled(False, EventMeta.system("webhook", NOW), "endpoint_gone",
                    "the endpoint answered 410 Gone")
    store.save(sub)
    cache_ = FoldCache(store)
    found: dict[str, dict[str, Any]] = {}
    for n in store.recorder.select_notifications(start=1, limit=10_000):
        source = catalogue.source_for(n.topic)
        if source is None:
            continue
        event = store.mapper.to_domain_event(n)
        for msg in catalogue.build(source, event, cache_.aggregate_after(event), n.id, cache_):
            found.setdefault(msg.type, json.loads(msg.body))
    svc.close()
    return found
