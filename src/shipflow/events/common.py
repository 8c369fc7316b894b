"""What every aggregate shares: value objects (codes, money, parties, vessels, event
metadata) and the domain errors.

Value objects are frozen pydantic models so the same type validates API input and travels
inside events. Validation failures carry a rule name (the pydantic error type) such as
``unlocode_format`` or ``container_check_digit``, which the API reports per field.

Domain errors name the rule they enforce so a client can act on it by name; the API maps
the classes to HTTP statuses, the domain only says what went wrong.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import Enum
from typing import Annotated

import pycountry
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError
from stdnum import iso6346


class ValueObject(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", use_enum_values=False)


class Code(Enum):
    """A domain enumeration. A plain Enum (not a str subclass) so the event store's JSON
    encoder hands it to our transcoding and it reads back as the same member."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


# --- codes ---------------------------------------------------------------------------------

_UNLOCODE = re.compile(r"^[A-Z]{2}[A-Z2-9]{3}$")


def _unlocode(value: str) -> str:
    value = value.strip().upper().replace(" ", "")
    if not _UNLOCODE.match(value):
        raise PydanticCustomError(
            "unlocode_format", "'{value}' is not a UN/LOCODE (2-letter country + 3 characters)",
            {"value": value},
        )
    if pycountry.countries.get(alpha_2=value[:2]) is None:
        raise PydanticCustomError(
            "unlocode_country", "'{value}' does not start with an ISO 3166 country code",
            {"value": value},
        )
    return value


UnLocode = Annotated[str, AfterValidator(_unlocode)]


def _currency(value: str) -> str:
    value = value.strip().upper()
    if pycountry.currencies.get(alpha_3=value) is None:
        raise PydanticCustomError(
            "currency_code", "'{value}' is not an ISO 4217 currency code", {"value": value}
        )
    return value


CurrencyCode = Annotated[str, AfterValidator(_currency)]


def _container_number(value: str) -> str:
    value = value.strip().upper().replace(" ", "")
    if not iso6346.is_valid(value):
        raise PydanticCustomError(
            "container_check_digit",
            "'{value}' is not an ISO 6346 container number with a valid check digit",
            {"value": value},
        )
    return value


ContainerNumber = Annotated[str, AfterValidator(_container_number)]


def _aware_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise PydanticCustomError(
            "timezone_required", "a time must carry its UTC offset, e.g. 2026-11-22T08:00:00+08:00"
        )
    try:
        return value.astimezone(UTC)
    except OverflowError:  # e.g. 9999-12-31T23:00-14:00 is past datetime.max in UTC
        raise PydanticCustomError("time_out_of_range", "this time is out of range") from None


def _iso_8601(value: object) -> object:
    """A time is ISO 8601 text, not a bare number (pydantic would read one as epoch secs)."""
    if isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.match(value)):
        raise PydanticCustomError("iso8601_required",
                                  "a time is written in ISO 8601, e.g. 2026-11-22T08:00:00Z")
    return value


_NUMBER = re.compile(r"^\s*[-+]?\d+(\.\d*)?\s*$")

UtcDatetime = Annotated[datetime, BeforeValidator(_iso_8601), AfterValidator(_aware_utc)]

NonEmptyStr = Annotated[str, Field(min_length=1, max_length=500)]


# --- money ---------------------------------------------------------------------------------

#: ISO 4217 minor units where they are not 2 (pycountry does not carry them).
_MINOR_UNITS = {**dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW",
                                 "PYG", "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF",
                                 "XPF"), 0),
                **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3)}


def minor_units(currency: str) -> int:
    return _MINOR_UNITS.get(currency, 2)



