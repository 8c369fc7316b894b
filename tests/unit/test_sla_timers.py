"""SLA timer rules: each timer started, met, breached, met late and cancelled by real commands
on the in-memory store, then read by folding the shipment's history with SlaProjection."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from factories import (
    NOW,
    amendment,
    confirmation,
    confirmation_data,
    meta,
    order,
    rollover,
    shipping_instructions,
)
from shipflow.events.common import VesselVoyage
from shipflow.events.shipment.records import FieldChange, SailingOutcome
from shipflow.events.shipment.tracking import CustomerNotice, Milestone, ShipmentException
from shipflow.projections.engine.base import fold
from shipflow.projections.sla.config import DEFAULT_CONFIG, SlaConfig
from shipflow.projections.sla.timers import (
    BREACHED,
    CANCELLED,
    MET,
    OPEN,
    SlaProjection,
    SlaTimer,
    SlaView,
    pickup_due,
)

SHA = ZoneInfo("Asia/Shanghai")
BOX = "MSKU1234565"
DRAYAGE = {"method": "DRAYAGE", "pickup_at": "2026-11-18T09:00:00+08:00",
           "pickup_address": "88 Century Ave", "contact": "Mr Li 138"}


def sh(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=SHA).astimezone(UTC)


def at(when: datetime, actor: str = "cs.wang", role: str = "cs"):  # noqa: ANN201
    return meta(actor, role, occurred_at=when)


def view_of(svc, sid, config: SlaConfig = DEFAULT_CONFIG) -> SlaView:
    _, view = fold(SlaProjection(config), svc.history(sid))
    assert view is not None
    return view


def timer(svc, sid, key: str, config: SlaConfig = DEFAULT_CONFIG) -> SlaTimer:
    found = view_of(svc, sid, config).get(key)
    assert found is not None, f"no timer {key}: {[t.key for t in view_of(svc, sid).timers]}"
    return found


WED_10 = sh(2026, 11, 18, 10)
WED_14 = sh(2026, 11, 18, 14)


def booked(svc, when: datetime = WED_10, **order_kw) -> object:
    return svc.request_booking(order(**order_kw), at(when)).shipment_id


def confirmed(svc, when: datetime = WED_14, **order_kw) -> object:
    sid = booked(svc, when - timedelta(hours=2), **order_kw)
    svc.review(sid, [], at(when - timedelta(hours=1)))
    svc.confirm_by_carrier(sid, confirmation(), at(when))
    return sid


def milestone(code: str, when: datetime, kind: str = "EQUIPMENT", classifier: str = "ACT",
              **kw) -> Milestone:
    return Milestone(kind=kind, code=code, classifier=classifier, event_time=when, **kw)


def breach(svc, sid, key: str, when: datetime) -> None:
    t = timer(svc, sid, key)
    svc.record_sla_breach(sid, t.key, t.kind, t.started_at, t.due_at,
                          at(when, "sla-ticker", "system"))


def notify(svc, sid, kind: str, when: datetime) -> None:
    svc.notify_customer(sid, CustomerNotice(kind=kind), at(when))


# --- web-order review [002] ----------------------------------------------------------------

def test_web_order_review_due_in_30_business_minutes_and_met_by_review(memory_service):
    sid = booked(memory_service, sh(2026, 11, 18, 10, 0))
    t = timer(memory_service, sid, "web_order_review")
    assert (t.state, t.started_at, t.due_at) == (OPEN, WED_10, sh(2026, 11, 18, 10, 30))
    assert (t.office, t.customer_id, t.cs_owner) == ("SHA", "CUST-ACME", "cs.wang")
    memory_service.review(sid, [], at(sh(2026, 11, 18, 10, 20)))
    t = timer(memory_service, sid, "web_order_review")
    assert (t.state, t.met_at, t.late, t.breached_at) == (MET, sh(2026, 11, 18, 10, 20), False,
                                                          None)


def test_after_hours_and_friday_evening_orders_are_due_next_business_morning(memory_service):
    wed = booked(memory_service, sh(2026, 11, 18, 20, 0))
    fri = booked(memory_service, sh(2026, 11, 20, 18, 5))
    assert timer(memory_service, wed, "web_order_review").due_at == sh(2026, 11, 19, 9, 30)
    assert timer(memory_service, fri, "web_order_review").due_at == sh(2026, 11, 23, 9, 30)
    eve = booked(memory_service, sh(2026, 9, 30, 17, 50))  # then National Day week
    assert timer(memory_service, eve, "web_order_review").due_at == sh(2026, 10, 8, 9, 20)


def test_breached_then_reviewed_is_met_late(memory_service):
    sid = booked(memory_service, sh(2026, 11, 18, 10, 0))
    breach(memory_service, sid, "web_order_review", sh(2026, 11, 18, 10, 31))
    t = timer(memory_service, sid, "web_order_review")
    assert (t.state, t.breached_at) == (BREACHED, sh(2026, 11, 18, 10, 31))
    memory_service.review(sid, [], at(sh(2026, 11, 18, 11, 0)))
    t = timer(memory_service, sid, "web_order_review")
    assert (t.state, t.late, t.met_at, t.breached_at) == (
        MET, True, sh(2026, 11, 18, 11), sh(2026, 11, 18, 10, 31))


# --- booking confirmation and delay notices [000] ------------------------------------------

def test_booking_confirmation_notice_within_business_hours(memory_service):
    sid = confirmed(memory_service, sh(2026, 11, 19, 16, 0))
    t = timer(memory_service, sid, "booking_confirmation")
    assert t.due_at == sh(2026, 11, 20, 11, 0)  # 2 h Thursday + 2 h Friday morning
    notify(memory_service, sid, "STATUS_UPDATE", sh(2026, 11, 20, 9, 0))  # not the right one
    assert timer(memory_service, sid, "booking_confirmation").state == OPEN
    notify(memory_service, sid, "BOOKING_CONFIRMATION", sh(2026, 11, 20, 10, 0))
    t = timer(memory_service, sid, "booking_confirmation")
    assert (t.state, t.late) == (MET, False)


def test_booking_confirmation_met_after_its_due_time_is_late_without_breach(memory_service):
    sid = confirmed(memory_service, sh(2026, 11, 19, 16, 0))
    notify(memory_service, sid, "BOOKING_CONFIRMATION", sh(2026, 11, 20, 12, 0))
    t = timer(memory_service, sid, "booking_confirmation")
    assert (t.state, t.late, t.breached_at) == (MET, True, None)


def test_eta_slip_beyond_threshold_starts_a_delay_notice(memory_service):
    sid = confirmed(memory_service)
    eta = NOW + timedelta(days=30)
    small = milestone("ARRI", eta + timedelta(hours=12), "TRANSPORT", "EST", location="USLAX")
    memory_service.record_milestone(sid, small, at(sh(2026, 11, 19, 10)))
    assert not view_of(memory_service, sid).of_kind("delay_notice")  # 12 h < 24 h threshold
    big = milestone("ARRI", eta + timedelta(days=3), "TRANSPORT", "EST", location="USLAX")
    memory_service.record_milestone(sid, big, at(sh(2026, 11, 19, 17, 0)))
    t = timer(memory_service, sid, "delay_notice:1")
    assert (t.state, t.due_at) == (OPEN, sh(2026, 11, 20, 10, 0))  # 1 h + 1 h next morning
    # a superseded (older) estimate changes nothing
    stale = milestone("ARRI", eta + timedelta(days=9), "TRANSPORT", "EST", location="USLAX")
    memory_service.record_milestone(sid, stale, at(sh(2026, 11, 19, 9)))
    assert len(view_of(memory_service, sid).of_kind("delay_notice")) == 1
    notify(memory_service, sid, "DELAY_NOTICE", sh(2026, 11, 20, 9, 0))
    assert timer(memory_service, sid, "delay_notice:1").state == MET


def test_rollover_starts_a_new_delay_notice_once_the_previous_was_sent(memory_service):
    sid = confirmed(memory_service)
    etd, eta = NOW + timedelta(days=22), NOW + timedelta(days=37)
    memory_service.roll_over(sid, rollover(VesselVoyage(vessel="MAERSK EMDEN", voyage="250E"),
                                           "full",
                             etd, eta, 0), at(sh(2026, 11, 19, 10)))
    view = view_of(memory_service, sid)
    assert [t.key for t in view.of_kind("delay_notice")] == ["delay_notice:1"]  # one, not two
    notify(memory_service, sid, "DELAY_NOTICE", sh(2026, 11, 19, 11))
    memory_service.roll_over(sid, rollover(VesselVoyage(vessel="MAERSK ELBA", voyage="252E"),
                                           "again",
                             etd + timedelta(days=7), eta + timedelta(days=7), 0),
                             at(sh(2026, 11, 23, 10)))
    second = timer(memory_service, sid, "delay_notice:2")
    assert (second.state, second.started_at) == (OPEN, sh(2026, 11, 23, 10))
    assert timer(memory_service, sid, "delay_notice:1").state == MET


# --- cut-offs ------------------------------------------------------------------------------

def test_cutoffs_due_at_the_carriers_times_and_met_by_si_vgm_and_gate_in(memory_service):
    sid = confirmed(memory_service)
    c = confirmation()
    assert timer(memory_service, sid, "si_cutoff").due_at == c.cutoffs.si
    assert timer(memory_service, sid, "vgm_cutoff").due_at == c.cutoffs.vgm
    assert timer(memory_service, sid, "cy_cutoff").due_at == c.cutoffs.cy
    no_vgm = shipping_instructions().containers[0].model_copy(update={"vgm_kg": None,
                                                                      "vgm_method": None})
    memory_service.submit_shipping_instructions(
        sid, shipping_instructions(containers=[no_vgm.model_dump()]), at(NOW + timedelta(days=2)))
    assert timer(memory_service, sid, "si_cutoff").state == MET
    assert timer(memory_service, sid, "vgm_cutoff").state == OPEN
    memory_service.submit_shipping_instructions(sid, shipping_instructions(),
                                                at(NOW + timedelta(days=3)))
    assert timer(memory_service, sid, "vgm_cutoff").met_at == NOW + timedelta(days=3)
    gate_in = milestone("GTIN", NOW + timedelta(days=13), location="CNSHA", container_no=BOX)
    memory_service.record_milestone(sid, gate_in, at(NOW + timedelta(days=13, hours=1)))
    t = timer(memory_service, sid, "cy_cutoff")
    assert (t.state, t.met_at, t.late) == (MET, NOW + timedelta(days=13), False)


def test_gate_in_elsewhere_or_estimated_does_not_meet_cy_cutoff(memory_service):
    sid = confirmed(memory_service)
    memory_service.record_milestone(sid, milestone("GTIN", NOW + timedelta(days=13),
                                                   location="CNNGB", container_no=BOX), at(NOW))
    memory_service.record_milestone(sid, milestone("GTIN", NOW + timedelta(days=13), "EQUIPMENT",
                                                   "EST", location="CNSHA"), at(NOW))
    assert timer(memory_service, sid, "cy_cutoff").state == OPEN


def test_reconfirmation_moves_open_cutoffs_and_restarts_an_extended_breached_one(memory_service):
    sid = confirmed(memory_service)
    breach(memory_service, sid, "si_cutoff", NOW + timedelta(days=12, minutes=1))
    later = {k: (NOW + timedelta(days=d)).isoformat()
             for k, d in (("si", 16), ("vgm", 17), ("cy", 18))}
    memory_service.confirm_by_carrier(sid, confirmation(**{
        "etd": (NOW + timedelta(days=19)).isoformat(), "cutoffs": later}),
        at(NOW + timedelta(days=12, hours=2)))
    view = view_of(memory_service, sid)
    assert view.get("vgm_cutoff").due_at == NOW + timedelta(days=17)  # moved
    assert view.get("cy_cutoff").due_at == NOW + timedelta(days=18)
    assert view.get("si_cutoff").state == BREACHED  # a breach stays a fact
    assert view.get("si_cutoff:2").due_at == NOW + timedelta(days=16)  # the extension
    # a confirmation without a VGM cut-off withdraws it
    memory_service.confirm_by_carrier(sid, confirmation(**{
        "etd": (NOW + timedelta(days=19)).isoformat(),
        "cutoffs": {"si": later["si"], "cy": later["cy"]}}), at(NOW + timedelta(days=13)))
    assert timer(memory_service, sid, "vgm_cutoff").state == CANCELLED
    memory_service.submit_shipping_instructions(sid, shipping_instructions(),
                                                at(NOW + timedelta(days=14)))
    view = view_of(memory_service, sid)
    assert (view.get("si_cutoff").state, view.get("si_cutoff").late) == (MET, True)
    assert (view.get("si_cutoff:2").state, view.get("si_cutoff:2").late) == (MET, False)


def test_new_itinerary_after_a_sent_confirmation_needs_a_new_notice(memory_service):
    sid = confirmed(memory_service)
    notify(memory_service, sid, "BOOKING_CONFIRMATION", sh(2026, 11, 18, 15))
    data = confirmation_data(vessel_voyage={"vessel": "MAERSK EMDEN", "voyage": "250E"})
    memory_service.confirm_by_carrier(sid, confirmation(**data), at(sh(2026, 11, 19, 10)))
    assert timer(memory_service, sid, "booking_confirmation:2").state == OPEN


def test_later_eta_in_a_reconfirmation_is_a_delay(memory_service):
    sid = confirmed(memory_service)
    memory_service.confirm_by_carrier(sid, confirmation(
        eta=(NOW + timedelta(days=33)).isoformat()), at(sh(2026, 11, 19, 10)))
    assert timer(memory_service, sid, "delay_notice:1").state == OPEN


# --- status after sailing [004] ------------------------------------------------------------

def test_status_after_sailing_due_two_working_days_after_departure(memory_service):
    sid = confirmed(memory_service)
    friday_night = sh(2026, 12, 4, 22, 0)
    memory_service.record_milestone(sid, milestone("DEPA", friday_night, "TRANSPORT",
                                                   location="CNSHA"), at(friday_night))
    t = timer(memory_service, sid, "sailing_status")
    assert (t.started_at, t.due_at) == (friday_night, sh(2026, 12, 8, 18, 0))
    memory_service.record_sailing_outcome(sid, SailingOutcome.SHIPPED, "",
                                          at(sh(2026, 12, 7, 10)))
    assert timer(memory_service, sid, "sailing_status").state == MET


def test_estimated_departure_starts_no_status_timer(memory_service):
    sid = confirmed(memory_service)
    memory_service.record_milestone(sid, milestone("DEPA", NOW + timedelta(days=16), "TRANSPORT",
                                                   "EST", location="CNSHA"), at(NOW))
    assert view_of(memory_service, sid).get("sailing_status") is None


# --- free time -----------------------------------------------------------------------------

def test_demurrage_and_detention_free_days_per_container(memory_service):
    sid = confirmed(memory_service)
    disc = sh(2026, 12, 21, 15, 0)
    memory_service.record_milestone(sid, milestone("DISC", disc, location="USLAX",
                                                   container_no=BOX), at(disc))
    dem = timer(memory_service, sid, f"demurrage:{BOX}")
    assert (dem.state, dem.due_at) == (OPEN, sh(2026, 12, 28, 0, 0))  # 7 days, day 1 = 21st
    out = disc + timedelta(days=3)
    memory_service.record_milestone(sid, milestone("GTOT", out, location="USLAX",
                                                   container_no=BOX), at(out))
    assert timer(memory_service, sid, f"demurrage:{BOX}").state == MET
    det = timer(memory_service, sid, f"detention:{BOX}")
    assert det.due_at == sh(2026, 12, 31, 0, 0)
    back = out + timedelta(days=9)
    memory_service.record_milestone(sid, milestone("DROP", back, location="USLAX",
                                                   container_no=BOX), at(back))
    det = timer(memory_service, sid, f"detention:{BOX}")
    assert (det.state, det.late) == (MET, True)


def test_free_time_counts_in_the_ports_zone_when_configured(memory_service):
    config = SlaConfig(port_time_zones={"USLAX": "America/Los_Angeles"})
    sid = confirmed(memory_service)
    la = ZoneInfo("America/Los_Angeles")
    disc = datetime(2026, 12, 21, 23, 0, tzinfo=la).astimezone(UTC)  # Tue 15:00 Shanghai
    memory_service.record_milestone(sid, milestone("DISC", disc, location="USLAX",
                                                   container_no=BOX), at(disc))
    assert timer(memory_service, sid, f"demurrage:{BOX}", config).due_at == datetime(
        2026, 12, 28, 0, 0, tzinfo=la)


def test_out_of_order_milestones_meet_timers_when_they_start(memory_service):
    sid = confirmed(memory_service)
    disc, out, back = sh(2026, 12, 21, 15), sh(2026, 12, 22, 9), sh(2026, 12, 24, 9)
    # the feed reports gate-out and empty return before the discharge
    for code, when in (("DROP", back), ("GTOT", out), ("DISC", disc)):
        memory_service.record_milestone(sid, milestone(code, when, location="USLAX",
                                                       container_no=BOX), at(when))
    view = view_of(memory_service, sid)
    assert (view.get(f"demurrage:{BOX}").state, view.get(f"demurrage:{BOX}").met_at) == (MET, out)
    assert (view.get(f"detention:{BOX}").state, view.get(f"detention:{BOX}").met_at) == (MET, back)


def test_no_free_days_no_free_time_timer(memory_service):
    sid = confirmed(memory_service, free_days={"demurrage": 0, "detention": 0})
    memory_service.record_milestone(sid, milestone("DISC", sh(2026, 12, 21), location="USLAX",
                                                   container_no=BOX), at(sh(2026, 12, 21)))
    assert not view_of(memory_service, sid).of_kind("demurrage")


# --- pickup [002] --------------------------------------------------------------------------

@pytest.mark.parametrize(("ordered", "due"), [
    (sh(2026, 11, 18, 7, 0), sh(2026, 11, 18, 15, 0)),  # before opening, before cut-off
    (sh(2026, 11, 18, 9, 59), sh(2026, 11, 18, 15, 0)),
    (sh(2026, 11, 18, 10, 0), sh(2026, 11, 18, 18, 0)),  # at the cut-off: same day
    (sh(2026, 11, 18, 15, 59), sh(2026, 11, 18, 18, 0)),
    (sh(2026, 11, 18, 16, 0), sh(2026, 11, 19, 12, 0)),  # after 16:00: next morning
    (sh(2026, 11, 20, 17, 0), sh(2026, 11, 23, 12, 0)),  # Friday evening: Monday morning
    (sh(2026, 11, 21, 11, 0), sh(2026, 11, 23, 15, 0)),  # Saturday: Monday by 15:00
    (sh(2026, 9, 30, 16, 30), sh(2026, 10, 8, 12, 0)),  # into the National Day week
])
def test_pickup_rule(ordered, due):
    assert pickup_due(DEFAULT_CONFIG.office("SHA"), ordered) == due


def test_drayage_pickup_timer_started_by_confirmation_and_met_by_pick(memory_service):
    sid = confirmed(memory_service, sh(2026, 11, 18, 9, 30), stuffing=DRAYAGE)
    t = timer(memory_service, sid, "pickup")
    assert t.due_at == sh(2026, 11, 18, 15, 0)
    memory_service.record_milestone(sid, milestone("PICK", sh(2026, 11, 18, 14)),
                                    at(sh(2026, 11, 18, 14, 5)))
    assert timer(memory_service, sid, "pickup").state == MET
    plain = confirmed(memory_service, sh(2026, 11, 18, 9, 30))  # SELF stuffing: no pickup
    assert view_of(memory_service, plain).get("pickup") is None


def test_customer_asking_for_a_later_pickup_moves_the_deadline(memory_service):
    later = {**DRAYAGE, "pickup_at": "2026-11-20T10:00:00+08:00"}
    sid = confirmed(memory_service, sh(2026, 11, 18, 9, 30), stuffing=later)
    assert timer(memory_service, sid, "pickup").due_at == sh(2026, 11, 20, 10, 0)


def test_amendment_to_self_stuffing_cancels_the_pickup(memory_service):
    sid = confirmed(memory_service, sh(2026, 11, 18, 9, 30), stuffing=DRAYAGE)
    n = memory_service.request_amendment(
        sid, amendment([FieldChange(field="stuffing", after={"method": "SELF"})], "mail 18 Nov",
        "customer trucks it", [], []), at(sh(2026, 11, 18, 10))).result
    memory_service.approve_amendment(sid, n, at(sh(2026, 11, 18, 10, 5)))
    assert timer(memory_service, sid, "pickup").state == CANCELLED


# --- claims [003] and cancellation ---------------------------------------------------------

def test_claim_resolution_in_business_days(memory_service):
    sid = confirmed(memory_service)
    raised = sh(2026, 11, 20, 11)
    memory_service.raise_exception(sid, ShipmentException(kind="HELD_BACK", description="x"),
                                   at(raised))
    n = memory_service.raise_exception(sid, ShipmentException(kind="CLAIM", description="wet"),
                                       at(raised)).result
    view = view_of(memory_service, sid)
    assert [t.key for t in view.of_kind("claim")] == [f"claim:{n}"]
    assert view.get(f"claim:{n}").due_at == sh(2026, 12, 4, 18, 0)  # 10 working days
    memory_service.resolve_exception(sid, n, "paid", at(sh(2026, 12, 1, 9)))
    assert timer(memory_service, sid, f"claim:{n}").state == MET


@pytest.mark.parametrize("how", ["cancel", "reject"])
def test_ending_the_booking_cancels_unmet_timers(memory_service, how):
    sid = booked(memory_service, sh(2026, 11, 18, 10, 0))
    breach(memory_service, sid, "web_order_review", sh(2026, 11, 18, 10, 31))
    if how == "cancel":
        memory_service.cancel(sid, "customer withdrew", at(sh(2026, 11, 18, 12)))
    else:
        memory_service.review(sid, [], at(sh(2026, 11, 18, 11)))
        memory_service.reject_by_carrier(sid, "no space", at(sh(2026, 11, 18, 12)))
    t = timer(memory_service, sid, "web_order_review")
    assert t.state == (CANCELLED if how == "cancel" else MET)
    assert t.breached_at == sh(2026, 11, 18, 10, 31)


def test_cancellation_keeps_met_timers_and_cancels_open_ones(memory_service):
    sid = confirmed(memory_service)
    memory_service.cancel(sid, "customer withdrew", at(sh(2026, 11, 19, 9)))
    view = view_of(memory_service, sid)
    assert view.get("web_order_review").state == MET
    assert {t.state for t in view.timers if t.kind != "web_order_review"} == {CANCELLED}


# --- configuration per office --------------------------------------------------------------

def test_office_of_the_booking_and_its_duration_overrides(memory_service):
    config = SlaConfig.model_validate({
        "offices": [{"code": "SHA"}, {"code": "NGB", "timers": {"web_order_review_minutes": 60}},
                    {"code": "RTM", "tz": "Europe/Amsterdam", "country": "NL"}],
        "pol_offices": {"CNSHA": "SHA", "CNNGB": "NGB"},
        "timers": {"disabled": ["booking_confirmation"]}})
    ngb = booked(memory_service, sh(2026, 11, 18, 10), pol="CNNGB")
    t = timer(memory_service, ngb, "web_order_review", config)
    assert (t.office, t.due_at) == ("NGB", sh(2026, 11, 18, 11))
    rtm = booked(memory_service, sh(2026, 11, 18, 20), office="RTM")  # 13:00 in Rotterdam
    assert timer(memory_service, rtm, "web_order_review", config).due_at == datetime(
        2026, 11, 18, 12, 30, tzinfo=UTC)
    sid = confirmed(memory_service)
    assert view_of(memory_service, sid, config).get("booking_confirmation") is None


def test_view_keeps_no_reference_to_the_shipment(memory_service):
    sid = confirmed(memory_service)
    view = view_of(memory_service, sid)
    assert all(isinstance(t, SlaTimer) for t in view.timers)
    with pytest.raises(AttributeError):
        view.timers = ()  # type: ignore[misc]
    assert all(type(v).__module__ in ("builtins", "datetime", "uuid", __name__.split(".")[0])
               or isinstance(v, tuple) for v in vars(view).values())


def test_every_exception_runs_a_resolution_timer(memory_service):
    sid = memory_service.request_booking(order(), meta()).shipment_id
    n = memory_service.raise_exception(sid, ShipmentException(
        kind="CUSTOMS_INSPECTION", description="X-ray at CNSHA"), meta()).result
    timers = {t.key: t for t in fold(SlaProjection(), memory_service.history(sid))[1].timers}
    assert timers[f"exception:{n}"].state == "open"
    memory_service.resolve_exception(sid, n, "released", meta())
    timers = {t.key: t for t in fold(SlaProjection(), memory_service.history(sid))[1].timers}
    assert timers[f"exception:{n}"].state == "met"
