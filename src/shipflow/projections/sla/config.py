"""SLA configuration: offices (time zone, business calendar, pickup cut-offs) and timer
durations, with built-in defaults for SHA / NGB / SZX and an optional JSON file
(``Settings.sla_config_path``; format in ``docs/sla.md``).

Durations are set once in ``timers`` and may be overridden per office
(``offices[].timers``, only the keys that differ).
"""

from __future__ import annotations

from datetime import date, time
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

from shipflow.config import Settings
from shipflow.projections.sla.calendar import MON_FRI, BusinessCalendar

#: Timer kinds, as stored in ``sla_timers.kind`` (and listed in ``TimerConfig.disabled``).
KINDS = ("web_order_review", "booking_confirmation", "delay_notice", "si_cutoff", "vgm_cutoff",
         "cy_cutoff", "pickup", "sailing_status", "demurrage", "detention", "claim",
         "exception")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TimerConfig(_Model):
    """How long each timer runs. Business time counts office hours on working days."""

    web_order_review_minutes: float = Field(30, ge=0, description="[002] 30 business minutes")
    booking_confirmation_hours: float = Field(4, ge=0)
    delay_notice_hours: float = Field(2, ge=0)
    eta_slip_threshold_hours: float = Field(
        24, ge=0, description="an ETA later by more than this starts a delay notice")
    status_after_sailing_days: int = Field(2, ge=0, description="[004] 2 working days")
    claim_resolution_days: int = Field(10, ge=0, description="business days")
    exception_resolution_days: int = Field(
        2, ge=0, description="business days to resolve any other exception (held back, "
                             "late delivery, customs inspection, ...)")
    free_time_counts_start_day: bool = Field(
        True, description="the day of discharge / gate-out is free day 1")
    disabled: frozenset[str] = frozenset()

    @field_validator("disabled")
    @classmethod
    def _known_kinds(cls, value: frozenset[str]) -> frozenset[str]:
        unknown = value - set(KINDS)
        if unknown:
            raise ValueError(f"unknown timer kinds {sorted(unknown)}; known: {', '.join(KINDS)}")
        return value

    def enabled(self, kind: str) -> bool:
        return kind not in self.disabled


class OfficeConfig(_Model):
    """One office: where its clock hangs and when it works."""

    code: str = Field(min_length=1, max_length=10)
    tz: str = "Asia/Shanghai"
    country: str = "CN"
    subdiv: str | None = None
    workdays: tuple[int, ...] = MON_FRI
    open: time = time(9)
    close: time = time(18)
    extra_closed_days: tuple[date, ...] = ()
    extra_working_days: tuple[date, ...] = ()
    # pickup rule [002]: before the morning cut-off → same day by `pickup_same_day_due`;
    # before the late cut-off → same day by closing time; after it → next working day by
    # `pickup_next_morning_due`.
    pickup_morning_cutoff: time = time(10)
    pickup_same_day_due: time = time(15)
    pickup_late_cutoff: time = time(16)
    pickup_next_morning_due: time = time(12)
    #: Durations that differ from ``SlaConfig.timers`` for this office.
    timers: dict[str, Any] = Field(default_factory=dict)

    @field_validator("code")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.strip().upper()

    @field_validator("tz")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @model_validator(mode="after")
    def _consistent(self) -> OfficeConfig:
        if not self.open < self.close:
            raise ValueError(f"office {self.code}: open {self.open} must be before close "
                             f"{self.close}")
        if not self.pickup_morning_cutoff <= self.pickup_late_cutoff:
            raise ValueError(f"office {self.code}: the morning pickup cut-off must not be "
                             "after the late cut-off")
        try:
            holidays.country_holidays(self.country, subdiv=self.subdiv)
        except NotImplementedError as e:
            raise ValueError(f"office {self.code}: {e}") from None
        unknown = set(self.timers) - set(TimerConfig.model_fields)
        if unknown:
            raise ValueError(f"office {self.code}: unknown timer settings {sorted(unknown)}")
        return self

    @property
    def calendar(self) -> BusinessCalendar:
        return _calendar(self.tz, self.country, self.subdiv, self.workdays, self.open,
                         self.close, self.extra_closed_days, self.extra_working_days)


