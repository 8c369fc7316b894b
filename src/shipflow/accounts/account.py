"""The CustomerAccount aggregate: a customer's terms, invoices, credit notes, payments and
their application, collection commitments, dunning notices and credit holds.

One account per customer code (``BookingOrder.customer_id``); its id is derived from the
code, so a booking review finds it without a look-up table. Each public method is a
command: it checks the rules and records events (``shipflow.accounts.events``); a refused
command raises a named :class:`DomainError` and records nothing.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

from shipflow.accounts import events as ev
from shipflow.accounts.account_payments import PaymentCommands
from shipflow.accounts.invoicing import (
    check_pre_invoice,
    due_date,
    invoice_lines,
    job_reference,
    select_charges,
)
from shipflow.accounts.pmap import PMap
from shipflow.accounts.values import (
    AccountTerms,
    Application,
    ConceptExplanation,
    CreditHold,
    CreditNote,
    CreditNoteLine,
    HoldRelease,
    Invoice,
    Money,
    check_amount,
)
from shipflow.events.errors import DomainError, InvalidTransition, NotFound, NotPermitted, Violation
from shipflow.events.shipment import Shipment
from shipflow.events.values import EventMeta

ACCOUNTS_NAMESPACE = UUID("5b0f3c1e-8d4a-4f7e-9a51-6c2f0e7d3a10")

#: Roles that may invoice, record disputes, commitments and dunning notices, check credit.
AR_ROLES = frozenset({"finance", "cs", "manager", "admin", "integration"})


def account_id(customer_id: str) -> UUID:
    return uuid5(ACCOUNTS_NAMESPACE, customer_id.strip())


def require_finance(meta: EventMeta, doing: str) -> None:
    if meta.role != "finance":
        raise NotPermitted("finance_role_required", f"only the finance role may {doing}")


def require_ar(meta: EventMeta, doing: str) -> None:
    if meta.role not in AR_ROLES:
        raise NotPermitted("ar_role_required", f"only {', '.join(sorted(AR_ROLES))} may "
                           f"{doing}")


class CustomerAccount(PaymentCommands, Aggregate):
    def __init__(self, meta: EventMeta, customer_id: str, terms: AccountTerms) -> None:
        self.customer_id = customer_id
        self.terms = terms
        self.invoices: PMap[Invoice] = PMap()
        self.credit_notes: PMap[CreditNote] = PMap()
        self.payments: PMap[Any] = PMap()
        self.commitments: PMap[Any] = PMap()
        self.notices: PMap[Any] = PMap()
        self.open_invoices: PMap[date] = PMap()  # number → due date, while anything is open
        self.payment_keys: PMap[str] = PMap()  # payer|amount|reference → first payment
        self.balances: dict[str, Decimal] = {}  # per currency: invoiced − credited − paid
        self.invoice_seq = 0
        self.credit_note_seq = 0
        self.payment_seq = 0
        self.notice_seq = 0
        self.hold: CreditHold | None = None
        self.release: HoldRelease | None = None

    # --- creation and terms -----------------------------------------------------------------

    @classmethod
    def open(cls, customer_id: str, terms: AccountTerms, meta: EventMeta) -> CustomerAccount:
        require_finance(meta, "open an account (credit limit and term)")
        return cls._create(ev.AccountOpened, id=account_id(customer_id), meta=meta,
                           customer_id=customer_id.strip(), terms=terms)

    def change_terms(self, terms: AccountTerms, meta: EventMeta) -> list[str]:
        require_finance(meta, "change an account's terms")
        changes = [f for f in AccountTerms.model_fields
                   if getattr(terms, f) != getattr(self.terms, f)]
        if not changes:
            raise InvalidTransition("account_unchanged", "the new terms change nothing")
        self.trigger_event(ev.AccountChanged, meta=meta, terms=terms, changes=changes)
        for currency in sorted(self.balances):
            self._hold_if_over_limit(currency, meta.occurred_at.date(), meta)
        return changes

    # --- state helpers (used by the events' apply) ----------------------------------------------

    def _put_invoice(self, inv: Invoice) -> None:
        self.invoices = self.invoices.set(inv.number, inv)
        if inv.open_amount > 0:
            if self.open_invoices.get(inv.number) != inv.due_date:
                self.open_invoices = self.open_invoices.set(inv.number, inv.due_date)
        elif inv.number in self.open_invoices:
            self.open_invoices = self.open_invoices.delete(inv.number)

    def _add_balance(self, currency: str, delta: Decimal) -> None:
        self.balances = {**self.balances,
                         currency: self.balances.get(currency, Decimal(0)) + delta}

    def _invoice(self, number: str) -> Invoice:
        inv = self.invoices.get(number)
        if inv is None:
            raise NotFound("invoice_not_found", f"no invoice {number} on this account")
        return inv

    def next_number(self, kind: str) -> str:
        seq = {"INV": self.invoice_seq, "CN": self.credit_note_seq, "PAY": self.payment_seq,
               "DN": self.notice_seq}[kind]
        return f"{kind}-{self.customer_id}-{seq + 1:05d}"

    # --- invoices -----------------------------------------------------------------------------

    def issue_invoice(self, shipment: Shipment, bill_to: str, currency: str,
                      charge_numbers: list[int] | None,
                      explanations: list[ConceptExplanation], issue_date: date | None,
                      meta: EventMeta, replaces: str | None = None) -> Invoice:
        """Bill a shipment's receivable charges to one bill-to party in one currency."""
        require_ar(meta, "issue invoices")
        if shipment.order.customer_id.strip() != self.customer_id:
            raise DomainError("shipment_of_other_customer", f"shipment {shipment.id} is "
                              f"billed to account {shipment.order.customer_id}", "shipment_id")
        party = self.terms.bill_to_party(bill_to)
        if party is None:
            raise DomainError("bill_to_unknown", f"{bill_to} is not a bill-to party of "
                              f"{self.customer_id}", "bill_to")
        if currency not in self.terms.currencies:
            raise DomainError("currency_not_accepted", f"{self.customer_id} is invoiced in "
                              f"{', '.join(self.terms.currencies)}", "currency")
        charges = select_charges(shipment, party, currency, charge_numbers)
        check_pre_invoice(shipment, party, explanations)
        issued = issue_date or meta.occurred_at.date()
        lines = invoice_lines(charges)
        invoice = Invoice(
            number=self.next_number("INV"), shipment_id=shipment.id, bill_to=party.code,
            currency=currency, lines=lines, total=sum((ln.amount for ln in lines), Decimal(0)),
            issue_date=issued, due_date=due_date(issued, self.terms.credit_term_days,
                                                 self.terms.settlement_mode),
            explanations=explanations, replaces=replaces, reference=job_reference(shipment))
        self.trigger_event(ev.InvoiceIssued, meta=meta, invoice=invoice)
        self._hold_if_over_limit(currency, issued, meta)
        return invoice

    def issue_credit_note(self, invoice_number: str, lines: list[CreditNoteLine], reason: str,
                          issue_date: date | None, meta: EventMeta,
                          rebill: bool = False) -> CreditNote:
        """Credit whole invoice lines (their charges are released from the invoice) or an
        amount (a discount, a dispute settled); never more than the invoice still owes."""
        require_finance(meta, "issue credit notes")
        inv = self._invoice(invoice_number)
        if not lines:
            raise DomainError("credit_note_empty", "a credit note needs a line", "lines")
        by_charge = {ln.charge_number: ln for ln in inv.lines}
        credited: list[CreditNoteLine] = []
        for line in lines:
            if line.charge_number is not None:
                on_invoice = by_charge.get(line.charge_number)
                if on_invoice is None:
                    raise DomainError("charge_not_on_invoice", f"charge {line.charge_number} "
                                      f"is not on {invoice_number}", "lines")
                if line.charge_number in inv.credited_charges or \
                        line.charge_number in [c.charge_number for c in credited]:
                    raise InvalidTransition("charge_already_credited", f"charge "
                                            f"{line.charge_number} was credited already")
                credited.append(CreditNoteLine(
                    charge_number=line.charge_number, amount=on_invoice.amount,
                    description=line.description or f"{on_invoice.code} credited"))
            else:
                check_amount(Money(amount=line.amount, currency=inv.currency), "lines")
                credited.append(line)
        total = sum((ln.amount for ln in credited), Decimal(0))
        if total > inv.open_amount:
            raise InvalidTransition("credit_exceeds_open_amount", f"{total} {inv.currency} "
                                    f"is more than {invoice_number} still owes "
                                    f"({inv.open_amount}); unapply its payments first")
        note = CreditNote(number=self.next_number("CN"), invoice_number=invoice_number,
                          shipment_id=inv.shipment_id, currency=inv.currency, lines=credited,
                          total=total, issue_date=issue_date or meta.occurred_at.date(),
                          reason=reason, rebill=rebill)
        self.trigger_event(ev.CreditNoteIssued, meta=meta, credit_note=note)
        return note

    def rebill(self, invoice_number: str, shipment: Shipment, reason: str,
               explanations: list[ConceptExplanation], issue_date: date | None,
               meta: EventMeta) -> tuple[CreditNote, Invoice]:
        """Re-bill (refacturación): credit the whole invoice and issue a new one from the
        same charges as they read now (``shipment`` after its adjustments); payments applied
        to the old invoice move to the new one as far as it owes."""
        require_finance(meta, "re-bill an invoice")
        inv = self._invoice(invoice_number)
        if inv.credited or inv.replaced_by:
            raise InvalidTransition("invoice_credited", f"{invoice_number} was credited or "
                                    "re-billed already: bill the charges on a new invoice")
        on = issue_date or meta.occurred_at.date()
        moved: list[tuple[str, Decimal]] = []
        for p in self.payments.values():
            if p.applied.get(invoice_number):
                amount = p.applied[invoice_number]
                self.trigger_event(ev.PaymentUnapplied, meta=meta, number=p.number,
                                   invoice_number=invoice_number, on=on, reason=reason,
                                   amount=Money(amount=amount, currency=inv.currency))
                moved.append((p.number, amount))
        note = self.issue_credit_note(
            invoice_number, [CreditNoteLine(charge_number=ln.charge_number)
                             for ln in inv.lines], reason, on, meta, rebill=True)
        live = {c.number for c in shipment.charges if not c.voided}
        numbers = [ln.charge_number for ln in inv.lines if ln.charge_number in live]
        if not numbers:
            raise DomainError("nothing_to_invoice", "every charge of the invoice is voided: "
                              "issue a credit note instead of a re-bill")
        new = self.issue_invoice(shipment, inv.bill_to, inv.currency, numbers,
                                 [*inv.explanations, *explanations], on, meta,
                                 replaces=invoice_number)
        room = new.total
        for number, amount in moved:
            take = min(amount, room)
            if take > 0:
                moved_back = Application(invoice_number=new.number,
                                         amount=Money(amount=take, currency=inv.currency))
                self.trigger_event(ev.PaymentApplied, meta=meta, number=number, on=on,
                                   applications=[moved_back])
                room -= take
        return note, new

    def dispute_invoice(self, invoice_number: str, reason: str, meta: EventMeta) -> None:
        require_ar(meta, "record a dispute")
        inv = self._invoice(invoice_number)
        if inv.dispute is not None:
            raise InvalidTransition("invoice_already_disputed", f"{invoice_number} is "
                                    f"disputed already: {inv.dispute}")
        if inv.open_amount <= 0:
            raise InvalidTransition("invoice_settled", f"{invoice_number} owes nothing")
        self.trigger_event(ev.InvoiceDisputed, meta=meta, invoice_number=invoice_number,
                           reason=reason)

    def resolve_dispute(self, invoice_number: str, resolution: str, meta: EventMeta) -> None:
        require_ar(meta, "resolve a dispute")
        if self._invoice(invoice_number).dispute is None:
            raise InvalidTransition("invoice_not_disputed", f"{invoice_number} is not "
                                    "disputed")
        self.trigger_event(ev.DisputeResolved, meta=meta, invoice_number=invoice_number,
                           resolution=resolution)

    # --- credit hold --------------------------------------------------------------------------

    def credit_reasons(self, on: date) -> list[str]:
        """Why the account should be on hold at ``on``: a currency over its limit, an
        undisputed item overdue more than ``hold_after_days_overdue`` days."""
        reasons = [f"over_credit_limit:{cur}" for cur, balance in sorted(self.balances.items())
                   if balance > self.terms.limit(cur)]
        days = self.terms.hold_after_days_overdue
        reasons += sorted(f"overdue:{n}" for n, due in self.open_invoices.items()
                          if (on - due).days > days and self.invoices[n].dispute is None)
        return reasons

    def uncovered_reasons(self, on: date) -> list[str]:
        """The reasons a release by finance did not accept: new overdue items, or exposure
        above what it was when released."""
        return [r for r in self.credit_reasons(on) if not self._covered(r)]

    def _covered(self, reason: str) -> bool:
        if self.release is None or reason not in self.release.covered:
            return False
        kind, _, currency = reason.partition(":")
        if kind != "over_credit_limit":
            return True
        accepted = next((m.amount for m in self.release.covered_exposure
                         if m.currency == currency), Decimal(0))
        return self.balances.get(currency, Decimal(0)) <= accepted

    def hold_violation(self, on: date) -> Violation | None:
        """The review violation for a booking of this customer, if it is on credit hold."""
        reasons = list(self.hold.reasons) if self.hold else self.uncovered_reasons(on)
        if not reasons:
            return None
        since = f" since {self.hold.placed_on}" if self.hold else ""
        return Violation(rule="customer_on_credit_hold", field="customer_id",
                         detail=f"{self.customer_id} is on credit hold{since} "
                                f"({', '.join(reasons)}); finance must release it")

    def _hold_if_over_limit(self, currency: str, on: date, meta: EventMeta) -> None:
        reason = f"over_credit_limit:{currency}"
        over = self.balances.get(currency, Decimal(0)) > self.terms.limit(currency)
        if self.hold is None and over and not self._covered(reason):
            self.trigger_event(ev.CreditHoldPlaced, meta=meta, hold=CreditHold(
                placed_on=on, reasons=[reason], placed_by=meta.actor, automatic=True,
                note=f"exposure {self.balances[currency]} {currency} over the limit "
                     f"{self.terms.limit(currency)}"))

    def check_credit(self, on: date | None, meta: EventMeta) -> list[str]:
        """Put the account on hold if it is over a limit or has items overdue past the
        configured days (time passing is not an event: AR, a scheduler or a review asks)."""
        require_ar(meta, "check credit")
        on = on or meta.occurred_at.date()
        reasons = self.uncovered_reasons(on)
        if reasons and self.hold is None:
            self.trigger_event(ev.CreditHoldPlaced, meta=meta, hold=CreditHold(
                placed_on=on, reasons=reasons, placed_by=meta.actor, automatic=True))
        return list(self.hold.reasons) if self.hold else reasons

    def place_hold(self, note: str, meta: EventMeta) -> None:
        require_finance(meta, "put an account on credit hold")
        if self.hold is not None:
            raise InvalidTransition("already_on_hold", f"on hold since {self.hold.placed_on}")
        on = meta.occurred_at.date()
        self.trigger_event(ev.CreditHoldPlaced, meta=meta, hold=CreditHold(
            placed_on=on, reasons=["manual", *self.credit_reasons(on)], placed_by=meta.actor,
            automatic=False, note=note))

    def release_hold(self, reason: str, meta: EventMeta) -> None:
        """Finance releases the hold (who and why are recorded); the release accepts the
        reasons as they stand now, not new overdue items or a higher exposure."""
        require_finance(meta, "release a credit hold")
        on = meta.occurred_at.date()
        if self.hold is None and not self.uncovered_reasons(on):
            raise InvalidTransition("not_on_hold", f"{self.customer_id} is not on hold")
        if not reason.strip():
            raise DomainError("release_reason_required", "say why the hold is released",
                              "reason")
        reasons = self.credit_reasons(on)
        exposure = [Money(amount=self.balances[r.partition(":")[2]],
                          currency=r.partition(":")[2])
                    for r in reasons if r.startswith("over_credit_limit:")]
        self.trigger_event(ev.CreditHoldReleased, meta=meta, release=HoldRelease(
            released_on=on, released_by=meta.actor, reason=reason, covered=reasons,
            covered_exposure=exposure))
