"""Pure rules for billing a shipment: which charges an invoice takes, the pre-invoice check
(every concept sold on the hand-over is on the bill, or the difference is explained), and
due dates from the credit term and settlement mode."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from shipflow.events.account.values import BillTo, ConceptExplanation, InvoiceLine, SettlementMode
from shipflow.events.common import DomainError, InvalidTransition, NotFound, Violation
from shipflow.events.shipment.aggregate import Shipment
from shipflow.events.shipment.charges import ChargeDirection
from shipflow.events.shipment.records import Charge

D = ChargeDirection


class BillRulesBroken(DomainError):
    """The bill breaks one or more rules (each named in ``violations``)."""

    def __init__(self, violations: list[Violation]) -> None:
        names = ", ".join(sorted({v.rule for v in violations}))
        super().__init__(violations[0].rule, f"the bill breaks: {names}", violations[0].field)
        self._violations = violations

    @property
    def violations(self) -> list[Violation]:
        return list(self._violations)


def due_date(issue: date, term_days: int, mode: SettlementMode) -> date:
    """票结: the term runs from the invoice date; 月结: from the last day of its month."""
    if mode is SettlementMode.MONTHLY:
        issue = issue.replace(day=calendar.monthrange(issue.year, issue.month)[1])
    return issue + timedelta(days=term_days)


def select_charges(shipment: Shipment, bill_to: BillTo, currency: str,
                   numbers: list[int] | None) -> list[Charge]:
    """The charges an invoice takes: the numbered ones (each checked), or else every live,
    not yet invoiced receivable charge of the shipment for this bill-to and currency.
    Collect charges (到付) are billed at destination, never on an origin invoice."""
    if numbers is None:
        chosen = [c for c in shipment.charges
                  if c.line.direction is D.RECEIVABLE and not c.voided
                  and c.invoice_number is None and bill_to.matches(c.line.counterparty)
                  and c.line.unit_price.currency == currency]
        if not chosen:
            raise DomainError("nothing_to_invoice", f"no live, uninvoiced receivable charge "
                              f"in {currency} for {bill_to.code} on this shipment")
        return chosen
    if not numbers:
        raise DomainError("nothing_to_invoice", "name at least one charge", "charge_numbers")
    if len(set(numbers)) != len(numbers):
        raise DomainError("charge_repeated", "a charge appears twice", "charge_numbers")
    by_number = {c.number: c for c in shipment.charges}
    chosen = []
    for n in numbers:
        c = by_number.get(n)
        if c is None:
            raise NotFound("charge_not_found", f"no charge {n} on this shipment")
        if c.line.direction is D.COLLECT:
            raise DomainError("collect_charge_not_invoiced_at_origin", f"charge {n} "
                              "is collect (到付): it is collected at destination",
                              "charge_numbers")
        if c.line.direction is not D.RECEIVABLE:
            raise DomainError("charge_not_receivable", f"charge {n} is payable to a "
                              "vendor", "charge_numbers")
        if c.voided:
            raise InvalidTransition("charge_voided", f"charge {n} was voided")
        if c.invoice_number is not None:
            raise InvalidTransition("charge_already_invoiced",
                                    f"charge {n} is on invoice {c.invoice_number}")
        if c.line.unit_price.currency != currency:
            raise DomainError("charge_currency_mismatch", f"charge {n} is in "
                              f"{c.line.unit_price.currency}, the invoice in {currency}",
                              "currency")
        if not bill_to.matches(c.line.counterparty):
            raise DomainError("charge_bill_to_mismatch", f"charge {n} is billed to "
                              f"{c.line.counterparty}, not {bill_to.code}", "bill_to")
        chosen.append(c)
    return chosen


def job_reference(shipment: Shipment) -> str:
    """The job as the customer knows it: B/L number, else carrier booking, else PO."""
    if shipment.bl_issue is not None:
        return f"B/L {shipment.bl_issue.bl_number}"
    if shipment.confirmation is not None:
        return f"BKG {shipment.confirmation.carrier_booking_no}"
    return f"PO {shipment.order.po_numbers[0]}" if shipment.order.po_numbers else ""


def invoice_lines(charges: list[Charge]) -> list[InvoiceLine]:
    return [InvoiceLine(charge_number=c.number, code=c.line.code,
                        description=c.line.description, quantity=c.line.quantity,
                        unit_price=c.line.unit_price, amount=c.line.amount.amount)
            for c in charges]


def pre_invoice_violations(shipment: Shipment, bill_to: BillTo,
                           explanations: list[ConceptExplanation]) -> list[Violation]:
    """``sold_concept_not_billed`` for each concept of the hand-over's sold rate (ocean
    freight and surcharges, by code) that no live receivable or collect charge of the job
    for this bill-to carries, unless the difference is explained."""
    billed = {c.line.code.upper() for c in shipment.charges
              if not c.voided and c.line.direction in (D.RECEIVABLE, D.COLLECT)
              and bill_to.matches(c.line.counterparty)}
    explained = {e.code.strip().upper() for e in explanations}
    sold = dict.fromkeys(r.code.strip().upper() for r in shipment.order.sold_rates)
    return [Violation(rule="sold_concept_not_billed", field="explanations",
                      detail=f"{code} was sold on the hand-over but is not on the bill; "
                             "add the charge or explain the difference")
            for code in sold if code not in billed and code not in explained]


def check_pre_invoice(shipment: Shipment, bill_to: BillTo,
                      explanations: list[ConceptExplanation]) -> None:
    broken = pre_invoice_violations(shipment, bill_to, explanations)
    if broken:
        raise BillRulesBroken(broken)
