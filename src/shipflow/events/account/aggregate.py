"""The CustomerAccount aggregate: a customer's terms, invoices, credit notes, payments and
their application, collection commitments, dunning notices and credit holds.

One account per customer code (``BookingOrder.customer_id``); its id is derived from the
code, so a booking review finds it without a look-up table. Each public method is a
command: it checks the rules and records events (:mod:`shipflow.events.account.events`); a
refused command raises a named :class:`DomainError` and records nothing.

The state, its credit rules and guards are in :mod:`~shipflow.events.account.state`; cash
and collections in :mod:`~shipflow.events.account.payments`; this file: terms, billing
(invoices, credit notes, re-bills, disputes) and credit holds.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from shipflow.events.account import events as ev
from shipflow.events.account.invoicing import (
    check_pre_invoice,
    due_date,
    invoice_lines,
    job_reference,
    select_charges,
)
from shipflow.events.account.payments import PaymentCommands
from shipflow.events.account.state import (
    ACCOUNTS_NAMESPACE,
    AR_ROLES,
    account_id,
    require_ar,
    require_finance,
)
from shipflow.events.account.values import (
    AccountTerms,
    Application,
    CreditHold,
    CreditNote,
    CreditNoteLine,
    HoldRelease,
    Invoice,
    InvoiceRequest,
    Money,
    RebillRequest,
    check_amount,
)
from shipflow.events.common import DomainError, EventMeta, InvalidTransition
from shipflow.events.shipment.aggregate import Shipment

__all__ = ["ACCOUNTS_NAMESPACE", "AR_ROLES", "CustomerAccount", "account_id", "require_ar",
           "require_finance"]


class CustomerAccount(PaymentCommands):
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

    # --- invoices -----------------------------------------------------------------------------

    def issue_invoice(self, shipment: Shipment, request: InvoiceRequest, meta: EventMeta,
                      replaces: str | None = None) -> Invoice:
        """Bill a shipment's receivable charges to one bill-to party in one currency."""
        require_ar(meta, "issue invoices")
        bill_to, currency, explanations = request.bill_to, request.currency, request.explanations
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
        charges = select_charges(shipment, party, currency, request.charge_numbers)
        check_pre_invoice(shipment, party, explanations)
        issued = request.issue_date or meta.occurred_at.date()
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

    def rebill(self, invoice_number: str, shipment: Shipment, request: RebillRequest,
               meta: EventMeta) -> tuple[CreditNote, Invoice]:
        """Re-bill (refacturación): credit the whole invoice and issue a new one from the
        same charges as they read now (``shipment`` after its adjustments); payments applied
        to the old invoice move to the new one as far as it owes."""
        require_finance(meta, "re-bill an invoice")
        inv = self._invoice(invoice_number)
        if inv.credited or inv.replaced_by:
            raise InvalidTransition("invoice_credited", f"{invoice_number} was credited or "
                                    "re-billed already: bill the charges on a new invoice")
        reason, on = request.reason, request.issue_date or meta.occurred_at.date()
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
        new = self.issue_invoice(shipment, InvoiceRequest(
            shipment_id=shipment.id, bill_to=inv.bill_to, currency=inv.currency,
            charge_numbers=numbers, explanations=[*inv.explanations, *request.explanations],
            issue_date=on), meta, replaces=invoice_number)
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
