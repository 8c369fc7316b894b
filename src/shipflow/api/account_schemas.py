"""Request bodies and responses of the accounts-receivable endpoints.

Where a command's input is a domain value object (account terms, a payment's cheque, an
application) the body takes that type directly.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shipflow.events.account.values import (
    AccountTerms,
    Application,
    Commitment,
    CommitmentOutcome,
    CreditHold,
    CreditNote,
    CreditNoteLine,
    DunningNotice,
    HoldRelease,
    Invoice,
    Payment,
)
from shipflow.events.common import Money, NonEmptyStr


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OpenAccountBody(Body):
    customer_id: NonEmptyStr = Field(examples=["CUST-ACME"], max_length=60)
    terms: AccountTerms


class CreditNoteBody(Body):
    lines: list[CreditNoteLine] = Field(min_length=1)
    reason: NonEmptyStr
    issue_date: date | None = None


class ReasonBody(Body):
    reason: NonEmptyStr


class ResolutionBody(Body):
    resolution: NonEmptyStr


class NoteBody(Body):
    note: str = ""


class ApplicationsBody(Body):
    applications: list[Application] = Field(min_length=1)
    on: date | None = None


class BounceBody(Body):
    reason: NonEmptyStr
    on: date | None = None


class OutcomeBody(Body):
    outcome: CommitmentOutcome
    note: str = ""
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