class Money(ValueObject):
    """An exact amount in one ISO 4217 currency. Arithmetic refuses to mix currencies."""

    amount: Decimal = Field(max_digits=18, decimal_places=4)
    currency: CurrencyCode

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(amount=self.amount + other.amount, currency=self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(amount=self.amount - other.amount, currency=self.currency)

    def times(self, quantity: Decimal) -> Money:
        """Unit price × quantity, rounded half-up to the currency's minor unit."""
        exponent = Decimal(1).scaleb(-minor_units(self.currency))
        return Money(amount=(self.amount * quantity).quantize(exponent, ROUND_HALF_UP),
                     currency=self.currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot combine {self.currency} and {other.currency}")

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


# --- parties and transport -----------------------------------------------------------------


class Party(ValueObject):
    name: NonEmptyStr
    address: str | None = None
    contact: str | None = None
    email: str | None = None
    phone: str | None = None
    tax_id: str | None = None


TEMP_VESSEL = "TEMP"


class VesselVoyage(ValueObject):
    """A sailing. ``vessel="TEMP"`` is the placeholder allowed until the carrier confirms."""

    vessel: NonEmptyStr
    voyage: str = ""
    imo: str | None = Field(default=None, pattern=r"^\d{7}$")

    @property
    def is_placeholder(self) -> bool:
        return self.vessel.upper() == TEMP_VESSEL

    def __str__(self) -> str:
        return f"{self.vessel} {self.voyage}".strip()


# --- who did it ----------------------------------------------------------------------------


class Source(Code):
    API = "api"
    TMS = "tms"
    CARRIER_FEED = "carrier_feed"
    SYSTEM = "system"


class EventMeta(ValueObject):
    """Who recorded a fact, from where, and when it happened in the world.

    The time it was *recorded* is the event's own ``timestamp``; ``occurred_at`` is when it
    happened (a gate-in reported an hour late has occurred_at an hour before the timestamp).
    """

    actor: NonEmptyStr
    role: NonEmptyStr
    source: Source = Source.API
    occurred_at: UtcDatetime
    correlation_id: str
    causation_id: str | None = None
    external_id: str | None = None

    @classmethod
    def system(cls, correlation_id: str, occurred_at: datetime | None = None) -> EventMeta:
        return cls(actor="shipflow", role="system", source=Source.SYSTEM,
                   occurred_at=occurred_at or datetime.now(UTC), correlation_id=correlation_id)


# --- domain errors -------------------------------------------------------------------------


class Violation(ValueObject):
    rule: str
    detail: str
    field: str | None = None


class DomainError(Exception):
    """A command was refused; nothing was recorded."""

    def __init__(self, rule: str, detail: str, field: str | None = None) -> None:
        super().__init__(f"{rule}: {detail}")
        self.rule = rule
        self.detail = detail
        self.field = field

    @property
    def violations(self) -> list[Violation]:
        return [Violation(rule=self.rule, detail=self.detail, field=self.field)]


class RulesBroken(DomainError):
    """The data breaks one or more review rules (domain.md §2.1)."""

    def __init__(self, violations: list[Violation]) -> None:
        names = ", ".join(v.rule for v in violations)
        super().__init__(violations[0].rule, f"the booking breaks: {names}", violations[0].field)
        self._violations = violations

    @property
    def violations(self) -> list[Violation]:
        return list(self._violations)


class InvalidTransition(DomainError):
    """The command makes no sense in the shipment's current state."""


class NotPermitted(DomainError):
    """The actor may not do this (e.g. an amendment approved by someone other than its CS)."""


class NotFound(DomainError):
    """No such shipment, amendment, exception or charge."""


class VersionConflict(DomainError):
    """The client's expected version (``If-Match``) is stale."""

    def __init__(self, expected: int, current: int, what: str = "shipment") -> None:
        super().__init__(
            "version_conflict",
            f"expected version {expected} but the {what} is at version {current}",
        )
        self.expected = expected
        self.current = current


class ConcurrentWrite(DomainError):
    """Other writers kept changing the aggregate while this command ran (every retry)."""

    def __init__(self, what: str = "shipment") -> None:
        super().__init__("concurrent_write", f"other writers kept changing the {what} "
                         "while this command ran; send it again")


class DuplicateEvent(InvalidTransition):
    """A fact from outside (a carrier's event id) that is recorded already."""

    def __init__(self, external_id: str) -> None:
        super().__init__("duplicate_event", f"event {external_id} is recorded already")
        self.external_id = external_id
