"""Value objects of accounts receivable: account terms, invoices, credit notes, payments,
commitments, dunning notices and credit holds.

They travel inside the CustomerAccount's events and snapshots (registered by
``shipflow.events.transcodings`` like every domain value object) and are replaced, never
mutated, when an event changes them.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

from pydantic import Field, model_validator

from shipflow.events.common import (
    Code,
    CurrencyCode,
    Money,
    NonEmptyStr,
    Party,
    ValueObject,
    minor_units,
)


class SettlementMode(Code):
    PER_SHIPMENT = "PER_SHIPMENT"  # 票结: a bill per job, due the term after the invoice
    MONTHLY = "MONTHLY"  # 月结: monthly statement, due the term after the month's end


class PaymentMethod(Code):
    TRANSFER = "TRANSFER"
    CHEQUE = "CHEQUE"
    CASH = "CASH"


class PaymentStatus(Code):
    RECEIVED = "RECEIVED"  # counts on the account, can be applied
    FLAGGED = "FLAGGED"  # possible duplicate: not counted, not applied until confirmed
    REJECTED = "REJECTED"  # confirmed to be a duplicate: never counted
    BOUNCED = "BOUNCED"  # a cheque returned unpaid: its applications were reversed


class DunningLevel(Code):
    REMINDER = "REMINDER"
    PRE_LEGAL = "PRE_LEGAL"
    LEGAL = "LEGAL"


#: Escalation order of dunning notices (催缴单).
DUNNING_ORDER = (DunningLevel.REMINDER, DunningLevel.PRE_LEGAL, DunningLevel.LEGAL)


class CommitmentOutcome(Code):
    KEPT = "KEPT"
    PARTIALLY_KEPT = "PARTIALLY_KEPT"
    BROKEN = "BROKEN"


def check_amount(amount: Money, field: str = "amount") -> None:
    """A positive amount in the currency's minor units (cents, yen, fils)."""
    from shipflow.events.common import DomainError

    if amount.amount <= 0:
        raise DomainError("amount_must_be_positive", f"{amount} is not a positive amount", field)
    places = minor_units(amount.currency)
    if amount.amount != amount.amount.quantize(Decimal(1).scaleb(-places)):
        raise DomainError("amount_precision", f"{amount}: {amount.currency} has {places} "
                          "decimal places", field)


# --- the account ----------------------------------------------------------------------------


class BillTo(ValueObject):
    """A party invoices are addressed to. ``code`` is what charge lines name as their
    counterparty (the customer code, or the party's own code); its name matches too."""

    code: NonEmptyStr
    party: Party

    def matches(self, counterparty: str) -> bool:
        c = " ".join(counterparty.split()).casefold()
        return c in (self.code.casefold(), " ".join(self.party.name.split()).casefold())


class AccountTerms(ValueObject):
    name: NonEmptyStr
    bill_to: list[BillTo] = Field(min_length=1)
    currencies: list[CurrencyCode] = Field(min_length=1, description="invoice currencies")
    credit_limits: list[Money] = Field(default_factory=list, description=(
        "one per currency; a currency without a limit has no credit (limit zero)"))
    credit_term_days: int = Field(ge=0, le=365)
    settlement_mode: SettlementMode
    collection_owner: NonEmptyStr
    hold_after_days_overdue: int = Field(default=30, ge=0, le=3650, description=(
        "an item overdue more than this many days puts the account on credit hold"))

    @model_validator(mode="after")
    def _distinct(self) -> AccountTerms:
        from pydantic_core import PydanticCustomError

        limits = [m.currency for m in self.credit_limits]
        if len(set(limits)) != len(limits):
            raise PydanticCustomError("credit_limit_currency_repeated",
                                      "one credit limit per currency")
        codes = [b.code.casefold() for b in self.bill_to]
        if len(set(codes)) != len(codes):
            raise PydanticCustomError("bill_to_code_repeated", "bill-to codes must differ")
        return self

    def limit(self, currency: str) -> Decimal:
        return next((m.amount for m in self.credit_limits if m.currency == currency),
                    Decimal(0))

    def bill_to_party(self, code: str) -> BillTo | None:
        return next((b for b in self.bill_to if b.code.casefold() == code.casefold()), None)


# --- invoices and credit notes ----------------------------------------------------------------


class ConceptExplanation(ValueObject):
    """Why a concept sold on the hand-over is not on the bill (pre-invoice check)."""

    code: NonEmptyStr
    reason: NonEmptyStr


class InvoiceLine(ValueObject):
    charge_number: int
    code: str
    description: str = ""
    quantity: Decimal
    unit_price: Money
    amount: Decimal


class Invoice(ValueObject):
    number: str
    shipment_id: UUID
    bill_to: str
    currency: str
    lines: list[InvoiceLine]
    total: Decimal
    issue_date: date
    due_date: date
    explanations: list[ConceptExplanation] = Field(default_factory=list)
    replaces: str | None = None  # a re-bill names the invoice it replaces
    reference: str = ""  # the job as the customer knows it: B/L, booking or PO number
    # what happened to it since
    credited: Decimal = Decimal(0)
    paid: Decimal = Decimal(0)
    credited_charges: list[int] = Field(default_factory=list)
    replaced_by: str | None = None
    dispute: str | None = None  # the customer's reason, while disputed
    dunning_level: DunningLevel | None = None

    @property
    def open_amount(self) -> Decimal:
        return self.total - self.credited - self.paid


