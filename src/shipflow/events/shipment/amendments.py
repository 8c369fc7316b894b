"""Applying an amendment's change set to a booking order.

A change names a dotted path into the order (``pod``, ``consignee.address``,
``equipment.0.count``) and the value it should hold after. The result is validated as a
whole booking order and against the data rules, so an amendment can never produce an order
that a booking request would have been refused for.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import Field, ValidationError

from shipflow.events.common import DomainError, NonEmptyStr, RulesBroken, ValueObject, Violation
from shipflow.events.shipment import rules
from shipflow.events.shipment.booking import AMENDABLE_INTAKE, NOT_AMENDABLE, BookingOrder
from shipflow.events.shipment.charges import ChargeLine
from shipflow.events.shipment.records import FieldChange

_MISSING = object()  # a path that leads nowhere


class AmendmentRequest(ValueObject):
    """An amendment (委托更改) as the customer asked for it: the change set, the reference
    to their written confirmation, and the fees it causes (recorded with it, §2.2)."""

    changes: list[FieldChange] = Field(examples=[[
        {"field": "pod", "after": "MXZLO"}, {"field": "equipment.0.count", "after": 2}]])
    customer_confirmation_ref: NonEmptyStr = Field(
        description="the customer's written confirmation (e-mail id, signed form number)")
    reason: str = ""
    charges: list[ChargeLine] = Field(default_factory=list,
                                      description="fees the amendment causes")
    notify_parties: list[str] = Field(default_factory=list, examples=[
        ["carrier_desk", "customs_broker", "warehouse", "trucking", "finance"]])


def _walk(doc: Any, parts: list[str]) -> Any:
    for part in parts:
        if isinstance(doc, list) and part.isdigit() and int(part) < len(doc):
            doc = doc[int(part)]
        elif isinstance(doc, dict) and part in doc:
            doc = doc[part]
        else:
            return _MISSING
    return doc


def _same(given: Any, current: Any) -> bool:
    """Compare a client's ``before`` with the stored value by value: numbers as numbers (the
    order's decimals read back as strings, a client may send 14500 or "14500.000"), objects
    key by key with an absent key equal to null (a TMS sends a party without the optional
    keys it left out at booking), lists item by item."""
    if isinstance(given, dict) and isinstance(current, dict):
        return all(_same(given.get(k), current.get(k)) for k in given.keys() | current.keys())
    if isinstance(given, list) and isinstance(current, list):
        return len(given) == len(current) and all(
            _same(g, c) for g, c in zip(given, current, strict=True))
    if isinstance(given, bool) or isinstance(current, bool):
        return given is current
    if isinstance(given, (int, float, str)) and isinstance(current, (int, float, str)):
        try:
            return Decimal(str(given)) == Decimal(str(current))
        except InvalidOperation:
            return str(given) == str(current)
    return bool(given == current)


def apply_changes(order: BookingOrder,
                  changes: list[FieldChange]) -> tuple[BookingOrder, list[FieldChange]]:
    """Return the amended order and the change set with each ``before`` filled in."""
    if not changes:
        raise DomainError("amendment_empty", "an amendment needs at least one change", "changes")
    doc = order.model_dump(mode="json")
    recorded: list[FieldChange] = []
    for i, change in enumerate(changes):
        parts = change.field.split(".")
        where = f"changes.{i}.field"
        if parts[0] in NOT_AMENDABLE:
            raise DomainError("field_not_amendable", f"'{parts[0]}' cannot be amended; "
                              "reassign the booking instead", where)
        if parts[0] == "intake" and (len(parts) < 2 or parts[1] not in AMENDABLE_INTAKE):
            raise DomainError("field_not_amendable", "of a DCSA intake only intake.content "
                              "and intake.unmapped can be amended", where)
        parent = _walk(doc, parts[:-1])
        leaf = parts[-1]
        if isinstance(parent, dict) and leaf in parent:
            before = parent.get(leaf)
            parent[leaf] = change.after
        elif isinstance(parent, list) and leaf.isdigit() and int(leaf) < len(parent):
            before = parent[int(leaf)]
            parent[int(leaf)] = change.after
        else:
            raise DomainError("unknown_field", f"the booking order has no field "
                              f"'{change.field}'", where)
        if change.before is not None and not _same(change.before, before):
            raise DomainError("amendment_before_mismatch", f"'{change.field}' reads {before!r}"
                              f", not {change.before!r}", f"changes.{i}.before")
        recorded.append(FieldChange(field=change.field, before=before, after=change.after))
    try:
        amended = BookingOrder.model_validate(doc)
    except ValidationError as e:
        raise RulesBroken([
            Violation(rule=err["type"], detail=err["msg"],
                      field=".".join(str(p) for p in err["loc"]))
            for err in e.errors()]) from None
    if amended == order:
        raise DomainError("amendment_changes_nothing", "the booking already reads like this",
                          "changes")
    broken = rules.data_violations(amended)
    if broken:
        raise RulesBroken(broken)
    return amended, recorded

