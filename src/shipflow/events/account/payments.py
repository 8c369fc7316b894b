"""CustomerAccount commands for cash and collections: payments received and applied,
possible duplicates, bounced cheques, collection commitments and dunning notices (催缴单).

A section of the one CustomerAccount aggregate, in a file of its own for length: it builds on
the typed :class:`~shipflow.events.account.state.AccountState` like the rest of it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from shipflow.events.account import events as ev
from shipflow.events.account.state import AccountState, require_ar, require_finance
from shipflow.events.account.values import (
    DUNNING_ORDER,
    Application,
    Commitment,
    CommitmentOutcome,
    DunningItem,
    DunningNotice,
    DunningRequest,
    Money,
    Payment,
    PaymentAdvice,
    PaymentMethod,
    PaymentStatus,
    PromiseToPay,
    Unapplication,
    check_amount,
)
from shipflow.events.common import DomainError, EventMeta, InvalidTransition, NotFound


class PaymentCommands(AccountState):
    """Cash and collections; :class:`~shipflow.events.account.aggregate.CustomerAccount`
    is these and the billing and credit commands."""

    @staticmethod
    def duplicate_key(p: Payment) -> str:
        """Payer, amount and bank reference: what makes two payments look like one."""
        payer = " ".join(p.payer.split()).casefold()
        return f"{payer}|{p.amount.amount.normalize()}|{p.amount.currency}|" \
               f"{p.bank_reference.strip().casefold()}"

    def receive_payment(self, advice: PaymentAdvice, meta: EventMeta) -> Payment:
        """Record money received. One whose payer, amount and bank reference match an
        earlier payment is flagged as a possible duplicate: it neither counts nor can be
        applied until finance confirms it (or rejects it as the duplicate it is)."""
        require_finance(meta, "record payments")
        amount, method, cheque = advice.amount, advice.method, advice.cheque
        check_amount(amount)
        if (method is PaymentMethod.CHEQUE) != (cheque is not None):
            raise DomainError("cheque_details_required", "a cheque payment carries the "
                              "cheque's details, and only a cheque payment does", "cheque")
        post_dated = cheque.post_dated if cheque else None
        value = advice.value_date or post_dated or meta.occurred_at.date()
        if post_dated and value < post_dated:
            raise DomainError("value_date_before_post_date", f"the cheque is post-dated "
                              f"{post_dated}", "value_date")
        payment = Payment(number=self.next_number("PAY"), amount=amount,
                          bank_reference=advice.bank_reference.strip(), value_date=value,
                          payer=advice.payer, method=method, cheque=cheque,
                          status=PaymentStatus.RECEIVED)
        earlier = self.payment_keys.get(self.duplicate_key(payment)) \
            if payment.bank_reference else None
        if earlier is not None:
            payment = payment.model_copy(update={"status": PaymentStatus.FLAGGED,
                                                 "duplicate_of": earlier})
        self.trigger_event(ev.PaymentReceived, meta=meta, payment=payment)
        return payment

    def _flagged(self, number: str, meta: EventMeta, doing: str) -> Payment:
        require_finance(meta, doing)
        p = self._payment(number)
        if p.status is not PaymentStatus.FLAGGED:
            raise InvalidTransition("payment_not_flagged", f"{number} is {p.status}, not a "
                                    "possible duplicate")
        return p

    def confirm_payment(self, number: str, note: str, meta: EventMeta) -> None:
        """The flagged payment is genuine (the customer did pay twice, or a new payment)."""
        self._flagged(number, meta, "confirm a flagged payment")
        self.trigger_event(ev.PaymentConfirmed, meta=meta, number=number, note=note)

    def reject_payment(self, number: str, reason: str, meta: EventMeta) -> None:
        """The flagged payment is the same money recorded twice: it never counts."""
        self._flagged(number, meta, "reject a flagged payment")
        self.trigger_event(ev.PaymentRejected, meta=meta, number=number, reason=reason)

    def _usable(self, number: str, meta: EventMeta, doing: str) -> Payment:
        require_finance(meta, doing)
        p = self._payment(number)
        rule = {PaymentStatus.FLAGGED: "payment_possible_duplicate",
                PaymentStatus.REJECTED: "payment_rejected",
                PaymentStatus.BOUNCED: "payment_bounced"}.get(p.status)
        if rule:
            raise InvalidTransition(rule, f"{number} is {p.status}" + (
                f" (possible duplicate of {p.duplicate_of}): confirm it first"
                if p.status is PaymentStatus.FLAGGED else ""))
        return p

    def apply_payment(self, number: str, applications: list[Application], on: date | None,
                      meta: EventMeta) -> None:
        """Apply a payment to one or several invoices, fully or partly; what is not applied
        stays on account as unapplied cash."""
        p = self._usable(number, meta, "apply payments")
        on = on or meta.occurred_at.date()
        if p.cheque and p.cheque.post_dated and on < p.cheque.post_dated:
            raise InvalidTransition("cheque_post_dated", f"the cheque is post-dated "
                                    f"{p.cheque.post_dated}")
        if not applications:
            raise DomainError("application_empty", "apply to at least one invoice",
                              "applications")
        seen: set[str] = set()
        for app in applications:
            check_amount(app.amount, "applications")
            if app.invoice_number in seen:
                raise DomainError("invoice_repeated", f"{app.invoice_number} appears twice",
                                  "applications")
            seen.add(app.invoice_number)
            inv = self._invoice(app.invoice_number)
            if app.amount.currency != p.amount.currency or inv.currency != p.amount.currency:
                raise DomainError("application_currency_mismatch", f"{p.number} is in "
                                  f"{p.amount.currency}, {inv.number} in {inv.currency}",
                                  "applications")
            if app.amount.amount > inv.open_amount:
                raise DomainError("application_exceeds_open_amount", f"{inv.number} owes "
                                  f"{inv.open_amount} {inv.currency}", "applications")
        total = sum((a.amount.amount for a in applications), Decimal(0))
        if total > p.unapplied:
            raise DomainError("application_exceeds_unapplied", f"{number} has "
                              f"{p.unapplied} {p.amount.currency} unapplied", "applications")
        self.trigger_event(ev.PaymentApplied, meta=meta, number=number,
                           applications=applications, on=on)

    def unapply_payment(self, number: str, u: Unapplication, meta: EventMeta) -> None:
        p = self._usable(number, meta, "unapply payments")
        invoice_number = u.invoice_number
        applied = p.applied.get(invoice_number, Decimal(0))
        if not applied:
            raise InvalidTransition("not_applied", f"{number} is not applied to "
                                    f"{invoice_number}")
        amount = u.amount or Money(amount=applied, currency=p.amount.currency)
        check_amount(amount)
        if amount.currency != p.amount.currency or amount.amount > applied:
            raise DomainError("unapplication_exceeds_applied", f"{applied} "
                              f"{p.amount.currency} is applied to {invoice_number}", "amount")
        self.trigger_event(ev.PaymentUnapplied, meta=meta, number=number, amount=amount,
                           invoice_number=invoice_number, reason=u.reason,
                           on=u.on or meta.occurred_at.date())

    def bounce_cheque(self, number: str, on: date | None, reason: str,
                      meta: EventMeta) -> list[Application]:
        """A cheque came back unpaid: its applications are reversed, the invoices are open
        again and the amount is owed again (a debit line on the statement)."""
        p = self._usable(number, meta, "record a bounced cheque")
        if p.method is not PaymentMethod.CHEQUE:
            raise DomainError("not_a_cheque", f"{number} was paid by {p.method}")
        on = on or meta.occurred_at.date()
        reversed_ = [Application(invoice_number=n, amount=Money(amount=a,
                                                                 currency=p.amount.currency))
                     for n, a in sorted(p.applied.items())]
        self.trigger_event(ev.ChequeBounced, meta=meta, number=number, on=on,
                           reason=reason, reversed=reversed_)
        self._hold_if_over_limit(p.amount.currency, on, meta)
        return reversed_

    # --- collections ----------------------------------------------------------------------------

    def record_commitment(self, promise: PromiseToPay, meta: EventMeta) -> int:
        """A promise to pay (compromiso de cobranza) by a date."""
        require_ar(meta, "record collection commitments")
        check_amount(promise.amount)
        for n in promise.invoice_numbers:
            self._invoice(n)
        number = len(self.commitments) + 1
        self.trigger_event(ev.CommitmentRecorded, meta=meta, commitment=Commitment(
            number=number, amount=promise.amount, promised_date=promise.promised_date,
            invoice_numbers=promise.invoice_numbers, contact=promise.contact, note=promise.note,
            recorded_on=meta.occurred_at.date(), recorded_by=meta.actor))
        return number

    def record_commitment_outcome(self, number: int, outcome: CommitmentOutcome, note: str,
                                  on: date | None, meta: EventMeta) -> None:
        require_ar(meta, "record a commitment's outcome")
        c = self.commitments.get(str(number))
        if c is None:
            raise NotFound("commitment_not_found", f"no commitment {number}")
        if c.outcome is not None:
            raise InvalidTransition("commitment_decided", f"commitment {number} was "
                                    f"{c.outcome} already")
        self.trigger_event(ev.CommitmentOutcomeRecorded, meta=meta, number=number,
                           outcome=outcome, note=note, on=on or meta.occurred_at.date())

    def issue_dunning_notice(self, request: DunningRequest, meta: EventMeta) -> DunningNotice:
        """A dunning notice (催缴单) for the overdue, undisputed items of one shipment or of
        the whole account. Escalation goes reminder → pre-legal → legal: every item must
        have had the level before."""
        require_ar(meta, "issue dunning notices")
        level, shipment_id = request.level, request.shipment_id
        invoice_numbers = request.invoice_numbers
        on = request.on or meta.occurred_at.date()
        candidates = [self.invoices[n] for n, due in self.open_invoices.items()
                      if due < on]
        if shipment_id is not None:
            candidates = [i for i in candidates if i.shipment_id == shipment_id]
        if invoice_numbers is not None:
            overdue = {i.number for i in candidates}
            for n in invoice_numbers:
                if self._invoice(n).dispute is not None:
                    raise InvalidTransition("invoice_disputed", f"{n} is disputed")
                if n not in overdue:
                    raise InvalidTransition("invoice_not_overdue", f"{n} is not overdue "
                                            f"on {on}" + (" for this shipment"
                                                          if shipment_id else ""))
            candidates = [i for i in candidates if i.number in set(invoice_numbers)]
        items = sorted((i for i in candidates if i.dispute is None),
                       key=lambda i: (i.due_date, i.number))
        if not items:
            raise InvalidTransition("nothing_overdue", f"nothing undisputed is overdue on {on}")
        need = DUNNING_ORDER.index(level) - 1
        early = [i.number for i in items if need >= 0 and (
            i.dunning_level is None or DUNNING_ORDER.index(i.dunning_level) < need)]
        if early:
            raise InvalidTransition("escalation_out_of_order", f"{', '.join(early)} had no "
                                    f"{DUNNING_ORDER[need]} notice yet")
        totals: dict[str, Decimal] = {}
        for i in items:
            totals[i.currency] = totals.get(i.currency, Decimal(0)) + i.open_amount
        notice = DunningNotice(
            number=self.next_number("DN"), level=level, shipment_id=shipment_id,
            issued_on=on, issued_by=meta.actor,
            items=[DunningItem(invoice_number=i.number, shipment_id=i.shipment_id,
                               currency=i.currency, open_amount=i.open_amount,
                               due_date=i.due_date, days_overdue=(on - i.due_date).days)
                   for i in items],
            totals=[Money(amount=a, currency=c) for c, a in sorted(totals.items())])
        self.trigger_event(ev.DunningNoticeIssued, meta=meta, notice=notice)
        return notice