class CreditNoteLine(ValueObject):
    """A whole invoice line (``charge_number``), or an amount with a description."""

    charge_number: int | None = None
    description: str = ""
    amount: Decimal = Field(default=Decimal(0), max_digits=18, decimal_places=4,
                            description="ignored for a whole line: its amount is credited")


class CreditNote(ValueObject):
    number: str
    invoice_number: str
    shipment_id: UUID
    currency: str
    lines: list[CreditNoteLine]
    total: Decimal
    issue_date: date
    reason: NonEmptyStr
    rebill: bool = False


# --- payments --------------------------------------------------------------------------------


class Cheque(ValueObject):
    number: NonEmptyStr
    bank: str = ""
    post_dated: date | None = Field(default=None, description="cannot be applied before")


class Application(ValueObject):
    invoice_number: NonEmptyStr
    amount: Money


class Payment(ValueObject):
    number: str
    amount: Money
    bank_reference: str
    value_date: date
    payer: NonEmptyStr
    method: PaymentMethod
    cheque: Cheque | None = None
    status: PaymentStatus
    duplicate_of: str | None = None
    applied: dict[str, Decimal] = Field(default_factory=dict)  # invoice → amount applied
    status_reason: str | None = None
    status_on: date | None = None

    @property
    def unapplied(self) -> Decimal:
        if self.status is not PaymentStatus.RECEIVED:
            return Decimal(0)
        return self.amount.amount - sum(self.applied.values(), Decimal(0))


# --- collections -----------------------------------------------------------------------------


class Commitment(ValueObject):
    number: int
    amount: Money
    promised_date: date
    invoice_numbers: list[str] = Field(default_factory=list)
    contact: str = ""
    note: str = ""
    recorded_on: date
    recorded_by: str
    outcome: CommitmentOutcome | None = None
    outcome_note: str | None = None
    outcome_on: date | None = None


class DunningItem(ValueObject):
    invoice_number: str
    shipment_id: UUID
    currency: str
    open_amount: Decimal
    due_date: date
    days_overdue: int


class DunningNotice(ValueObject):
    number: str
    level: DunningLevel
    shipment_id: UUID | None = None  # per shipment; None: per account
    issued_on: date
    items: list[DunningItem]
    totals: list[Money]
    issued_by: str


class CreditHold(ValueObject):
    placed_on: date
    reasons: list[str]
    placed_by: str
    automatic: bool
    note: str = ""


class HoldRelease(ValueObject):
    released_on: date
    released_by: str
    reason: NonEmptyStr
    covered: list[str] = Field(default_factory=list)  # the reasons the release accepted
    covered_exposure: list[Money] = Field(default_factory=list)


# --- commands as data: what a desk asks the account to do -------------------------------------


class InvoiceRequest(ValueObject):
    """Bill a shipment's receivable charges to one bill-to party in one currency."""

    shipment_id: UUID
    bill_to: NonEmptyStr = Field(description="the code of one of the account's bill-to parties")
    currency: CurrencyCode
    charge_numbers: list[int] | None = Field(default=None, description=(
        "the shipment's charges to bill; default: every live, uninvoiced receivable charge "
        "for this bill-to in this currency"))
    explanations: list[ConceptExplanation] = Field(default_factory=list, description=(
        "why a concept sold on the hand-over is not on the bill (pre-invoice check)"))
    issue_date: date | None = None


class ChargeAdjustment(ValueObject):
    """A correction of one of the shipment's charges, made by a re-bill."""

    charge_number: int
    quantity: Decimal | None = Field(default=None, gt=0, max_digits=12, decimal_places=3)
    unit_price: Money | None = None
    reason: NonEmptyStr


class ChargeVoid(ValueObject):
    charge_number: int
    reason: NonEmptyStr


class RebillRequest(ValueObject):
    """Re-bill (refacturación): credit the invoice, correct its charges, bill them again."""

    reason: NonEmptyStr
    adjustments: list[ChargeAdjustment] = Field(default_factory=list)
    voids: list[ChargeVoid] = Field(default_factory=list)
    explanations: list[ConceptExplanation] = Field(default_factory=list)
    issue_date: date | None = None


class PaymentAdvice(ValueObject):
    """Money received, as the bank or the customer's remittance advice tells it."""

    amount: Money
    payer: NonEmptyStr
    bank_reference: str = Field(default="", max_length=200)
    value_date: date | None = Field(default=None, description="default: the cheque's "
                                    "post-dated date, else today")
    method: PaymentMethod = PaymentMethod.TRANSFER
    cheque: Cheque | None = None


class Unapplication(ValueObject):
    """Take a payment (or part of it) off an invoice."""

    invoice_number: NonEmptyStr
    amount: Money | None = Field(default=None, description="default: all of it")
    reason: NonEmptyStr
    on: date | None = None


class PromiseToPay(ValueObject):
    """A collection commitment (compromiso de cobranza): the customer promises to pay."""

    amount: Money
    promised_date: date
    invoice_numbers: list[str] = Field(default_factory=list)
    contact: str = ""
    note: str = ""


class DunningRequest(ValueObject):
    """A dunning notice (催缴单) to issue: per shipment or for the whole account."""

    level: DunningLevel
    shipment_id: UUID | None = Field(default=None, description="per shipment; default: the "
                                     "whole account")
    invoice_numbers: list[str] | None = None
    on: date | None = None