@lru_cache(maxsize=64)
def _calendar(tz: str, country: str, subdiv: str | None, workdays: tuple[int, ...],
              open_: time, close: time, closed: tuple[date, ...],
              working: tuple[date, ...]) -> BusinessCalendar:
    return BusinessCalendar(tz, country, subdiv, workdays, open_, close, closed, working)


def _builtin_offices() -> tuple[OfficeConfig, ...]:
    return (OfficeConfig(code="SHA"), OfficeConfig(code="NGB"), OfficeConfig(code="SZX"))


_BUILTIN_POL_OFFICES = {"CNSHA": "SHA", "CNNGB": "NGB", "CNSZX": "SZX", "CNYTN": "SZX",
                        "CNSHK": "SZX", "CNCWN": "SZX"}


class SlaConfig(_Model):
    offices: tuple[OfficeConfig, ...] = Field(default_factory=_builtin_offices)
    default_office: str = "SHA"
    #: POL UN/LOCODE → office code, for bookings that do not name their office.
    pol_offices: dict[str, str] = Field(default_factory=lambda: dict(_BUILTIN_POL_OFFICES))
    timers: TimerConfig = TimerConfig()
    #: UN/LOCODE → IANA time zone of ports where free time is counted (demurrage at POD):
    #: free days end at the port's local midnight. Ports not listed use the office's zone.
    port_time_zones: dict[str, str] = Field(default_factory=dict)

    _by_code: dict[str, OfficeConfig] = PrivateAttr(default_factory=dict)

    @field_validator("pol_offices", "port_time_zones")
    @classmethod
    def _upper_locodes(cls, value: dict[str, str]) -> dict[str, str]:
        return {k.strip().upper(): v.strip() for k, v in value.items()}
    _office_timers: dict[str, TimerConfig] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _references(self) -> SlaConfig:
        codes = [o.code for o in self.offices]
        if len(set(codes)) != len(codes):
            raise ValueError(f"office codes must be unique: {codes}")
        if self.default_office.upper() not in codes:
            raise ValueError(f"default_office {self.default_office!r} is not one of {codes}")
        bad = {pol: code for pol, code in self.pol_offices.items() if code.upper() not in codes}
        if bad:
            raise ValueError(f"pol_offices name unknown offices: {bad}")
        for port, zone in self.port_time_zones.items():
            _check_zone(zone, port)
        self._by_code = {o.code: o for o in self.offices}
        self._office_timers = {
            o.code: TimerConfig.model_validate({**self.timers.model_dump(), **o.timers})
            for o in self.offices if o.timers}
        return self

    def office(self, code: str | None) -> OfficeConfig:
        """The office with that code; an unknown or missing code gets the default office's
        calendar and rules."""
        found = self._by_code.get((code or "").strip().upper())
        return found or self._by_code[self.default_office.upper()]

    def office_code(self, office: str | None, pol: str | None) -> str:
        """The office handling a booking: its own ``office``, else the POL's, else default."""
        if office and office.strip():
            return office.strip().upper()
        return self.pol_offices.get((pol or "").upper(), self.default_office).upper()

    def port_tz(self, locode: str | None, office_code: str | None) -> str:
        """The zone in which free time at a port is counted."""
        return self.port_time_zones.get((locode or "").upper()) or self.office(office_code).tz

    def timers_for(self, office_code: str | None) -> TimerConfig:
        """The durations in force for an office (its overrides on top of ``timers``)."""
        return self._office_timers.get(self.office(office_code).code, self.timers)


def _check_zone(zone: str, port: str) -> None:
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"port_time_zones: unknown time zone {zone!r} for {port}") from None


DEFAULT_CONFIG = SlaConfig()


def load_sla_config(settings: Settings) -> SlaConfig:
    """The SLA configuration from ``settings.sla_config_path`` (JSON), or the built-in one."""
    path = settings.sla_config_path
    if path is None:
        return DEFAULT_CONFIG
    return SlaConfig.model_validate_json(path.read_text(encoding="utf-8"))
