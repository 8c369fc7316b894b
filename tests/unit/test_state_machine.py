"""The Shipment aggregate's statuses and every refusal it has, through the application service.

A refused command raises a named DomainError of the right class and records nothing: each
refusal here also checks that the shipment's version and history are unchanged.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from uuid import uuid4

import pytest

from factories import (
    NOW,
    amendment,
    confirmation,
    meta,
    order,
    rollover,
    shipping_instructions,
)
from shipflow.events.common import (
    DomainError,
    InvalidTransition,
    NotFound,
    NotPermitted,
    RulesBroken,
    VesselVoyage,
)
from shipflow.events.shipment.aggregate import Shipment
from shipflow.events.shipment.booking import Approval
from shipflow.events.shipment.charges import ChargeChange, ChargeLine
from shipflow.events.shipment.documents import BlDating, BlIssue
from shipflow.events.shipment.records import (
    BookingStatus,
    FieldChange,
    RuleConfirmation,
    SailingOutcome,
)
from shipflow.events.shipment.tracking import Milestone, ShipmentException

M = meta()
MANAGER = meta("ops.zhou", "manager")
DEPARTED = NOW + timedelta(days=15)
DEPARTED_DAY = DEPARTED.date()
NEXT_VESSEL = VesselVoyage(vessel="MAERSK EMDEN", voyage="250E")
SHIPPED, SHUT_OUT = SailingOutcome.SHIPPED, SailingOutcome.SHUT_OUT
HELD = ShipmentException(kind="HELD_BACK", description="held by customs")
DRAFT_OK = Approval(by="Ms Chen (Acme)", at=NOW)
BOX = shipping_instructions().containers[0].model_dump()
S = BookingStatus


# --- helpers -------------------------------------------------------------------------------


def do(command: str, *args, **kwargs):
    """A step that runs one service command on the shipment."""
    return lambda svc, sid: getattr(svc, command)(sid, *args, **kwargs)


def reach(sid, svc, *steps):
    """Run the steps on the shipment, in order; return its id."""
    for step in steps:
        step(svc, sid)
    return sid


def booked(svc, *steps, **overrides):
    sid = svc.request_booking(order(**overrides), M).shipment_id
    return reach(sid, svc, do("review", [], M), confirm(), *steps)


def change(field="consignee.address", after="2 Harbor Dr, Long Beach", before=None):
    return do("request_amendment", amendment([FieldChange(field=field, after=after, before=before)],
              "email from shipper 2026-11-21", "consignee moved", [], ["customs_broker"]), M)


def depa(at: datetime = DEPARTED, classifier: str = "ACT") -> Milestone:
    return Milestone(kind="TRANSPORT", code="DEPA", classifier=classifier, event_time=at,
                     location="CNSHA")


def bl(on_board: date = DEPARTED_DAY, **kw) -> BlIssue:
    return BlIssue(bl_number="SFLW2611000123", shipped_on_board_date=on_board,
                   place_of_issue="CNSHA", issue_date=date(2026, 12, 5), **kw)


def charge(code="OFR", reason=None) -> ChargeLine:
    return ChargeLine.model_validate({
        "direction": "RECEIVABLE", "code": code, "quantity": "1", "counterparty": "CUST-ACME",
        "unit_price": {"amount": "1850.00", "currency": "USD"}, "reason": reason})


def roll(to=NEXT_VESSEL, eta=DEPARTED + timedelta(days=16), leg=0):
    return do("roll_over", rollover(to, "no space", DEPARTED, eta, leg), M)


def confirm(**kw):
    return do("confirm_by_carrier", confirmation(**kw), M)


DEPART = do("record_milestone", depa(), M)
SI = do("submit_shipping_instructions", shipping_instructions(), M)
APPROVE_DRAFT = do("approve_bl_draft", DRAFT_OK, None, M)
SHIP = do("record_sailing_outcome", SHIPPED, "", M)
ADD_CHARGE = do("add_charge", charge(), None, M)


def refuses(svc, sid, command, error: type[DomainError], rule: str) -> DomainError:
    """The command is refused with exactly this class and rule, and nothing is recorded."""
    version, history = svc.get(sid).version, len(svc.history(sid))
    with pytest.raises(DomainError) as e:
        command()
    assert type(e.value) is error, e.value
    assert e.value.rule == rule
    assert svc.get(sid).version == version
    assert len(svc.history(sid)) == history
    return e.value


def status(svc, sid) -> BookingStatus:
    return svc.get(sid).status


def received(svc, **overrides):
    return svc.request_booking(order(**overrides), M).shipment_id


def reviewed(svc, **overrides):
    return reach(received(svc, **overrides), svc, do("review", [], M))


SETUPS = {
    "received": received,
    "on hold": lambda svc: reviewed(svc, customer_signature_ref=None),
    "booked": booked,
    "departed": lambda svc: booked(svc, DEPART),
    "amending": lambda svc: booked(svc, change()),
    "amended": lambda svc: booked(svc, change(), do("approve_amendment", 1, M)),
    "drafted": lambda svc: booked(svc, DEPART, SI, APPROVE_DRAFT),
    "issued": lambda svc: booked(svc, DEPART, SI, APPROVE_DRAFT, do("issue_bl", bl(), M)),
    "shipped": lambda svc: booked(svc, SHIP),
    "held back": lambda svc: booked(svc, SHIP, do("raise_exception", HELD, M)),
    "resolved": lambda svc: booked(svc, do("raise_exception", HELD, M),
                                   do("resolve_exception", 1, "released", M)),
    "charged": lambda svc: booked(svc, ADD_CHARGE),
    "voided": lambda svc: booked(svc, ADD_CHARGE, do("void_charge", 1, "billed twice", M)),
    "rejected": lambda svc: reach(reviewed(svc), svc, do("reject_by_carrier", "no space", M)),
    "declined": lambda svc: booked(svc, do("decline", "port omitted", M)),
    "cancelled": lambda svc: booked(svc, do("cancel", "customer cancelled", M)),
    "completed": lambda svc: booked(svc, DEPART, SHIP, do("close_shipment", "done", M)),
}


# --- statuses ------------------------------------------------------------------------------


def test_review_hold_confirmation_and_amendment_statuses(memory_service):
    svc = memory_service
    sid = received(svc, customer_signature_ref=None)
    assert status(svc, sid) is S.RECEIVED
    svc.review(sid, [], M)
    assert status(svc, sid) is S.PENDING_UPDATE
    yes = RuleConfirmation(rule="customer_signature_required", confirmed_by="route mgr Zhao",
                           confirmed_at=NOW)
    svc.review(sid, [yes], M)
    assert status(svc, sid) is S.RECEIVED
    svc.confirm_by_carrier(sid, confirmation(), M)
    assert status(svc, sid) is S.CONFIRMED
    change()(svc, sid)
    assert status(svc, sid) is S.PENDING_AMENDMENT
    svc.approve_amendment(sid, 1, M)
    assert status(svc, sid) is S.CONFIRMED
    change(after="3 Harbor Dr")(svc, sid)
    svc.reject_amendment(sid, 2, "customer withdrew it", M)
    assert status(svc, sid) is S.CONFIRMED


def test_carrier_confirmation_during_an_amendment_takes_effect_when_it_is_decided(memory_service):
    svc = memory_service
    sid = reach(reviewed(svc), svc, change(), confirm())
    assert status(svc, sid) is S.PENDING_AMENDMENT
    svc.approve_amendment(sid, 1, M)
    assert status(svc, sid) is S.CONFIRMED


TERMINAL = ["rejected", "declined", "cancelled", "completed"]
ON_FINAL = {
    "review": do("review", [], M),
    "confirm": confirm(carrier_booking_no="255999999"),
    "amend": change(),
    "cancel": do("cancel", "again", M),
    "milestone": do("record_milestone", depa(classifier="EST"), M),
    "exception": do("raise_exception", ShipmentException(kind="STRIKE", description="strike"), M),
    "close": do("close_shipment", "again", M),
}


@pytest.mark.parametrize("command", ON_FINAL)
@pytest.mark.parametrize("final", TERMINAL)
def test_terminal_statuses_refuse_commands(memory_service, final, command):
    sid = SETUPS[final](memory_service)
    assert status(memory_service, sid) is S(final.upper())
    refuses(memory_service, sid, lambda: ON_FINAL[command](memory_service, sid),
            InvalidTransition, f"shipment_{final}")


def test_a_claim_may_still_be_raised_on_a_completed_job(memory_service):
    sid = SETUPS["completed"](memory_service)
    claim = ShipmentException(kind="CLAIM", description="two cartons crushed")
    assert memory_service.raise_exception(sid, claim, M).result == 1
    assert status(memory_service, sid) is S.COMPLETED


@pytest.mark.parametrize(("final", "ending"), [
    (S.CANCELLED, do("cancel", "customer cancelled", M)),
    (S.DECLINED, do("decline", "port omitted", M)),
    (S.REJECTED, do("reject_by_carrier", "no space", M)),
], ids=["cancelled", "declined", "rejected"])
@pytest.mark.parametrize("decide", [do("approve_amendment", 1, M),
                                    do("reject_amendment", 1, "too late", M)],
                         ids=["approve", "reject"])
def test_deciding_an_amendment_does_not_revive_a_final_shipment(memory_service, final, ending,
                                                                decide):
    svc = memory_service
    sid = reviewed(svc)
    if final is not S.REJECTED:
        confirm()(svc, sid)
    reach(sid, svc, change(), ending)
    assert status(svc, sid) is final
    with pytest.raises(InvalidTransition):
        decide(svc, sid)
    assert status(svc, sid) is final


# --- every refusal -------------------------------------------------------------------------

IT, NP, NF, RB, DE = InvalidTransition, NotPermitted, NotFound, RulesBroken, DomainError
REFUSALS = [  # (state, command, class, rule, field or None)
    # review and carrier
    ("received", confirm(), IT, "review_not_accepted", None),
    ("on hold", confirm(), IT, "review_not_accepted", None),
    ("booked", confirm(vessel_voyage={"vessel": "TEMP"}), DE, "vessel_placeholder_not_allowed",
     "vessel_voyage"),
    ("booked", confirm(vessel_voyage={"vessel": "temp", "voyage": "X"}), DE,
     "vessel_placeholder_not_allowed", "vessel_voyage"),
    ("booked", confirm(eta=NOW.isoformat()), DE, "eta_before_etd", "eta"),
    ("booked", confirm(), IT, "confirmation_unchanged", None),
    ("departed", confirm(vessel_voyage=NEXT_VESSEL.model_dump()), IT, "already_departed", None),
    ("booked", do("review", [], M), IT, "review_after_confirmation", None),
    ("booked", do("reject_by_carrier", "x", M), IT, "already_confirmed", None),
    ("received", do("decline", "x", M), IT, "not_confirmed", None),
    ("shipped", do("decline", "x", M), IT, "already_shipped", None),
    # amendments
    ("booked", change("pod", "PHMNL"), RB, "terminal_required", "pod_terminal"),  # Manila
    ("booked", change("pod", "XXABC"), RB, "unlocode_country", "pod"),
    ("booked", change("equipment.0.size_type", "20GP"), RB, "iso6346_size_type",
     "equipment.0.size_type"),
    ("booked", change("cs_owner", "cs.li"), DE, "field_not_amendable", "changes.0.field"),
    ("booked", change("customer_id", "CUST-X"), DE, "field_not_amendable", "changes.0.field"),
    ("booked", change("colour", "red"), DE, "unknown_field", "changes.0.field"),
    ("booked", change("consignee.colour", "red"), DE, "unknown_field", "changes.0.field"),
    ("booked", change("equipment.5.count", 2), DE, "unknown_field", "changes.0.field"),
    ("booked", change("pod", "USLGB", before="USNYC"), DE, "amendment_before_mismatch",
     "changes.0.before"),
    ("booked", change("pod", "uslax"), DE, "amendment_changes_nothing", "changes"),
    ("booked", do("request_amendment", amendment([], "ref", "r", [], []), M), DE, "amendment_empty",
     "changes"),
    ("booked", do("request_amendment", amendment([FieldChange(field="remarks", after="x")], "ref",
                                                 "r",
                  [charge("REHANDLING")], []), M), RB, "extra_cost_reason_required", "reason"),
    ("amending", change("remarks", "x"), IT, "amendment_pending", None),
    ("amending", do("approve_amendment", 1, meta(actor="cs.li")), NP, "original_cs_only", None),
    ("amending", do("reject_amendment", 1, "no", meta(actor="cs.li")), NP, "original_cs_only",
     None),
    ("amending", do("approve_amendment", 7, M), NF, "amendment_not_found", None),
    ("amended", do("approve_amendment", 1, M), IT, "amendment_decided", None),
    ("amending", do("approve_bl_draft", DRAFT_OK, None, M), IT, "amendment_pending", None),
    ("amending", do("close_shipment", "x", M), IT, "amendment_pending", None),
    ("issued", change("remarks", "x"), IT, "bl_already_issued", None),
    ("issued", SI, IT, "bl_already_issued", None),
    ("issued", do("cancel", "x", M), IT, "bl_already_issued", None),
    ("issued", do("issue_bl", bl(), M), IT, "bl_already_issued", None),
    # shipping instructions and B/L
    ("received", SI, IT, "not_confirmed", None),
    ("booked", do("submit_shipping_instructions", shipping_instructions(containers=[BOX, BOX]),
                  M), DE, "duplicate_container", "containers.1.container_no"),
    ("booked", do("submit_shipping_instructions",
                  shipping_instructions(containers=[{**BOX, "vgm_kg": "14000"}]), M), DE,
     "vgm_below_cargo_weight", "containers.0.vgm_kg"),
    ("booked", APPROVE_DRAFT, IT, "si_missing", None),
    ("booked", do("issue_bl", bl(), M), IT, "bl_draft_not_approved", None),
    ("drafted", do("issue_bl", bl(DEPARTED_DAY - timedelta(days=1)), M), NP,
     "bl_dating_requires_manager_approval", "shipped_on_board_date"),
    ("drafted", do("approve_bl_dating", BlDating.BACK_DATED, "SR", "r", M), NP,
     "manager_role_required", None),
    ("drafted", do("approve_bl_dating", BlDating.NORMAL, "SR", "r", MANAGER), DE,
     "dating_not_special", "dating"),
    ("drafted", do("issue_bl", bl(document_type="SWB", release="SEAWAY"), M), DE,
     "sea_waybill_has_no_originals", "release"),
    # tracking
    ("received", DEPART, IT, "not_confirmed", None),
    ("cancelled", DEPART, IT, "shipment_cancelled", None),
    ("received", roll(), IT, "not_confirmed", None),
    ("booked", roll(to=VesselVoyage(vessel="TEMP")), DE, "vessel_placeholder_not_allowed",
     "to_vessel_voyage"),
    ("booked", roll(eta=DEPARTED), DE, "eta_before_etd", "new_eta"),
    ("booked", roll(to=VesselVoyage(vessel="MAERSK ESSEN", voyage="248E")), IT,
     "rollover_to_same_sailing", None),
    ("departed", roll(), IT, "already_departed", None),
    ("shipped", roll(), IT, "already_departed", None),
    ("resolved", do("resolve_exception", 1, "again", M), IT, "exception_already_resolved", None),
    ("booked", do("resolve_exception", 9, "x", M), NF, "exception_not_found", None),
    # sailing outcome, cancel, close
    ("booked", do("close_shipment", "x", M), IT, "not_shipped", None),
    ("booked", do("record_sailing_outcome", SHUT_OUT, " ", M), DE, "shut_out_reason_required",
     "reason"),
    ("shipped", SHIP, IT, "already_shipped", None),
    ("shipped", do("cancel", "x", M), IT, "already_shipped", None),
    ("held back", do("close_shipment", "x", M), IT, "open_exceptions", None),
    # charges
    ("booked", do("add_charge", charge("DEMURRAGE"), None, M), RB, "extra_cost_reason_required",
     "reason"),
    ("booked", do("add_charge", charge("STORAGE", "  "), None, M), RB,
     "extra_cost_reason_required", "reason"),
    ("booked", do("add_charge", charge(), 3, M), NF, "amendment_not_found", "amendment_number"),
    ("charged", do("adjust_charge", 1, ChargeChange(quantity="1.000", reason="recheck"), M), IT,
     "charge_unchanged", None),
    ("charged", do("adjust_charge", 9, ChargeChange(quantity="2", reason="x"), M), NF,
     "charge_not_found", None),
    ("voided", do("adjust_charge", 1, ChargeChange(quantity="2", reason="two boxes"), M), IT,
     "charge_voided", None),
    ("voided", do("void_charge", 1, "again", M), IT, "charge_voided", None),
    ("completed", ADD_CHARGE, IT, "shipment_completed", None),
]


@pytest.mark.parametrize(("state", "command", "error", "rule", "field"), REFUSALS,
                         ids=[f"{r[0]}-{r[3]}-{i}" for i, r in enumerate(REFUSALS)])
def test_refused(memory_service, state, command, error, rule, field):
    sid = SETUPS[state](memory_service)
    err = refuses(memory_service, sid, lambda: command(memory_service, sid), error, rule)
    if field is not None:
        assert err.field == field


def test_what_remains_allowed_after_departure(memory_service):
    svc = memory_service
    # a corrected booking number on the same vessel, and a rollover at transshipment
    sid = booked(svc, DEPART, confirm(carrier_booking_no="255123457"), roll(leg=1))
    assert svc.get(sid).legs[1] == NEXT_VESSEL
    assert svc.get(sid).confirmation.carrier_booking_no == "255123457"


def test_unknown_shipment(memory_service):
    with pytest.raises(NotFound) as e:
        memory_service.get(uuid4())
    assert e.value.rule == "shipment_not_found"


# --- B/L approval and dating ---------------------------------------------------------------

INVALIDATE = {
    "amendment": lambda svc, sid: reach(sid, svc, change(), do("approve_amendment", 1, M)),
    "new SI": do("submit_shipping_instructions",
                 shipping_instructions(marks_and_numbers="ACME / LA / 1-121"), M),
    "rollover": roll(),
    "vessel change": confirm(vessel_voyage=NEXT_VESSEL.model_dump()),
}


@pytest.mark.parametrize("later", INVALIDATE)
def test_a_later_change_invalidates_the_draft_approval(memory_service, later):
    svc = memory_service
    sid = booked(svc, SI, APPROVE_DRAFT, INVALIDATE[later], DEPART)
    refuses(svc, sid, lambda: svc.issue_bl(sid, bl(), M), InvalidTransition,
            "bl_draft_not_approved")
    svc.approve_bl_draft(sid, DRAFT_OK, None, M)  # the current version, approved again
    assert svc.issue_bl(sid, bl(), M).result is BlDating.NORMAL


def test_an_approved_draft_is_issued_as_a_sea_waybill(memory_service):
    sid = SETUPS["drafted"](memory_service)
    swb = bl(document_type="SWB", release="SEAWAY", number_of_originals=0)
    assert memory_service.issue_bl(sid, swb, M).result is BlDating.NORMAL
    assert memory_service.get(sid).bl_issue == swb


@pytest.mark.parametrize(("departed", "on_board", "dating"), [
    (True, DEPARTED_DAY - timedelta(days=2), BlDating.BACK_DATED),
    (True, DEPARTED_DAY + timedelta(days=1), BlDating.POST_DATED),
    (False, DEPARTED_DAY, BlDating.ADVANCE),
])
def test_special_bl_dating_needs_a_manager(memory_service, departed, on_board, dating):
    svc = memory_service
    sid = booked(svc, *([DEPART] if departed else []), SI, APPROVE_DRAFT)
    err = refuses(svc, sid, lambda: svc.issue_bl(sid, bl(on_board), M), NotPermitted,
                  "bl_dating_requires_manager_approval")
    assert str(dating) in err.detail
    refuses(svc, sid, lambda: svc.approve_bl_dating(sid, dating, "SR-1", "L/C expiry", M),
            NotPermitted, "manager_role_required")
    # approving another kind of dating does not cover this one
    other = next(d for d in BlDating if d not in (dating, BlDating.NORMAL))
    svc.approve_bl_dating(sid, other, "SR-1", "L/C expiry", MANAGER)
    refuses(svc, sid, lambda: svc.issue_bl(sid, bl(on_board), M), NotPermitted,
            "bl_dating_requires_manager_approval")
    svc.approve_bl_dating(sid, dating, "SR-2", "L/C expiry", MANAGER)
    assert svc.issue_bl(sid, bl(on_board), M).result is dating


def test_bl_dating_uses_the_local_date_at_the_port_of_loading(memory_service):
    # sailed 01:30 on 6 Dec in Shanghai, which is 17:30 on 5 Dec in UTC
    sailed = datetime.fromisoformat("2026-12-06T01:30:00+08:00")
    sid = booked(memory_service, do("record_milestone", depa(sailed), M))
    s = memory_service.get(sid)
    assert s.bl_dating(date(2026, 12, 6)) is BlDating.NORMAL
    assert s.bl_dating(date(2026, 12, 5)) is BlDating.BACK_DATED


# --- nothing recorded ----------------------------------------------------------------------


def test_a_refused_command_leaves_the_aggregate_untouched():
    s = Shipment.request(order(), M)
    s.review(M, [])
    before = (s.version, len(s.pending_events), s.status, s.confirmation)
    with pytest.raises(DomainError):
        s.confirm_by_carrier(confirmation(vessel_voyage={"vessel": "TEMP"}), M)
    with pytest.raises(DomainError):
        s.request_amendment(amendment([FieldChange(field="pod", after="PHMNL")], "ref", "r"), M)
    assert (s.version, len(s.pending_events), s.status, s.confirmation) == before
    assert s.order == order() and s.amendments == []


def test_a_refused_booking_request_records_nothing(memory_service):
    with pytest.raises(RulesBroken) as e:
        memory_service.request_booking(order(pod="PHMNL", place_of_delivery="PHMNL"), M)
    assert e.value.rule == "terminal_required"
    assert list(memory_service.store.notification_log.select(start=1, limit=10)) == []
