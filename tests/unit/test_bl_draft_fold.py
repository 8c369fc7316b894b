"""The B/L draft fold on hand-built event sequences: versions only on B/L changes, approval
of one version, DRAFT again after a change, ISSUED; and the field-by-field diff."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from factories import (
    NOW,
    amendment,
    confirmation,
    meta,
    order,
    rollover,
    shipping_instructions,
    si_data,
)
from shipflow.events.common import InvalidTransition, VesselVoyage
from shipflow.events.shipment.booking import Approval
from shipflow.events.shipment.charges import ChargeLine
from shipflow.events.shipment.documents import BlIssue
from shipflow.events.shipment.records import FieldChange
from shipflow.events.shipment.tracking import CustomerNotice, Milestone
from shipflow.projections.bl_draft import (
    APPROVED,
    DRAFT,
    ISSUED,
    BlDraftProjection,
    as_of,
    diff,
)
from shipflow.projections.engine.base import fold

M = meta()
DEPARTED = NOW + timedelta(days=15)
NEXT_VESSEL = VesselVoyage(vessel="MAERSK EMDEN", voyage="250E")
SECOND_BOX = "MSKU7654328"


def view_of(svc, sid):
    return fold(BlDraftProjection(), svc.history(sid))[1]


def booked(svc):
    sid = svc.request_booking(order(), M).shipment_id
    svc.review(sid, [], M)
    svc.confirm_by_carrier(sid, confirmation(), M)
    return sid


def with_si(svc):
    sid = booked(svc)
    svc.submit_shipping_instructions(sid, shipping_instructions(), M)
    return sid


def approve(svc, sid, version=None, by="Ms Chen (Acme)"):
    svc.approve_bl_draft(sid, Approval(by=by, at=NOW), version, M)


def charge() -> ChargeLine:
    return ChargeLine.model_validate({
        "direction": "RECEIVABLE", "code": "OFR", "quantity": "1", "counterparty": "CUST-ACME",
        "unit_price": {"amount": "1850.00", "currency": "USD"}})


def depa(classifier="ACT", at=DEPARTED) -> Milestone:
    return Milestone(kind="TRANSPORT", code="DEPA", classifier=classifier, event_time=at,
                     location="CNSHA")


def amend(svc, sid, field="consignee.address", after="2 Harbor Dr, Long Beach", fees=()):
    n = svc.request_amendment(sid, amendment([FieldChange(field=field, after=after)],
                              "email from shipper 2026-11-21", "consignee moved", list(fees),
                              ["customs_broker"]), M).result
    return n


def caused(view):
    return [v.caused_by for v in view.versions]


def test_the_first_draft_is_version_1_from_the_booking(memory_service):
    sid = memory_service.request_booking(order(), meta(actor="sales.li")).shipment_id
    view = view_of(memory_service, sid)
    first = memory_service.history(sid)[0]
    assert view.shipment_id == sid and view.status == DRAFT and view.approved_version is None
    assert [(v.version, v.caused_by, v.event_version, v.actor, v.recorded_at)
            for v in view.versions] == [(1, "BookingRequested", 1, "sales.li", first.timestamp)]
    assert fold(BlDraftProjection(), [])[1] is None


def test_versions_only_when_a_bl_field_changes(memory_service):
    sid = booked(memory_service)
    memory_service.add_charge(sid, charge(), None, M)
    memory_service.record_milestone(sid, depa("EST", DEPARTED + timedelta(days=1)), M)
    memory_service.notify_customer(sid, CustomerNotice(kind="BOOKING_CONFIRMATION"), M)
    memory_service.submit_shipping_instructions(sid, shipping_instructions(), M)
    memory_service.submit_shipping_instructions(sid, shipping_instructions(), M)  # same again
    memory_service.record_milestone(sid, depa(), M)
    view = view_of(memory_service, sid)
    assert caused(view) == ["BookingRequested", "CarrierConfirmed",
                            "ShippingInstructionsSubmitted"]
    names = [type(e).__name__ for e in memory_service.history(sid)]
    assert "ScheduleChanged" in names and "MilestoneRecorded" in names
    assert [v.event_version for v in view.versions] == [
        1, 3, names.index("ShippingInstructionsSubmitted") + 1]
    assert view.version == 3 and view.status == DRAFT


def test_a_carrier_reconfirmation_changes_the_draft_only_if_it_changes_the_bl(memory_service):
    sid = with_si(memory_service)
    later = {"etd": (NOW + timedelta(days=16)).isoformat()}
    memory_service.confirm_by_carrier(sid, confirmation(**later), M)  # only the ETD
    assert view_of(memory_service, sid).version == 3
    memory_service.confirm_by_carrier(sid, confirmation(**later, vessel_voyage={
        "vessel": "MAERSK EMDEN", "voyage": "250E"}), M)
    view = view_of(memory_service, sid)
    assert caused(view)[-1] == "CarrierConfirmed" and view.version == 4
    assert diff(view.at_version(3).document, view.document) == [
        {"path": "transports.vesselVoyages.0.vesselName", "before": "MAERSK ESSEN",
         "after": "MAERSK EMDEN"},
        {"path": "transports.vesselVoyages.0.carrierExportVoyageNumber", "before": "248E",
         "after": "250E"}]


def test_rollover_after_si_and_approval_is_a_new_version_and_drafts_again(memory_service):
    sid = with_si(memory_service)
    approve(memory_service, sid, 3)
    assert (view_of(memory_service, sid).status, view_of(memory_service, sid).approved_version) \
        == (APPROVED, 3)
    memory_service.roll_over(sid, rollover(NEXT_VESSEL, "vessel full", NOW + timedelta(days=22),
                             NOW + timedelta(days=37), 0), meta(actor="cs.li"))
    view = view_of(memory_service, sid)
    assert caused(view) == ["BookingRequested", "CarrierConfirmed",
                            "ShippingInstructionsSubmitted", "RolledOver"]
    assert view.current.actor == "cs.li"
    assert view.status == DRAFT and view.approved_version == 3
    assert view.document["transports"]["vesselVoyages"][0]["vesselName"] == "MAERSK EMDEN"
    # the containers, seals and weights of the SI are still there on the new vessel
    assert view.document["utilizedTransportEquipments"] == \
        view.at_version(3).document["utilizedTransportEquipments"]
    approve(memory_service, sid)  # None: the current version
    view = view_of(memory_service, sid)
    assert (view.status, view.approved_version) == (APPROVED, 4)


def test_an_amendment_after_approval_is_a_new_version_and_drafts_again(memory_service):
    sid = with_si(memory_service)
    approve(memory_service, sid)
    n = amend(memory_service, sid, fees=[charge()])
    view = view_of(memory_service, sid)
    assert (view.version, view.status) == (3, APPROVED)  # requested is not approved
    memory_service.approve_amendment(sid, n, M)
    events = [type(e).__name__ for e in memory_service.history(sid)]
    assert events[-2:] == ["AmendmentApproved", "ChargeAdded"]
    view = view_of(memory_service, sid)
    assert caused(view)[-1] == "AmendmentApproved" and view.version == 4
    assert view.current.event_version == len(events) - 1
    assert (view.status, view.approved_version) == (DRAFT, 3)
    assert diff(view.at_version(3).document, view.document) == [
        {"path": "documentParties.consignee.displayedAddress.0",
         "before": "1 Harbor Dr, Long Beach", "after": "2 Harbor Dr, Long Beach"}]


def test_a_rejected_amendment_changes_nothing(memory_service):
    sid = with_si(memory_service)
    n = amend(memory_service, sid, field="pod", after="MXZLO")
    memory_service.reject_amendment(sid, n, "customer withdrew it", M)
    assert view_of(memory_service, sid).version == 3


def test_only_the_current_version_can_be_approved(memory_service):
    sid = with_si(memory_service)
    n = amend(memory_service, sid)
    memory_service.approve_amendment(sid, n, M)
    view = view_of(memory_service, sid)
    assert view.version == 4
    for stale in (3, 9):  # an older version, a version that does not exist
        with pytest.raises(InvalidTransition, match="bl_draft_version_stale"):
            approve(memory_service, sid, stale)
        assert view_of(memory_service, sid) == view
    approve(memory_service, sid, 4)
    view = view_of(memory_service, sid)
    assert (view.status, view.approved_version) == (APPROVED, 4)


def test_issue_is_a_new_version_with_status_issued(memory_service):
    sid = with_si(memory_service)
    memory_service.record_milestone(sid, depa(), M)
    approve(memory_service, sid)
    memory_service.issue_bl(sid, BlIssue(
        bl_number="SFLW2611000123", shipped_on_board_date=DEPARTED.date(),
        place_of_issue="CNSHA", issue_date=date(2026, 12, 5)), meta(actor="docs.zhou"))
    view = view_of(memory_service, sid)
    assert (view.status, view.version, view.approved_version) == (ISSUED, 4, 3)
    assert (view.current.caused_by, view.current.actor) == ("BlIssued", "docs.zhou")
    changed = {d["path"] for d in diff(view.at_version(3).document, view.document)}
    assert changed == {"transportDocumentReference", "shippedOnBoardDate", "issueDate",
                       "placeOfIssue"}
    memory_service.add_charge(sid, charge(), None, M)
    assert view_of(memory_service, sid) == view
    # the issued document stands: a transshipment rollover after issue is no new version
    memory_service.roll_over(sid, rollover(NEXT_VESSEL, "missed connection",
                                           DEPARTED + timedelta(days=9),
                             DEPARTED + timedelta(days=20), 1), M)
    assert view_of(memory_service, sid) == view


def test_views_do_not_share_state_with_the_shipment_they_were_folded_from(memory_service):
    sid = with_si(memory_service)
    memory_service.roll_over(sid, rollover(NEXT_VESSEL, "vessel full", NOW + timedelta(days=22),
                             NOW + timedelta(days=37), 0), M)
    events = memory_service.history(sid)
    projection, shipment, view, views = BlDraftProjection(), None, None, []
    for event in events:  # one Shipment object, mutated in place, as a runner folds
        shipment = event.mutate(shipment)
        view = projection.evolve(view, event, shipment)
        views.append(view)
    assert views[3].document["transports"]["vesselVoyages"][0]["vesselName"] == "MAERSK ESSEN"
    assert views[3] == as_of(events[:4])
    assert view.document["transports"]["vesselVoyages"][0]["vesselName"] == "MAERSK EMDEN"


def test_as_of_folds_up_to_a_recorded_time(memory_service):
    sid = with_si(memory_service)
    events = memory_service.history(sid)
    before_si = as_of(events, events[-2].timestamp)
    assert before_si.version == 2 and before_si.document["utilizedTransportEquipments"] == []
    assert as_of(events, events[0].timestamp - timedelta(seconds=1)) is None
    assert as_of(events).as_current()["version"] == 3


def test_diff_matches_equipment_by_reference_not_position(memory_service):
    sid = booked(memory_service)
    first = dict(si_data()["containers"][0])
    second = dict(first, container_no=SECOND_BOX, seals=["ML654321"])
    memory_service.submit_shipping_instructions(
        sid, shipping_instructions(containers=[first, second]), M)
    resealed = dict(second, seals=["ML999999"])
    memory_service.submit_shipping_instructions(
        sid, shipping_instructions(containers=[resealed, first]), M)  # reordered, one resealed
    view = view_of(memory_service, sid)
    assert caused(view)[-1] == "ShippingInstructionsSubmitted" and view.version == 4
    assert diff(view.at_version(3).document, view.document) == [
        {"path": f"utilizedTransportEquipments.{SECOND_BOX}.seals.0.number",
         "before": "ML654321", "after": "ML999999"}]


def test_diff_of_whole_values_and_plain_lists():
    a = {"x": 1, "carrierClauses": ["A", "B"], "documentParties": {"notifyParties": []},
         "utilizedTransportEquipments": [{"equipment": {"equipmentReference": "MSKU1234565"}}]}
    b = {"x": 1, "carrierClauses": ["A"], "documentParties": {"notifyParties": [{"p": 1}]},
         "utilizedTransportEquipments": [], "new": {"y": 2}}
    assert diff(a, b) == [
        {"path": "carrierClauses.1", "before": "B", "after": None},
        {"path": "documentParties.notifyParties.0", "before": None, "after": {"p": 1}},
        {"path": "utilizedTransportEquipments.MSKU1234565",
         "before": {"equipment": {"equipmentReference": "MSKU1234565"}}, "after": None},
        {"path": "new", "before": None, "after": {"y": 2}}]
    assert diff(a, a) == []
