"""The B/L draft fold assembles the document only after events in CHANGES_DOCUMENT; this
holds that list to account: after every other event of a busy shipment the document reads
exactly as before."""

from __future__ import annotations

from datetime import date, timedelta

from factories import NOW, amendment, confirmation, meta, order, rollover, shipping_instructions
from shipflow.events.common import VesselVoyage
from shipflow.events.shipment.booking import Approval
from shipflow.events.shipment.charges import ChargeChange, ChargeLine
from shipflow.events.shipment.documents import BlDating, BlIssue
from shipflow.events.shipment.events import EVENT_TYPES
from shipflow.events.shipment.records import FieldChange, RuleConfirmation, SailingOutcome
from shipflow.events.shipment.tracking import CustomerNotice, Milestone, ShipmentException
from shipflow.events.shipment.transport_document import CHANGES_DOCUMENT, assemble

M = meta()
SAILED = NOW + timedelta(days=15)
LINE = ChargeLine.model_validate({
    "direction": "RECEIVABLE", "code": "OFR", "quantity": "1", "counterparty": "CUST-ACME",
    "unit_price": {"amount": "1850", "currency": "USD"}})


def busy_shipment(svc):
    """Every kind of event a shipment can record, in a plausible order."""
    sid = svc.request_booking(order(customer_signature_ref=None), M).shipment_id
    svc.review(sid, [], M)
    n = svc.request_amendment(sid, amendment([FieldChange(field="customer_signature_ref",
                                                after="SO-1")], "mail", "", [], []), M).result
    svc.reject_amendment(sid, n, "wrong file", M)
    svc.review(sid, [RuleConfirmation(rule="customer_signature_required", confirmed_by="Zhao",
                                      confirmed_at=NOW)], M)
    svc.confirm_by_carrier(sid, confirmation(), M)
    svc.notify_customer(sid, CustomerNotice(kind="BOOKING_CONFIRMATION"), M)
    n = svc.request_amendment(sid, amendment([FieldChange(field="consignee.address",
                                                          after="9 Ocean")],
                              "mail", "", [LINE], []), M).result
    svc.approve_amendment(sid, n, M)
    svc.submit_shipping_instructions(sid, shipping_instructions(), M)
    svc.roll_over(sid, rollover(VesselVoyage(vessel="MSC ANNA", voyage="1"), "rolled",
                  SAILED, SAILED + timedelta(days=16), 0), M)
    svc.record_milestone(sid, Milestone(kind="TRANSPORT", code="DEPA", classifier="ACT",
                                        event_time=SAILED), M)
    svc.record_sla_breach(sid, "booking_confirmation", "booking_confirmation", NOW, NOW, M)
    number = svc.add_charge(sid, LINE, None, M).result
    # invoiced and credited by accounts receivable (AccountService saves these beside the
    # account's events)
    svc._change(sid, None, lambda s: s.record_invoiced("INV-1", "CUST-ACME", [number], M))
    svc._change(sid, None, lambda s: s.release_invoiced("INV-1", "CN-1", [number], M))
    svc.adjust_charge(sid, number, ChargeChange(quantity=2, reason="two boxes"), M)
    svc.void_charge(sid, number, "duplicate", M)
    n = svc.raise_exception(sid, ShipmentException(kind="STRIKE", description="port"), M).result
    svc.resolve_exception(sid, n, "ended", M)
    svc.approve_bl_draft(sid, Approval(by="Ms Chen", at=NOW), None, M)
    svc.approve_bl_dating(sid, BlDating.BACK_DATED, "sales req 7", "L/C date", meta(
        "ops.zhou", "manager"))
    svc.issue_bl(sid, BlIssue(bl_number="B1", shipped_on_board_date=SAILED.date(),
                              place_of_issue="CNSHA", issue_date=date(2026, 12, 6)), M)
    svc.record_sailing_outcome(sid, SailingOutcome.SHIPPED, "", M)
    svc.close_shipment(sid, "done", M)
    return sid


def test_only_listed_events_change_the_document(memory_service):
    sid = busy_shipment(memory_service)
    seen, shipment, document = set(), None, None
    for event in memory_service.history(sid):
        shipment = event.mutate(shipment)
        after = assemble(shipment)
        seen.add(type(event))
        if document is not None and type(event) not in CHANGES_DOCUMENT:
            assert after == document, type(event).__name__
        document = after
    # the shipment above exercised every event type but the terminal alternatives
    unexercised = {n for n, cls in EVENT_TYPES.items() if cls not in seen}
    assert unexercised == {"CarrierRejected", "BookingDeclined", "ShipmentCancelled"}
