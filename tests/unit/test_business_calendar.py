"""The business calendar: office hours and working days per office and time zone, with the
holidays and China's make-up working days (调休) from the ``holidays`` package; and the SLA
configuration that builds calendars per office."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from shipflow.config import Settings
from shipflow.projections.sla.calendar import BusinessCalendar, end_of_calendar_days
from shipflow.projections.sla.config import DEFAULT_CONFIG, SlaConfig, load_sla_config

SHA = ZoneInfo("Asia/Shanghai")
AMS = ZoneInfo("Europe/Amsterdam")
CN = BusinessCalendar("Asia/Shanghai", "CN")  # Mon–Fri 09:00–18:00
NL = BusinessCalendar("Europe/Amsterdam", "NL")


def sh(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    """Shanghai wall-clock time, as the aware UTC instant the calendar takes."""
    return datetime(y, mo, d, h, mi, tzinfo=SHA).astimezone(UTC)


def ams(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=AMS).astimezone(UTC)


# --- office hours ----------------------------------------------------------------------------

def test_within_office_hours_minutes_are_wall_clock_minutes():
    assert CN.add_business_minutes(sh(2026, 11, 18, 10, 0), 30) == sh(2026, 11, 18, 10, 30)
    assert CN.add_business_minutes(sh(2026, 11, 18, 17, 30), 30) == sh(2026, 11, 18, 18, 0)


def test_after_hours_order_counts_from_next_opening():
    # received Wednesday 19:30: first thing Thursday, 30 minutes after opening
    assert CN.add_business_minutes(sh(2026, 11, 18, 19, 30), 30) == sh(2026, 11, 19, 9, 30)
    # before opening on a working day: the same morning
    assert CN.add_business_minutes(sh(2026, 11, 18, 6, 0), 30) == sh(2026, 11, 18, 9, 30)


def test_duration_spanning_closing_time_continues_next_working_day():
    assert CN.add_business_minutes(sh(2026, 11, 18, 17, 45), 30) == sh(2026, 11, 19, 9, 15)
    assert CN.add_business_hours(sh(2026, 11, 19, 16, 0), 4) == sh(2026, 11, 20, 11, 0)


def test_friday_evening_runs_into_monday():
    assert CN.add_business_minutes(sh(2026, 11, 20, 18, 30), 30) == sh(2026, 11, 23, 9, 30)
    assert CN.add_business_hours(sh(2026, 11, 20, 17, 0), 2) == sh(2026, 11, 23, 10, 0)
    assert CN.next_opening(sh(2026, 11, 21, 12, 0)) == sh(2026, 11, 23, 9, 0)  # Saturday


def test_open_and_next_opening_at_the_edges():
    assert CN.is_open(sh(2026, 11, 18, 9, 0))
    assert not CN.is_open(sh(2026, 11, 18, 18, 0))  # closing time is closed
    assert CN.next_opening(sh(2026, 11, 18, 12, 0)) == sh(2026, 11, 18, 12, 0)
    assert CN.next_opening(sh(2026, 11, 18, 18, 0)) == sh(2026, 11, 19, 9, 0)


def test_holiday_is_skipped():
    # Labour Day 2026: 1–5 May off (the 5th swapped with Saturday 9 May)
    for day in range(1, 6):
        assert not CN.is_working_day(date(2026, 5, day)), day
    assert CN.holiday_name(date(2026, 5, 1)) == "Labor Day"
    assert CN.add_business_minutes(sh(2026, 4, 30, 17, 50), 30) == sh(2026, 5, 6, 9, 20)
    assert CN.is_working_day(date(2026, 5, 9))  # make-up Saturday


def test_national_day_week_and_its_make_up_days():
    for day in range(1, 8):
        assert not CN.is_working_day(date(2026, 10, day)), f"2026-10-0{day}"
    assert CN.is_working_day(date(2026, 9, 20))  # Sunday worked before the week
    assert CN.is_working_day(date(2026, 10, 10))  # Saturday worked after it
    # an order on the eve of the week waits until Thursday 8 October
    assert CN.add_business_minutes(sh(2026, 9, 30, 19, 0), 30) == sh(2026, 10, 8, 9, 30)
    # "2 working days after sailing": 30 Sep → Thursday 8 and Friday 9 October
    assert CN.add_business_days(sh(2026, 9, 30, 14, 0), 2) == sh(2026, 10, 9, 18, 0)
    # from Friday 9 October the 2nd working day is Monday 12 (Saturday 10 is the 1st)
    assert CN.add_business_days(sh(2026, 10, 9, 14, 0), 2) == sh(2026, 10, 12, 18, 0)


def test_tiaoxiu_working_sunday_2026_01_04():
    assert date(2026, 1, 4).weekday() == 6
    assert CN.is_working_day(date(2026, 1, 4))
    assert not CN.is_working_day(date(2026, 1, 1)) and not CN.is_working_day(date(2026, 1, 2))
    assert not CN.is_working_day(date(2026, 1, 3))  # an ordinary Saturday
    # an order on New Year's Eve evening is due on the working Sunday
    assert CN.add_business_minutes(sh(2025, 12, 31, 19, 0), 30) == sh(2026, 1, 4, 9, 30)
    assert CN.next_opening(sh(2026, 1, 3, 10, 0)) == sh(2026, 1, 4, 9, 0)


def test_business_days_end_at_closing_of_the_nth_working_day():
    # departed Friday evening: Monday and Tuesday are the two working days
    assert CN.add_business_days(sh(2026, 11, 20, 21, 0), 2) == sh(2026, 11, 24, 18, 0)
    # departed on a Saturday: the same
    assert CN.add_business_days(sh(2026, 11, 21, 3, 0), 2) == sh(2026, 11, 24, 18, 0)
    assert CN.add_business_days(sh(2026, 11, 18, 10, 0), 0) == sh(2026, 11, 18, 18, 0)
    assert CN.add_business_days(sh(2026, 11, 18, 19, 0), 0) == sh(2026, 11, 19, 18, 0)


def test_shanghai_has_no_daylight_saving():
    openings = {CN.opening(d) - datetime.combine(d, time(0), tzinfo=UTC)
                for d in (date(2026, 1, 5), date(2026, 3, 30), date(2026, 7, 6),
                          date(2026, 11, 2))}
    assert openings == {timedelta(hours=1)}  # 09:00 +08:00 all year


def test_amsterdam_office_keeps_its_wall_clock_across_dst():
    assert NL.opening(date(2026, 3, 27)) == datetime(2026, 3, 27, 8, 0, tzinfo=UTC)  # CET
    assert NL.opening(date(2026, 3, 30)) == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)  # CEST
    # Friday 17:00 CET + 2 business hours: 1 h Friday, 1 h Monday after the clocks moved
    assert NL.add_business_hours(ams(2026, 3, 27, 17, 0), 2) == ams(2026, 3, 30, 10, 0)
    assert NL.add_business_hours(ams(2026, 3, 27, 17, 0), 2) == datetime(
        2026, 3, 30, 8, 0, tzinfo=UTC)
    # and back in October (clocks go back on Sunday 25 October 2026)
    assert NL.add_business_hours(ams(2026, 10, 23, 17, 0), 2) == datetime(
        2026, 10, 26, 9, 0, tzinfo=UTC)


def test_amsterdam_office_has_dutch_holidays():
    assert not NL.is_working_day(date(2026, 4, 27))  # King's Day, a Monday
    assert NL.is_working_day(date(2026, 10, 1))  # no Chinese National Day here
    assert NL.add_business_hours(ams(2026, 4, 24, 17, 30), 1) == ams(2026, 4, 28, 9, 30)


def test_office_that_works_saturdays_still_closes_on_holidays():
    cal = BusinessCalendar("Asia/Shanghai", "CN", workdays=range(6))
    assert cal.is_working_day(date(2026, 11, 21))  # an ordinary Saturday
    assert not cal.is_working_day(date(2026, 10, 3))  # National Day Saturday
    assert cal.is_working_day(date(2026, 1, 4))  # 调休 Sunday still worked
    assert not cal.is_working_day(date(2026, 11, 22))


def test_extra_closed_and_working_days_of_an_office():
    cal = BusinessCalendar("Asia/Shanghai", "CN", extra_closed_days=[date(2026, 11, 18)],
                           extra_working_days=[date(2026, 11, 22)])
    assert not cal.is_working_day(date(2026, 11, 18))
    assert cal.is_working_day(date(2026, 11, 22))


def test_calendar_days_end_at_local_midnight():
    # 7 free days from a Monday discharge at Los Angeles end at Sunday 24:00 there
    start = datetime(2026, 12, 7, 15, 0, tzinfo=ZoneInfo("America/Los_Angeles"))
    assert end_of_calendar_days("America/Los_Angeles", start, 7) == datetime(
        2026, 12, 14, 0, 0, tzinfo=ZoneInfo("America/Los_Angeles"))


def test_naive_and_backwards_inputs_are_refused():
    with pytest.raises(ValueError, match="aware datetimes only"):
        CN.add_business_minutes(datetime(2026, 11, 18, 10, 0), 30)
    with pytest.raises(ValueError, match="forwards only"):
        CN.add_business_minutes(sh(2026, 11, 18, 10, 0), -1)
    with pytest.raises(ValueError, match="open before they close"):
        BusinessCalendar("Asia/Shanghai", "CN", open=time(18), close=time(9))


# --- configuration -----------------------------------------------------------------------------

def test_builtin_offices_and_pol_mapping():
    assert [o.code for o in DEFAULT_CONFIG.offices] == ["SHA", "NGB", "SZX"]
    assert DEFAULT_CONFIG.office_code(None, "CNNGB") == "NGB"
    assert DEFAULT_CONFIG.office_code(None, "CNSZX") == "SZX"
    assert DEFAULT_CONFIG.office_code(None, "VNSGN") == "SHA"  # default office
    assert DEFAULT_CONFIG.office_code("szx", "CNSHA") == "SZX"  # the booking's own office
    assert DEFAULT_CONFIG.office("XYZ").code == "SHA"  # unknown: default calendar
    office = DEFAULT_CONFIG.office("SHA")
    assert (office.tz, office.country, office.pickup_morning_cutoff) == (
        "Asia/Shanghai", "CN", time(10))
    assert DEFAULT_CONFIG.timers.web_order_review_minutes == 30
    assert DEFAULT_CONFIG.timers.status_after_sailing_days == 2


def test_load_from_settings_path_with_office_overrides(tmp_path):
    path = tmp_path / "sla.json"
    path.write_text(json.dumps({
        "default_office": "SHA",
        "pol_offices": {"CNSHA": "SHA", "NLRTM": "RTM"},
        "offices": [
            {"code": "SHA", "tz": "Asia/Shanghai", "country": "CN", "open": "08:30",
             "close": "17:30", "pickup_morning_cutoff": "11:00"},
            {"code": "RTM", "tz": "Europe/Amsterdam", "country": "NL",
             "timers": {"booking_confirmation_hours": 2}},
        ],
        "timers": {"booking_confirmation_hours": 6, "disabled": ["vgm_cutoff"]},
        "port_time_zones": {"USLAX": "America/Los_Angeles"},
    }), encoding="utf-8")
    config = load_sla_config(Settings(sla_config_path=path, _env_file=None))
    assert config.office("SHA").open == time(8, 30)
    assert config.office("SHA").calendar.add_business_minutes(
        sh(2026, 11, 18, 17, 20), 30) == sh(2026, 11, 19, 8, 50)
    assert config.office_code(None, "NLRTM") == "RTM"
    assert config.timers_for("SHA").booking_confirmation_hours == 6
    assert config.timers_for("RTM").booking_confirmation_hours == 2
    assert not config.timers_for("RTM").enabled("vgm_cutoff")
    assert config.port_tz("USLAX", "SHA") == "America/Los_Angeles"
    assert config.port_tz("DEHAM", "RTM") == "Europe/Amsterdam"


def test_no_path_gives_builtin_defaults():
    assert load_sla_config(Settings(_env_file=None)) is DEFAULT_CONFIG


@pytest.mark.parametrize("bad", [
    {"offices": [{"code": "SHA", "tz": "Asia/Atlantis"}]},
    {"offices": [{"code": "SHA", "country": "XX"}]},
    {"offices": [{"code": "SHA", "open": "18:00", "close": "09:00"}]},
    {"offices": [{"code": "SHA", "timers": {"no_such_timer": 1}}]},
    {"offices": [{"code": "SHA"}], "default_office": "NGB"},
    {"pol_offices": {"CNSHA": "PVG"}},
    {"timers": {"disabled": ["coffee_break"]}},
])
def test_invalid_configuration_is_refused(bad):
    if "offices" in bad and "pol_offices" not in bad:
        bad = {"pol_offices": {}, **bad}
    with pytest.raises(ValidationError):
        SlaConfig.model_validate(bad)
