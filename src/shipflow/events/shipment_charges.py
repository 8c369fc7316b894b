"""Shipment commands for charges: receivable, payable and collect lines."""

from __future__ import annotations

from shipflow.events import shipment_events as ev
from shipflow.events.charges import EXTRA_COST_CODES, ChargeChange, ChargeLine
from shipflow.events.errors import InvalidTransition, NotFound, RulesBroken, Violation
from shipflow.events.state import BookingStatus, Charge
from shipflow.events.values import EventMeta


class ChargeCommands:
    """Mixed into :class:`~shipflow.events.shipment.Shipment`."""


    def add_charge(self, line: ChargeLine, amendment_number: int | None,
                   meta: EventMeta) -> int:
        if self.status is BookingStatus.COMPLETED:
            raise InvalidTransition("shipment_completed", "the job is closed")
        check_charge(line)
        if amendment_number is not None and not any(
                a.number == amendment_number for a in self.amendments):
            raise NotFound("amendment_not_found", f"no amendment {amendment_number}",
                           "amendment_number")
        number = len(self.charges) + 1
        self.trigger_event(ev.ChargeAdded, meta=meta, number=number, line=line,
                           amendment_number=amendment_number)
        return number

    def _live_charge(self, number: int) -> Charge:
        if self.status is BookingStatus.COMPLETED:
            raise InvalidTransition("shipment_completed", "the job is closed")
        found = next((c for c in self.charges if c.number == number), None)
        if found is None:
            raise NotFound("charge_not_found", f"no charge {number} on this shipment")
        if found.voided:
            raise InvalidTransition("charge_voided", f"charge {number} was voided")
        if found.invoice_number is not None:
            raise InvalidTransition("charge_invoiced", f"charge {number} is on invoice "
                                    f"{found.invoice_number}: issue a credit note or a "
                                    "re-bill instead of changing it")
        return found

    def adjust_charge(self, number: int, change: ChargeChange, meta: EventMeta) -> None:
        charge = self._live_charge(number)
        update = {k: v for k, v in (("quantity", change.quantity),
                                     ("unit_price", change.unit_price)) if v is not None}
        line = charge.line.model_copy(update=update)
        if line == charge.line:
            raise InvalidTransition("charge_unchanged", "the adjustment changes nothing")
        self.trigger_event(ev.ChargeAdjusted, meta=meta, number=number, line=line,
                           reason=change.reason)

    def void_charge(self, number: int, reason: str, meta: EventMeta) -> None:
        self._live_charge(number)
        self.trigger_event(ev.ChargeVoided, meta=meta, number=number, reason=reason)

    def record_invoiced(self, invoice_number: str, customer_id: str,
                        charge_numbers: list[int], meta: EventMeta) -> None:
        """Receivable charges went on an invoice (accounts receivable checked them)."""
        for n in charge_numbers:
            c = next((c for c in self.charges if c.number == n), None)
            if c is None:
                raise NotFound("charge_not_found", f"no charge {n} on this shipment")
            if c.voided or c.invoice_number is not None:
                raise InvalidTransition("charge_already_invoiced" if c.invoice_number
                                        else "charge_voided", f"charge {n} cannot be invoiced")
        self.trigger_event(ev.ChargesInvoiced, meta=meta, invoice_number=invoice_number,
                           customer_id=customer_id, charge_numbers=charge_numbers)

    def release_invoiced(self, invoice_number: str, credit_note_number: str,
                         charge_numbers: list[int], meta: EventMeta) -> None:
        """A credit note took these charges off their invoice."""
        if not charge_numbers:
            return
        self.trigger_event(ev.ChargesReleased, meta=meta, invoice_number=invoice_number,
                           credit_note_number=credit_note_number,
                           charge_numbers=charge_numbers)


def check_charge(line: ChargeLine) -> None:
    if line.code in EXTRA_COST_CODES and not (line.reason or "").strip():
        raise RulesBroken([Violation(rule="extra_cost_reason_required", field="reason",
                                     detail=f"{line.code} is an extra cost: record its reason")])
