"""Accounts receivable over HTTP: one endpoint per CustomerAccount command, the account and
its history, the statement of account (JSON and Excel, now or ``?as_of=``) and the AR work
queue. Only translation: the rules live in ``shipflow.events.account``; what a customer key
reads of its own account is its customer view (``shipflow.projections.customer_view``)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import AwareDatetime
from pydantic_core import to_jsonable_python

from shipflow.api import account_schemas as b
from shipflow.api.auth import MONEY, Caller, require_visible
from shipflow.api.deps import Accounts, ExpectedVersion, Meta, ReadSide, consistent
from shipflow.api.errors import ERRORS, refuse
from shipflow.api.idempotency import idempotent
from shipflow.api.shipment_reads import event_record
from shipflow.api.shipment_schemas import EventRecord
from shipflow.auth.keys import Principal
from shipflow.events.account.values import (
    AccountTerms,
    DunningRequest,
    InvoiceRequest,
    PaymentAdvice,
    PromiseToPay,
    RebillRequest,
    Unapplication,
)
from shipflow.events.common import Money, NotFound
from shipflow.projections import customer_view
from shipflow.projections.engine.base import fold
from shipflow.projections.statements import rows
from shipflow.projections.statements import tables as statement_tables
from shipflow.projections.statements.excel import statement_xlsx
from shipflow.projections.statements.projection import StatementProjection
from shipflow.projections.statements.statement import Statement
from shipflow.services.accounts import AccountRecorded, AccountService


def account_access(request: Request, caller: Caller) -> None:
    """Staff change accounts within their roles (the domain asks finance for payments, credit
    notes and holds); a customer key may only read its own account."""
    if not caller.is_customer:
        if request.method != "GET" and caller.role not in MONEY:
            raise refuse(403, "role_forbidden", "Not permitted",
                         f"role {caller.role} may not change accounts")
        return
    customer_id = request.path_params.get("customer_id")
    if request.method != "GET" or customer_id is None:
        raise refuse(403, "role_forbidden", "Not permitted", "a customer key reads its own "
                     "account and statements only")
    require_visible(caller, customer_id, "account_not_found",
                    f"no account for customer {customer_id}")


router = APIRouter(prefix="/accounts", tags=["accounts receivable"], responses=ERRORS,
                   dependencies=[Depends(account_access), Depends(idempotent)])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _result(r: AccountRecorded, response: Response) -> b.AccountCommandResult:
    response.headers["ETag"] = f'"{r.version}"'
    response.headers["X-Position"] = str(r.position)
    return b.AccountCommandResult(customer_id=r.customer_id, account_id=r.account_id,
                                  version=r.version, position=r.position, events=r.events,
                                  result=to_jsonable_python(r.result))


# --- reads across accounts (before /{customer_id}) ----------------------------------------------


@router.get("/work-queue", response_model=b.WorkQueue, dependencies=[consistent("statements")],
            summary="AR work queue: overdue accounts, broken commitments, duplicates, holds")
def work_queue(rm: ReadSide, on: date | None = None, owner: str | None = None,
               limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> b.WorkQueue:
    on = on or datetime.now(UTC).date()
    with rm.engine.connect() as conn:
        found = rows.work_queue(conn, statement_tables.active(conn), on, owner, limit)
    return b.WorkQueue(on=on, **to_jsonable_python(found))


# --- the account ------------------------------------------------------------------------------


@router.post("", status_code=201, response_model=b.AccountCommandResult,
             summary="Open a customer account (finance): terms, credit limit, settlement mode")
def open_account(body: b.OpenAccountBody, svc: Accounts, meta: Meta,
                 response: Response) -> b.AccountCommandResult:
    recorded = svc.open_account(body.customer_id, body.terms, meta)
    response.headers["Location"] = f"/accounts/{recorded.customer_id}"
    return _result(recorded, response)


@router.put("/{customer_id}/terms", response_model=b.AccountCommandResult,
            summary="Change the account's terms (finance)")
def change_terms(customer_id: str, body: AccountTerms, svc: Accounts, meta: Meta,
                 version: ExpectedVersion, response: Response) -> b.AccountCommandResult:
    return _result(svc.change_terms(customer_id, body, meta, version), response)


@router.get("/{customer_id}",
            response_model=b.AccountView | customer_view.CustomerAccountView,
            summary="The account now, or as it was recorded at a moment",
            description="A customer key gets `CustomerAccountView`: see docs/api-access.md.")
def get_account(customer_id: str, svc: Accounts, response: Response, caller: Caller,
                as_of: AwareDatetime | None = None
                ) -> b.AccountView | customer_view.CustomerAccountView:
    if as_of is not None:
        a = svc.get(customer_id, version=len(svc.history_until(customer_id, as_of)))
    else:
        a = svc.get(customer_id)
    response.headers["ETag"] = f'"{a.version}"'
    on = (as_of or datetime.now(UTC)).date()
    if caller.is_customer:
        return customer_view.account_view(a, on)
    return b.AccountView(
        customer_id=a.customer_id, account_id=a.id, version=a.version, terms=a.terms,
        balances=[Money(amount=v, currency=c) for c, v in sorted(a.balances.items())],
        credit_hold=a.hold, last_release=a.release, credit_reasons=a.credit_reasons(on),
        invoices=sorted(a.invoices.values(), key=lambda i: i.number),
        credit_notes=sorted(a.credit_notes.values(), key=lambda c: c.number),
        payments=sorted(a.payments.values(), key=lambda p: p.number),
        commitments=sorted(a.commitments.values(), key=lambda c: c.number),
        dunning_notices=sorted(a.notices.values(), key=lambda n: n.number))


@router.get("/{customer_id}/events",
            response_model=list[EventRecord | customer_view.CustomerEvent],
            summary="The account's full audit history",
            description="A customer key gets its customer history (`CustomerEvent`).")
def account_events(customer_id: str, svc: Accounts, caller: Caller
                   ) -> list[EventRecord] | list[customer_view.CustomerEvent]:
    if caller.is_customer:
        return customer_view.account_history(svc.history(customer_id))
    return [event_record(e) for e in svc.history(customer_id)]


# --- statement --------------------------------------------------------------------------------


def _statement(customer_id: str, svc: AccountService, rm: Any, period_from: date | None,
               period_to: date | None, currency: str | None,
               as_of: datetime | None, caller: Principal) -> Statement:
    to = period_to or (as_of or datetime.now(UTC)).date()
    start = period_from or to.replace(day=1)
    cur = currency.strip().upper() if currency else None
    if as_of is not None:  # fold what was recorded up to then, with the view's own fold
        view: Any = fold(StatementProjection(), svc.history_until(customer_id, as_of))[1]
        st = view.statement(start, to, cur, as_of)
    else:
        with rm.engine.connect() as conn:
            t = statement_tables.active(conn)
            account = rows.account_row(conn, t, customer_id)
            if account is None:
                raise NotFound("account_not_found", f"no account for customer {customer_id} "
                               "in the statement view (pass min_position to wait for it)")
            st = rows.statement(conn, t, account, start, to, cur)
    return customer_view.statement(st) if caller.is_customer else st


@router.get("/{customer_id}/statement", response_model=Statement,
            dependencies=[consistent("statements")],
            summary="Statement of account per currency: balances, lines, open items, aging")
def statement(customer_id: str, svc: Accounts, rm: ReadSide, caller: Caller,
              period_from: Annotated[date | None, Query(alias="from")] = None,
              period_to: Annotated[date | None, Query(alias="to", description=(
                  "statement date; default: as_of's date, else today"))] = None,
              currency: str | None = None,
              as_of: Annotated[AwareDatetime | None, Query(description=(
                  "what the statement said then: events recorded up to this moment"))] = None,
              ) -> Statement:
    return _statement(customer_id, svc, rm, period_from, period_to, currency, as_of, caller)


@router.get("/{customer_id}/statement.xlsx", dependencies=[consistent("statements")],
            response_class=Response, responses={200: {"content": {XLSX: {}}}},
            summary="The statement as an Excel workbook: a sheet per currency")
def statement_excel(customer_id: str, svc: Accounts, rm: ReadSide, caller: Caller,
                    period_from: Annotated[date | None, Query(alias="from")] = None,
                    period_to: Annotated[date | None, Query(alias="to")] = None,
                    currency: str | None = None, as_of: AwareDatetime | None = None
                    ) -> Response:
    st = _statement(customer_id, svc, rm, period_from, period_to, currency, as_of, caller)
    name = f"statement-{customer_id}-{st.statement_date}.xlsx"
    return Response(statement_xlsx(st), media_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


# --- invoices ---------------------------------------------------------------------------------


@router.post("/{customer_id}/invoices", status_code=201, response_model=b.AccountCommandResult,
             summary="Invoice a shipment's receivable charges (after the pre-invoice check)")
def issue_invoice(customer_id: str, body: InvoiceRequest, svc: Accounts, meta: Meta,
                  version: ExpectedVersion, response: Response) -> b.AccountCommandResult:
    return _result(svc.issue_invoice(customer_id, body, meta, version), response)


@router.post("/{customer_id}/invoices/{number}/credit-notes", status_code=201,
             response_model=b.AccountCommandResult,
             summary="Credit note (finance): whole lines release their charges, or an amount")
def credit_note(customer_id: str, number: str, body: b.CreditNoteBody, svc: Accounts,
                meta: Meta, version: ExpectedVersion,
                response: Response) -> b.AccountCommandResult:
    return _result(svc.issue_credit_note(customer_id, number, body.lines, body.reason,
                                         body.issue_date, meta, version), response)


@router.post("/{customer_id}/invoices/{number}/rebill", status_code=201,
             response_model=b.AccountCommandResult,
             summary="Re-bill (finance): credit the invoice, correct its charges, bill again")
def rebill(customer_id: str, number: str, body: RebillRequest, svc: Accounts, meta: Meta,
           version: ExpectedVersion, response: Response) -> b.AccountCommandResult:
    return _result(svc.rebill(customer_id, number, body, meta, version), response)


@router.post("/{customer_id}/invoices/{number}/dispute", response_model=b.AccountCommandResult,
             summary="The customer disputes an invoice")
def dispute(customer_id: str, number: str, body: b.ReasonBody, svc: Accounts, meta: Meta,
            version: ExpectedVersion, response: Response) -> b.AccountCommandResult:
    return _result(svc.dispute_invoice(customer_id, number, body.reason, meta, version),
                   response)


@router.post("/{customer_id}/invoices/{number}/dispute-resolution",
             response_model=b.AccountCommandResult,
             summary="Close a dispute without a credit note")
def resolve_dispute(customer_id: str, number: str, body: b.ResolutionBody, svc: Accounts,
                    meta: Meta, version: ExpectedVersion,
                    response: Response) -> b.AccountCommandResult:
    return _result(svc.resolve_dispute(customer_id, number, body.resolution, meta, version),
                   response)


# --- payments ---------------------------------------------------------------------------------


@router.post("/{customer_id}/payments", status_code=201, response_model=b.AccountCommandResult,
             summary="Payment received (finance); a possible duplicate is flagged")
def receive_payment(customer_id: str, body: PaymentAdvice, svc: Accounts, meta: Meta,
                    version: ExpectedVersion, response: Response) -> b.AccountCommandResult:
    return _result(svc.receive_payment(customer_id, body, meta, version), response)


@router.post("/{customer_id}/payments/{number}/confirmation",
             response_model=b.AccountCommandResult,
             summary="A flagged payment is genuine, not a duplicate (finance)")
def confirm_payment(customer_id: str, number: str, body: b.NoteBody, svc: Accounts,
                    meta: Meta, version: ExpectedVersion,
                    response: Response) -> b.AccountCommandResult:
    return _result(svc.confirm_payment(customer_id, number, body.note, meta, version), response)


@router.post("/{customer_id}/payments/{number}/rejection", response_model=b.AccountCommandResult,
             summary="A flagged payment is a duplicate: it never counts (finance)")
def reject_payment(customer_id: str, number: str, body: b.ReasonBody, svc: Accounts,
                   meta: Meta, version: ExpectedVersion,
                   response: Response) -> b.AccountCommandResult:
    return _result(svc.reject_payment(customer_id, number, body.reason, meta, version),
                   response)


@router.post("/{customer_id}/payments/{number}/applications",
             response_model=b.AccountCommandResult,
             summary="Apply a payment to invoices, fully or partly (finance)")
def apply_payment(customer_id: str, number: str, body: b.ApplicationsBody, svc: Accounts,
                  meta: Meta, version: ExpectedVersion,
                  response: Response) -> b.AccountCommandResult:
    return _result(svc.apply_payment(customer_id, number, body.applications, body.on, meta,
                                     version), response)


@router.post("/{customer_id}/payments/{number}/unapplication",
             response_model=b.AccountCommandResult,
             summary="Take a payment (or part of it) off an invoice (finance)")
def unapply_payment(customer_id: str, number: str, body: Unapplication, svc: Accounts,
                    meta: Meta, version: ExpectedVersion,
                    response: Response) -> b.AccountCommandResult:
    return _result(svc.unapply_payment(customer_id, number, body, meta, version), response)


@router.post("/{customer_id}/payments/{number}/bounce", response_model=b.AccountCommandResult,
             summary="A cheque bounced: its applications are reversed (finance)")
def bounce(customer_id: str, number: str, body: b.BounceBody, svc: Accounts, meta: Meta,
           version: ExpectedVersion, response: Response) -> b.AccountCommandResult:
    return _result(svc.bounce_cheque(customer_id, number, body.on, body.reason, meta, version),
                   response)


# --- collections and credit -------------------------------------------------------------------


@router.post("/{customer_id}/commitments", status_code=201,
             response_model=b.AccountCommandResult,
             summary="Collection commitment: a promise to pay by a date")
def commitment(customer_id: str, body: PromiseToPay, svc: Accounts, meta: Meta,
               version: ExpectedVersion, response: Response) -> b.AccountCommandResult:
    return _result(svc.record_commitment(customer_id, body, meta, version), response)


@router.post("/{customer_id}/commitments/{number}/outcome",
             response_model=b.AccountCommandResult, summary="Kept, partially kept or broken")
def commitment_outcome(customer_id: str, number: int, body: b.OutcomeBody, svc: Accounts,
                       meta: Meta, version: ExpectedVersion,
                       response: Response) -> b.AccountCommandResult:
    return _result(svc.record_commitment_outcome(customer_id, number, body.outcome, body.note,
                                                 body.on, meta, version), response)


@router.post("/{customer_id}/dunning-notices", status_code=201,
             response_model=b.AccountCommandResult,
             summary="Dunning notice (催缴单) per shipment or per account: reminder → legal")
def dunning(customer_id: str, body: DunningRequest, svc: Accounts, meta: Meta,
            version: ExpectedVersion, response: Response) -> b.AccountCommandResult:
    return _result(svc.issue_dunning_notice(customer_id, body, meta, version), response)


@router.post("/{customer_id}/credit-check", response_model=b.AccountCommandResult,
             summary="Put the account on hold if over a limit or overdue past its days")
def credit_check(customer_id: str, body: b.CreditCheckBody, svc: Accounts, meta: Meta,
                 version: ExpectedVersion, response: Response) -> b.AccountCommandResult:
    return _result(svc.check_credit(customer_id, body.on, meta, version), response)


@router.post("/{customer_id}/hold", response_model=b.AccountCommandResult,
             summary="Put the account on credit hold (finance)")
def hold(customer_id: str, body: b.NoteBody, svc: Accounts, meta: Meta,
         version: ExpectedVersion, response: Response) -> b.AccountCommandResult:
    return _result(svc.place_hold(customer_id, body.note, meta, version), response)


@router.post("/{customer_id}/hold/release", response_model=b.AccountCommandResult,
             summary="Release the credit hold (finance): who and why are recorded")
def release(customer_id: str, body: b.ReasonBody, svc: Accounts, meta: Meta,
            version: ExpectedVersion, response: Response) -> b.AccountCommandResult:
    return _result(svc.release_hold(customer_id, body.reason, meta, version), response)
