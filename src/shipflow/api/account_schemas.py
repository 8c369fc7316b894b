"""Request bodies and responses of the accounts-receivable endpoints.

Where a command's input is a domain value object (account terms, a payment's cheque, an
application) the body takes that type directly.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shipflow.accounts.values import (
    AccountTerms,
    Application,
    Cheque,
    Commitment,
    CommitmentOutcome,
    ConceptExplanation,
    CreditHold,
    CreditNote,
    CreditNoteLine,
    DunningLevel,
    DunningNotice,
    HoldRelease,
    Invoice,
    Payment,
    PaymentMethod,
)
from shipflow.events.values import CurrencyCode, Money, NonEmptyStr


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OpenAccountBody(Body):
    customer_id: NonEmptyStr = Field(examples=["CUST-ACME"], max_length=60)
    terms: AccountTerms


class InvoiceBody(Body):
    shipment_id: UUID
    bill_to: NonEmptyStr = Field(description="the code of one of the account's bill-to parties")
    currency: CurrencyCode
    charge_numbers: list[int] | None = Field(default=None, description=(
        "the shipment's charges to bill; default: every live, uninvoiced receivable charge "
        "for this bill-to in this currency"))
    explanations: list[ConceptExplanation] = Field(default_factory=list, description=(
        "why a concept sold on the hand-over is not on the bill (pre-invoice check)"))
    issue_date: date | None = None


class CreditNoteBody(Body):
    lines: list[CreditNoteLine] = Field(min_length=1)
    reason: NonEmptyStr
    issue_date: date | None = None


class ChargeAdjustmentIn(Body):
    charge_number: int
    quantity: Decimal | None = Field(default=None, gt=0, max_digits=12, decimal_places=3)
    unit_price: Money | None = None
    reason: NonEmptyStr


class ChargeVoidIn(Body):
    charge_number: int
    reason: NonEmptyStr


class RebillBody(Body):
    reason: NonEmptyStr
    adjustments: list[ChargeAdjustmentIn] = Field(default_factory=list)
    voids: list[ChargeVoidIn] = Field(default_factory=list)
    explanations: list[ConceptExplanation] = Field(default_factory=list)
    issue_date: date | None = None


class ReasonBody(Body):
    reason: NonEmptyStr


class ResolutionBody(Body):
    resolution: NonEmptyStr


class NoteBody(Body):
    note: str = ""


class PaymentBody(Body):
    amount: Money
    payer: NonEmptyStr
    bank_reference: str = Field(default="", max_length=200)
    value_date: date | None = Field(default=None, description="default: the cheque's "
                                    "post-dated date, else today")
    method: PaymentMethod = PaymentMethod.TRANSFER
    cheque: Cheque | None = None


class ApplicationsBody(Body):
    applications: list[Application] = Field(min_length=1)
    on: date | None = None


class UnapplicationBody(Body):
    invoice_number: NonEmptyStr
    amount: Money | None = Field(default=None, description="default: all of it")
    reason: NonEmptyStr
    on: date | None = None


class BounceBody(Body):
    reason: NonEmptyStr
    on: date | None = None


class CommitmentBody(Body):
    amount: Money
    promised_date: date
    invoice_numbers: list[str] = Field(default_factory=list)
    contact: str = ""
    note: str = ""


class OutcomeBody(Body):
    outcome: CommitmentOutcome
    note: str = ""
    on: date | None = None


class DunningBody(Body):
    level: DunningLevel
    shipment_id: UUID | None = Field(default=None, description="per shipment; default: the "
                                     "whole account")
    invoice_numbers: list[str] | None = None
    on: date | None = None


class CreditCheckBody(Body):
    on: date | None = None


class AccountCommandResult(BaseModel):
    customer_id: str
    account_id: UUID
    version: int
    position: int = Field(description="pass as min_position to read your write")
    events: list[str]
    result: Any = None


class AccountView(BaseModel):
    customer_id: str
    account_id: UUID
    version: int
    terms: AccountTerms
    balances: list[Money] = Field(description="per currency: invoiced − credited − paid")
    credit_hold: CreditHold | None
    last_release: HoldRelease | None
    credit_reasons: list[str] = Field(description="why it is (or would be) on hold today")
    invoices: list[Invoice]
    credit_notes: list[CreditNote]
    payments: list[Payment]
    commitments: list[Commitment]
    dunning_notices: list[DunningNotice]


class WorkQueue(BaseModel):
    on: date
    overdue: list[dict[str, Any]]
    broken_commitments: list[dict[str, Any]]
    possible_duplicates: list[dict[str, Any]]
    holds: list[dict[str, Any]]
