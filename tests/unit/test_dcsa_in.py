"""DCSA T&T in, one event at a time, and the amendment `before` that a TMS sends: what a
carrier or TMS integrator would expect."""

from __future__ import annotations

import pytest

from dcsa_events import tnt_event
from factories import NOW, amendment, meta, order
from shipflow.events.common import DomainError
from shipflow.events.shipment import amendments
from shipflow.events.shipment.records import FieldChange
from shipflow.events.shipment.tracking import Milestone, delay_reasons
from shipflow.integrations.dcsa import read_event
from shipflow.integrations.ingest import occurred_at


@pytest.mark.parametrize("code", ["INSP", "RSEA", "RMVD", "REQS", "CMPL"])
def test_codes_main_refused_are_read(code):
    item = read_event(tnt_event(f"u-{code}", code, "ACT", NOW, NOW, ("BKG", "BK1")))
    assert item.invalid is None and item.milestone is not None and item.milestone.code == code


def test_what_an_event_says_is_kept_on_the_milestone():
    e = tnt_event("u-depa", "DEPA", "EST", NOW, NOW, ("BKG", "BK1"), delayReasonCode="WEA",
                  changeRemark="Bad weather",
                  references=[{"referenceType": "FF", "referenceValue": "KF-001"}])
    e["transportCall"]["location"] = {"locationName": "Yangshan Deepwater Port",
                                      "UNLocationCode": "CNSHA"}
    m = read_event(e).milestone
    assert m is not None
    assert (m.delay_reason, m.change_remark, str(m.mode_of_transport)) == (
        "WEA", "Bad weather", "VESSEL")
    assert m.place is not None and m.place.name == "Yangshan Deepwater Port"
    assert [(str(r.type), r.value) for r in m.references] == [("FF", "KF-001")]
    empty = read_event(tnt_event("u-pick", "PICK", "ACT", NOW, NOW, empty="EMPTY")).milestone
    assert empty is not None and str(empty.empty_indicator) == "EMPTY"


def test_a_malformed_event_is_refused_with_the_specs_field_path():
    e = tnt_event("u-bad", "DEPA", "ACT", NOW, NOW)
    del e["transportCall"]["modeOfTransport"]
    assert read_event(e).invalid == (
        "dcsa_schema: transportCall.modeOfTransport: 'modeOfTransport' is required")
    unknown_delay = tnt_event("u-delay", "DEPA", "EST", NOW, NOW, delayReasonCode="XYZ")
    assert (read_event(unknown_delay).invalid or "").startswith("delay_reason_code")


def test_delay_reasons_are_the_smdg_list():
    reasons = delay_reasons()
    assert len(reasons) == 47 and reasons["WEA"] == "Bad weather" and "STR" in reasons


def test_an_actual_occurs_when_it_happened_an_estimate_when_it_was_made():
    later = NOW.replace(hour=20)
    act = Milestone(kind="TRANSPORT", code="DEPA", classifier="ACT", event_time=later)
    est = Milestone(kind="TRANSPORT", code="DEPA", classifier="EST", event_time=later)
    assert occurred_at(act, NOW) == later and occurred_at(est, NOW) == NOW


def test_a_milestone_stored_before_the_dcsa_fields_still_reads():
    from shipflow.events.transcodings import ModelTranscoding

    old = {"kind": "TRANSPORT", "code": "DEPA", "classifier": "ACT", "event_time": NOW,
           "location": "CNSHA", "facility": None, "vessel_voyage": None, "leg": 0,
           "container_no": None}
    m = ModelTranscoding(Milestone).decode(old)
    assert m.code == "DEPA" and m.references == [] and m.empty_indicator is None


def test_amendment_before_with_optional_keys_left_out_is_the_same_party():
    o = order(consignee={"name": "Acme Imports LLC", "address": "1 Harbor Dr, Long Beach"})
    sent_at_booking = {"name": "Acme Imports LLC", "address": "1 Harbor Dr, Long Beach"}
    amended, recorded = amendments.apply_changes(o, [FieldChange(
        field="consignee", before=sent_at_booking,
        after={"name": "Acme Imports West LLC", "address": "1 Harbor Dr, Long Beach"})])
    assert amended.consignee.name == "Acme Imports West LLC"
    assert recorded[0].before["email"] is None  # what it read, in full
    with pytest.raises(DomainError) as refused:
        amendments.apply_changes(o, [FieldChange(
            field="consignee", before={"name": "Someone Else"}, after=sent_at_booking)])
    assert refused.value.rule == "amendment_before_mismatch"
    assert amendment  # the factory stays the way the desks say it
    assert meta().source.value == "api"
