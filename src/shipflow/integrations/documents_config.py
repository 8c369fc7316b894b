"""What an office puts on the transport documents it issues, that no booking says: the
issuing party, its contact for the document, and the terms and conditions (the carrier's
contract printed on a B/L); and who owns the bookings of customers that book through DCSA.

A JSON file (``SHIPFLOW_DOCUMENTS_CONFIG_PATH``; format in ``docs/dcsa.md``). Without one,
or for an office or customer it does not name, the DCSA document or booking is refused with
the setting to add (``dcsa_office_not_configured``, ``dcsa_customer_not_configured``) rather
than invented.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class IssuingAddress(_Model):
    street: str = Field(min_length=1, max_length=70)
    street_number: str | None = Field(default=None, max_length=50)
    post_code: str | None = Field(default=None, max_length=10)
    city: str = Field(min_length=1, max_length=35)
    state_region: str | None = Field(default=None, max_length=65)
    country_code: str = Field(pattern=r"^[A-Z]{2}$")


class DocumentContact(_Model):
    name: str = Field(min_length=1, max_length=35)
    email: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, max_length=30)

    @model_validator(mode="after")
    def _reachable(self) -> DocumentContact:
        if not (self.email or self.phone):
            raise ValueError(f"contact {self.name}: give an email or a phone (DCSA requires one)")
        return self


class OfficeDocuments(_Model):
    code: str = Field(min_length=1, max_length=10)
    issuing_party_name: str = Field(min_length=1, max_length=70)
    issuing_party_address: IssuingAddress
    contact: DocumentContact
    terms_and_conditions: str = Field(min_length=1, max_length=50_000)

    @field_validator("code")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.strip().upper()


class BookingCustomer(_Model):
    """A customer that books through DCSA Booking 2.0: who owns its bookings at the desk
    (DCSA has no field for them). Its bookings name it by a mutually defined (``ZZZ``)
    identifying code of the booking agent whose ``partyCode`` is ``customer_id``."""

    customer_id: str = Field(min_length=1, max_length=100)
    cs_owner: str = Field(min_length=1, max_length=100)
    sales_owner: str = Field(min_length=1, max_length=100)
    business_source: str = Field(default="DIRECT", pattern=r"^(DIRECT|CO_LOADER|NOMINATED)$")


class DocumentsConfig(_Model):
    offices: tuple[OfficeDocuments, ...] = ()
    booking_customers: tuple[BookingCustomer, ...] = ()

    def office(self, code: str) -> OfficeDocuments | None:
        return next((o for o in self.offices if o.code == code.strip().upper()), None)

    def booking_customer(self, customer_id: str) -> BookingCustomer | None:
        return next((c for c in self.booking_customers if c.customer_id == customer_id), None)


@lru_cache(maxsize=8)
def _read(path: Path, mtime: float) -> DocumentsConfig:
    return DocumentsConfig.model_validate_json(path.read_text(encoding="utf-8"))


def load_documents_config(path: Path | None) -> DocumentsConfig:
    """The configuration at ``path`` (re-read when the file changes), or an empty one."""
    if path is None:
        return DocumentsConfig()
    return _read(path, path.stat().st_mtime)
