"""A business calendar: an office's working days and hours, in its own time zone.

Every input and output is an aware UTC ``datetime``; the arithmetic happens in the office's
local zone (``zoneinfo``), so "09:00" means nine o'clock on the office wall clock, also
across a daylight-saving change.

Working days come from the maintained ``holidays`` package: public holidays, the weekend of
the office's week, and the make-up working days some countries declare (China's 调休: a
Sunday worked so that a holiday week can run unbroken, e.g. 2026-01-04). The library's
``is_working_day`` answers for the country's own week; an office whose week differs (e.g.
it works Saturdays) keeps the library's holidays and make-up days and adds its own week.
Offices may also list extra closed days and extra working days of their own.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

#: Monday=0 … Sunday=6, as ``date.weekday()``.
MON_FRI = (0, 1, 2, 3, 4)

#: How far the calendar looks ahead for a working day before it gives up (a misconfiguration,
#: e.g. no working weekday at all).
_HORIZON_DAYS = 3 * 366


class CalendarError(ValueError):
    """The calendar cannot answer (no working day within the horizon)."""


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("the business calendar takes aware datetimes only")
    return at.astimezone(UTC)


class BusinessCalendar:
    """Working days and office hours of one office.

    ``open`` and ``close`` are local wall-clock times (``open < close``). A business minute is
    a minute between them on a working day.
    """

    def __init__(self, tz: str, country: str, subdiv: str | None = None,
                 workdays: Iterable[int] = MON_FRI, open: time = time(9),  # noqa: A002
                 close: time = time(18), extra_closed_days: Iterable[date] = (),
                 extra_working_days: Iterable[date] = ()) -> None:
        if not open < close:
            raise ValueError(f"office hours must open before they close ({open}–{close})")
        self.tz = ZoneInfo(tz)
        self.tz_name = tz
        self.country = country
        self.subdiv = subdiv
        self.workdays = frozenset(workdays)
        if not self.workdays <= set(range(7)):
            raise ValueError(f"workdays are 0 (Monday) … 6 (Sunday), got {sorted(self.workdays)}")
        self.open = open
        self.close = close
        self.extra_closed_days = frozenset(extra_closed_days)
        self.extra_working_days = frozenset(extra_working_days)
        self._holidays = holidays.country_holidays(country, subdiv=subdiv)
        self._lock = threading.Lock()  # the holidays object fills years lazily
        self._cache: dict[date, bool] = {}

    def __repr__(self) -> str:
        return (f"BusinessCalendar({self.tz_name!r}, {self.country!r}, {self.subdiv!r}, "
                f"{sorted(self.workdays)}, {self.open}–{self.close})")

    # --- days ------------------------------------------------------------------------------

    def is_working_day(self, day: date) -> bool:
        with self._lock:
            known = self._cache.get(day)
            if known is None:
                known = self._cache[day] = self._working(day)
            return known

    def _working(self, day: date) -> bool:
        if day in self.extra_closed_days:
            return False
        if day in self.extra_working_days:
            return True
        office_works_weekday = day.weekday() in self.workdays
        if office_works_weekday != self._holidays.is_weekend(day):
            # The office keeps the country's week on this weekday: the library knows its
            # holidays and its make-up working days (调休).
            return self._holidays.is_working_day(day)
        if office_works_weekday:  # a national weekend day the office works (e.g. Saturday)
            return day not in self._holidays
        return False  # a national weekday the office does not work

    def holiday_name(self, day: date) -> str | None:
        with self._lock:
            return self._holidays.get(day)

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        for _ in range(_HORIZON_DAYS):
            day += timedelta(days=1)
            if self.is_working_day(day):
                return day
        raise CalendarError(f"no working day within {_HORIZON_DAYS} days after {day}")

    def working_day_on_or_after(self, day: date) -> date:
        return day if self.is_working_day(day) else self.next_working_day(day)

    # --- local time ------------------------------------------------------------------------

    def local(self, at: datetime) -> datetime:
        """``at`` on the office's wall clock."""
        return _utc(at).astimezone(self.tz)

    def local_date(self, at: datetime) -> date:
        return self.local(at).date()

    def local_time(self, at: datetime) -> time:
        return self.local(at).time().replace(tzinfo=None)

    def at(self, day: date, wall: time) -> datetime:
        """The UTC instant of wall-clock ``wall`` on local ``day`` (in a DST gap: after it)."""
        return datetime.combine(day, wall, tzinfo=self.tz).astimezone(UTC)

    def opening(self, day: date) -> datetime:
        return self.at(day, self.open)

    def closing(self, day: date) -> datetime:
        return self.at(day, self.close)

    # --- business time ---------------------------------------------------------------------

    def is_open(self, at: datetime) -> bool:
        at = _utc(at)
        day = self.local_date(at)
        return self.is_working_day(day) and self.opening(day) <= at < self.closing(day)

    def next_opening(self, at: datetime) -> datetime:
        """``at`` itself during office hours, else when the office next opens."""
        return self.add_business_minutes(at, 0)

    def add_business_minutes(self, start: datetime, minutes: float) -> datetime:
        """``minutes`` of office time after ``start``; after hours, counting from the next
        opening. A duration that ends exactly at closing time ends at closing time."""
        if minutes < 0:
            raise ValueError("business time runs forwards only")
        remaining = timedelta(minutes=minutes)
        at = _utc(start)
        day = self.local_date(at)
        for _ in range(_HORIZON_DAYS * 2):
            if self.is_working_day(day):
                begin, end = max(at, self.opening(day)), self.closing(day)
                if begin < end:
                    if remaining <= end - begin:
                        return begin + remaining
                    remaining -= end - begin
            day += timedelta(days=1)
        raise CalendarError(f"no office hours within {_HORIZON_DAYS} days after {start}")

    def add_business_hours(self, start: datetime, hours: float) -> datetime:
        return self.add_business_minutes(start, hours * 60)

    def add_business_days(self, start: datetime, days: int) -> datetime:
        """Closing time of the ``days``-th working day after the local day of ``start``
        ("within two working days after sailing": by the end of the second working day that
        follows). With ``days=0``: closing time of the start's day, or of the next working
        day when it is not one or the office has closed."""
        if days < 0:
            raise ValueError("business time runs forwards only")
        at = _utc(start)
        day = self.local_date(at)
        if days == 0:
            if self.is_working_day(day) and at < self.closing(day):
                return self.closing(day)
            return self.closing(self.next_working_day(day))
        for _ in range(days):
            day = self.next_working_day(day)
        return self.closing(day)

    def add_calendar_days_end_of_day(self, start: datetime, days: int) -> datetime:
        """See :func:`end_of_calendar_days`, on the office's clock."""
        return end_of_calendar_days(self.tz_name, start, days)


def end_of_calendar_days(tz: str, start: datetime, days: int) -> datetime:
    """Local midnight (in ``tz``) that ends the ``days``-th calendar day, counting the day of
    ``start`` as day 1: 7 free days from a Monday discharge end at Sunday 24:00."""
    if days < 1:
        raise ValueError("at least one calendar day")
    zone = ZoneInfo(tz)
    day = _utc(start).astimezone(zone).date() + timedelta(days=days)
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
