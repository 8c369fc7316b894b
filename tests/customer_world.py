"""A world to test the customer view against: customer A's shipment with every kind of thing a
customer must not see (payable lines, another bill-to party's line, staff actors, desk notes,
internal SLA breaches, a manager's dating approval, the sales hand-over) and things it must
(its own charges, its CS contact, its cut-offs); a second shipment of A whose only overdue
timer is internal; customer B's shipment; A's account with invoices, payments, a commitment,
a dunning notice and a credit hold.

Every secret is a string found nowhere else, so a test can scan raw bodies for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from ar_factories import advice, app, dunning, invoice_request, line, promise, terms, usd
from factories import NOW, amendment, confirmation, meta, order, rollover, shipping_instructions
from shipflow.events.account.values import ConceptExplanation, DunningLevel, PaymentMethod
from shipflow.events.common import EventMeta, VesselVoyage
from shipflow.events.shipment.booking import Approval
from shipflow.events.shipment.charges import ChargeChange
from shipflow.events.shipment.documents import BlDating, BlIssue
from shipflow.events.shipment.records import FieldChange, RuleConfirmation, SailingOutcome
from shipflow.events.shipment.tracking import CustomerNotice, Milestone, ShipmentException
from shipflow.services.accounts import AccountService
from shipflow.services.shipments import ShipmentService

A, B = "CUST-A", "CUST-B"
CS_CONTACT = "cs.liang"  # the booking's CS owner: the customer's contact, may show
CUSTOMER_CONTACT = "Ms Alpha Contact"  # the customer's own person who approved the B/L
OWN_PRICE = "870.00"  # ocean freight as sold and billed to A

#: What a customer key must never read, each a string found nowhere else in the world.
SECRETS = {
    "vendor": "VENDOR-SEALINE-XQ", "buy price": "748.37", "buy price adjusted": "749.13",
    "truck vendor": "VENDOR-TRUCK-PQ", "truck price": "20.11",
    "other bill-to": "THIRD-PARTY-ZETA", "other bill-to price": "55.55",
    "sales owner": "sales.villanueva", "sales owner amended": "sales.swapped",
    "business source": "NOMINATED", "sold rate": "1234.56",
    "route manager": "RouteMgr Ferreira", "review note": "note-internal-review",
    "cs desk": "desk.kowalski", "finance": "fin.nakamura", "tracking": "trk.oyelaran",
    "manager": "mgr.haugen", "feed": "feed.carrier-x", "collector": "ar.okonkwo",
    "correlation id": "corr-internal-77", "amendment reason": "reason-internal-amend",
    "notify list": "finance-desk-internal", "rejection reason": "reject-internal",
    "rollover reason": "rollover-internal", "exception description": "desc-internal-exc",
    "exception resolution": "resolution-internal", "adjustment reason": "adjust-internal",
    "void reason": "void-internal", "notice note": "note-internal-notice",
    "dating reason": "dating-internal", "sales request": "SR-INTERNAL-9",
    "outcome reason": "outcome-internal", "pre-invoice explanation": "explain-internal-thc",
    "hold note": "hold-note-internal", "release reason": "release-internal",
    "commitment note": "commit-note-internal",
    "internal timer": "booking_confirmation", "order review timer": "web_order_review",
    "sailing status timer": "sailing_status", "delay notice timer": "delay_notice",
    "staff role": '"role":', "tracing": '"correlation_id":',
    "other customer": B, "other customer's PO": "PO-B-SECRET",
}

#: Secrets that are names of kinds and keys rather than data (any catalogue may show them).
KIND_MARKERS = frozenset({"internal timer", "order review timer", "sailing status timer",
                          "delay notice timer", "staff role", "tracing", "business source"})


@dataclass
class World:
    a1: UUID  # the rich shipment of A
    a2: UUID  # A's shipment whose only overdue timer is internal (order review)
    b1: UUID  # B's shipment
    before: datetime  # before any booking was recorded


def m(actor: str, role: str, **kw: Any) -> EventMeta:
    return meta(actor, role, correlation_id=SECRETS["correlation id"], **kw)


DESK, FIN = m(SECRETS["cs desk"], "cs"), m(SECRETS["finance"], "finance")
TRK, MGR = m(SECRETS["tracking"], "tracking"), m(SECRETS["manager"], "manager")
FEED, OWNER = m(SECRETS["feed"], "integration"), m(CS_CONTACT, "cs")


def build(svc: ShipmentService) -> World:
    before = datetime.now(UTC)
    ar = AccountService(svc.store)
    ar.open_account(A, terms(
        name="Alpha Trading", collection_owner=SECRETS["collector"],
        bill_to=[{"code": A, "party": {"name": "Alpha Trading (Shanghai) Co."}},
                 {"code": "A-HK", "party": {"name": "Alpha Trading HK Ltd"}}]), FIN)
    a1 = _rich(svc, ar)
    # booked long ago and never reviewed: the (internal) order-review timer is overdue
    a2 = svc.request_booking(_order(["PO-A-2"]), m(SECRETS["cs desk"], "cs", occurred_at=(
        NOW - timedelta(days=400)))).shipment_id
    b1 = svc.request_booking(order(customer_id=B, po_numbers=["PO-B-SECRET"]),
                             DESK).shipment_id
    svc.review(b1, [], DESK)
    svc.confirm_by_carrier(b1, confirmation(carrier_booking_no="BK-B-1"), FEED)
    return World(a1, a2, b1, before)


def _order(pos: list[str]) -> Any:
    return order(customer_id=A, po_numbers=pos, cs_owner=CS_CONTACT,
                 sales_owner=SECRETS["sales owner"], business_source="NOMINATED",
                 sold_rates=[{"code": "OFR", "unit_price": {"amount": OWN_PRICE,
                                                           "currency": "USD"}},
                             {"code": "THC", "unit_price": {"amount": SECRETS["sold rate"],
                                                           "currency": "CNY"}}],
                 booked_rates=[{"code": "OFR", "unit_price": {"amount": OWN_PRICE,
                                                             "currency": "USD"}}])


def _rich(svc: ShipmentService, ar: AccountService) -> UUID:
    sid = svc.request_booking(_order(["PO-A-1"]), DESK).shipment_id
    svc.review(sid, [RuleConfirmation(rule="rate_differs_from_handover",
                                      confirmed_by=SECRETS["route manager"], confirmed_at=NOW,
                                      note=SECRETS["review note"])], DESK)
    svc.confirm_by_carrier(sid, confirmation(carrier_booking_no="BK-A-1"), FEED)
    svc.notify_customer(sid, CustomerNotice(kind="BOOKING_CONFIRMATION",
                                            note=SECRETS["notice note"]), OWNER)
    n = svc.request_amendment(sid, amendment(
        [FieldChange(field="consignee.address", after="7 Pier Rd, Long Beach"),
         FieldChange(field="sales_owner", after=SECRETS["sales owner amended"])],
        "mail 2026-11-21", SECRETS["amendment reason"],
        [line("AMD", "35.00", counterparty=A),
         line("AMD", SECRETS["truck price"], direction="PAYABLE",
              counterparty=SECRETS["truck vendor"])],
        [SECRETS["notify list"]]), DESK).result
    svc.approve_amendment(sid, n, OWNER)
    n = svc.request_amendment(sid, amendment([FieldChange(field="remarks", after="fragile")],
                                             "mail 2026-11-22"), DESK).result
    svc.reject_amendment(sid, n, SECRETS["rejection reason"], OWNER)
    svc.submit_shipping_instructions(sid, shipping_instructions(), DESK)
    own = [line("OFR", OWN_PRICE, counterparty=A),
           line("OFR", SECRETS["buy price"], direction="PAYABLE", counterparty=SECRETS["vendor"]),
           line("DOC", SECRETS["other bill-to price"], counterparty=SECRETS["other bill-to"]),
           line("DTHC", "300.00", direction="COLLECT", counterparty="A-HK"),
           line("BAF", "41.00", counterparty=A)]
    for c in own:  # charges 3 to 7 (1 and 2 came with the amendment)
        svc.add_charge(sid, c, None, FIN)
    for n, price in ((1, "36.00"), (4, SECRETS["buy price adjusted"])):
        svc.adjust_charge(sid, n, ChargeChange(unit_price=usd(price),
                                               reason=SECRETS["adjustment reason"]), FIN)
    svc.void_charge(sid, 7, SECRETS["void reason"], FIN)
    svc.roll_over(sid, rollover(VesselVoyage(vessel="MAERSK EMDEN", voyage="250E"),
                                SECRETS["rollover reason"], NOW + timedelta(days=16),
                                NOW + timedelta(days=32)), TRK)
    x = svc.raise_exception(sid, ShipmentException(
        kind="CUSTOMS_INSPECTION", description=SECRETS["exception description"],
        location="CNSHA"), TRK).result
    svc.resolve_exception(sid, x, SECRETS["exception resolution"], TRK)
    loaded = NOW + timedelta(days=16)
    svc.record_milestone(sid, Milestone(kind="EQUIPMENT", code="LOAD", classifier="ACT",
                                        event_time=loaded, location="CNSHA",
                                        container_no="MSKU1234565"), FEED)
    svc.record_milestone(sid, Milestone(kind="TRANSPORT", code="DEPA", classifier="ACT",
                                        event_time=loaded, location="CNSHA"), FEED)
    svc.approve_bl_draft(sid, Approval(by=CUSTOMER_CONTACT, capacity="customer", at=NOW),
                         None, OWNER)
    svc.approve_bl_dating(sid, BlDating.BACK_DATED, SECRETS["sales request"],
                          SECRETS["dating reason"], MGR)
    svc.issue_bl(sid, BlIssue(bl_number="SFLW-A-1", shipped_on_board_date=(
        loaded - timedelta(days=2)).date(), place_of_issue="CNSHA",
        issue_date=loaded.date()), DESK)
    svc.record_sailing_outcome(sid, SailingOutcome.SHIPPED, SECRETS["outcome reason"], DESK)
    system = EventMeta.system("sla", NOW)
    svc.record_sla_breach(sid, "booking_confirmation", "booking_confirmation", NOW,
                          NOW + timedelta(hours=4), system)
    svc.record_sla_breach(sid, "demurrage", "demurrage", NOW, NOW + timedelta(days=7), system)
    _bill(ar, sid)
    return sid


def _bill(ar: AccountService, sid: UUID) -> None:
    invoice = ar.issue_invoice(A, invoice_request(sid, A, "USD", explanations=[
        ConceptExplanation(code="THC", reason=SECRETS["pre-invoice explanation"])],
        issue_date=date(2026, 11, 20)), FIN).result
    payment = ar.receive_payment(A, advice(usd("100.00"), "BANK-A-1", date(2026, 11, 25),
                                           "Alpha Trading", PaymentMethod.TRANSFER), FIN).result
    ar.apply_payment(A, payment.number, [app(invoice.number, "100.00")], None, FIN)
    ar.record_commitment(A, promise(usd("500.00"), date(2027, 1, 10), [invoice.number],
                                    "Mr Alpha Payer", SECRETS["commitment note"]), FIN)
    ar.issue_dunning_notice(A, dunning(DunningLevel.REMINDER, on=date(2027, 3, 1)), FIN)
    ar.place_hold(A, SECRETS["hold note"], FIN)
    ar.release_hold(A, SECRETS["release reason"], FIN)
