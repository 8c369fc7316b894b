"""An approval is of one B/L document: issue needs the document as it reads now to be the
one the customer approved, whatever event changed it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from factories import NOW, confirmation, meta, order, shipping_instructions
from shipflow.events.common import InvalidTransition
from shipflow.events.shipment.booking import Approval
from shipflow.events.shipment.documents import BlIssue
from shipflow.events.shipment.tracking import Milestone

M = meta()
SAILED = NOW + timedelta(days=15)
ISSUE = BlIssue(bl_number="SFLW2611000999", shipped_on_board_date=SAILED.date(),
                place_of_issue="CNSHA", issue_date=date(2026, 12, 6))


def approved(svc):
    sid = svc.request_booking(order(), M).shipment_id
    svc.review(sid, [], M)
    svc.confirm_by_carrier(sid, confirmation(), M)
    svc.submit_shipping_instructions(sid, shipping_instructions(), M)
    svc.record_milestone(sid, Milestone(kind="TRANSPORT", code="DEPA", classifier="ACT",
                                        event_time=SAILED), M)
    svc.approve_bl_draft(sid, Approval(by="Ms Chen", at=NOW), None, M)
    return sid


def test_a_new_carrier_booking_number_after_approval_needs_a_new_approval(memory_service):
    sid = approved(memory_service)
    memory_service.confirm_by_carrier(sid, confirmation(carrier_booking_no="255999999"), M)
    assert not memory_service.get(sid).bl_approval_current
    with pytest.raises(InvalidTransition) as refused:
        memory_service.issue_bl(sid, ISSUE, M)
    assert refused.value.rule == "bl_draft_not_approved"


def test_resubmitting_identical_instructions_keeps_the_approval(memory_service):
    sid = approved(memory_service)
    memory_service.submit_shipping_instructions(sid, shipping_instructions(), M)
    assert memory_service.get(sid).bl_approval_current
    assert memory_service.issue_bl(sid, ISSUE, M).events == ["BlIssued"]


def test_a_milestone_after_approval_does_not_touch_the_document(memory_service):
    sid = approved(memory_service)
    memory_service.record_milestone(sid, Milestone(
        kind="TRANSPORT", code="ARRI", classifier="EST", event_time=NOW + timedelta(days=31)), M)
    assert memory_service.get(sid).bl_approval_current


def test_approving_a_version_that_is_no_longer_current_is_refused(memory_service):
    sid = approved(memory_service)  # draft v1 (booking), v2 (confirmation), v3 (SI)
    version = memory_service.get(sid).version
    with pytest.raises(InvalidTransition) as refused:
        memory_service.approve_bl_draft(sid, Approval(by="Ms Chen", at=NOW), 2, M)
    assert (refused.value.rule, refused.value.field) == ("bl_draft_version_stale",
                                                         "draft_version")
    assert memory_service.get(sid).version == version
    assert memory_service.approve_bl_draft(sid, Approval(by="Ms Chen", at=NOW), 3, M).events
