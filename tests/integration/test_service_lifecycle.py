"""A shipment's whole life through the application service, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from factories import NOW, amendment, confirmation, meta, order, shipping_instructions
from shipflow.events.shipment.booking import Approval
from shipflow.events.shipment.charges import ChargeLine
from shipflow.events.shipment.documents import BlIssue
from shipflow.events.shipment.records import BookingStatus, FieldChange, SailingOutcome
from shipflow.events.shipment.tracking import Milestone


def test_happy_path_from_handover_to_close(service):
    m = meta()
    sid = service.request_booking(order(), m).shipment_id
    service.review(sid, [], m)
    service.confirm_by_carrier(sid, confirmation(), m)
    n = service.request_amendment(
        sid, amendment([FieldChange(field="consignee.address", after="2 Harbor Dr, Long Beach")],
        "email 2026-11-21 from shipper", "consignee moved", [], ["customs_broker"]), m).result
    service.approve_amendment(sid, n, m)
    service.submit_shipping_instructions(sid, shipping_instructions(), m)
    service.add_charge(sid, ChargeLine.model_validate({
        "direction": "RECEIVABLE", "code": "OFR", "quantity": "1", "counterparty": "CUST-ACME",
        "unit_price": {"amount": "1850.00", "currency": "USD"}}), None, m)
    departed = NOW + timedelta(days=15)
    service.record_milestone(sid, Milestone(kind="TRANSPORT", code="DEPA", classifier="ACT",
                                            event_time=departed, location="CNSHA"), m)
    service.approve_bl_draft(sid, Approval(by="Ms Chen (Acme)", at=NOW), None, m)
    dating = service.issue_bl(sid, BlIssue(bl_number="SFLW2611000123",
                                           shipped_on_board_date=departed.date(),
                                           place_of_issue="CNSHA", issue_date=date(2026, 12, 5)),
                              m).result
    service.record_sailing_outcome(sid, SailingOutcome.SHIPPED, "", m)
    service.close_shipment(sid, "all done", m)

    s = service.get(sid)
    assert str(dating) == "NORMAL"
    assert s.status is BookingStatus.COMPLETED
    assert s.order.consignee.address == "2 Harbor Dr, Long Beach"
    assert s.etd == departed and s.departed
    assert s.charges[0].line.amount.amount == Decimal("1850.00")
    assert [type(e).__name__ for e in service.history(sid)][:3] == [
        "BookingRequested", "BookingReviewed", "CarrierConfirmed"]
