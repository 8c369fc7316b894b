"""Charge lines on a job: receivable, payable and collect kept apart, domain.md §2.6."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field

from shipflow.events.common import Code, Money, NonEmptyStr, RulesBroken, ValueObject, Violation


class ChargeDirection(Code):
    RECEIVABLE = "RECEIVABLE"  # from a bill-to party
    PAYABLE = "PAYABLE"  # to a vendor
    COLLECT = "COLLECT"  # 到付: collected at destination


#: Extra costs that must carry the reason they arose (and go to sales and finance at once).
EXTRA_COST_CODES = frozenset({"STORAGE", "DEMURRAGE", "DETENTION", "INSPECTION", "REHANDLING"})


class ChargeLine(ValueObject):
    direction: ChargeDirection
    code: str = Field(min_length=2, max_length=20, pattern=r"^[A-Z0-9_]+$")
    description: str = ""
    quantity: Decimal = Field(gt=0, max_digits=12, decimal_places=3)
    unit_price: Money
    counterparty: NonEmptyStr
    reason: str | None = None

    @property
    def amount(self) -> Money:
        return self.unit_price.times(self.quantity)


class ChargeChange(ValueObject):
    quantity: Decimal | None = Field(default=None, gt=0, max_digits=12, decimal_places=3)
    unit_price: Money | None = None
    reason: NonEmptyStr


def check_charge(line: ChargeLine) -> None:
    """An extra cost (storage, demurrage, …) must carry the reason it arose."""
    if line.code in EXTRA_COST_CODES and not (line.reason or "").strip():
        raise RulesBroken([Violation(rule="extra_cost_reason_required", field="reason",
                                     detail=f"{line.code} is an extra cost: record its reason")])
