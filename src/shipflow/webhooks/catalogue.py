"""The webhook event types: which aggregate's events become which dotted type, and the payload.

Each aggregate whose events reach subscribers is one :class:`Source`: its stream in the
notification log, the id field the payload names it by (``shipment_id``, ``account_id``),
and a **small table** from its event class names to ``(webhook type, data function)``. A data
function turns the event (and the aggregate after it) into the domain fields a subscriber
needs; it returns None when the event is not news (e.g. a superseded estimate). A source may
also derive types that are not one event (``shipment.bl_draft_changed``).

Adding an aggregate (e.g. ``CustomerAccount`` → ``account.invoice_issued``) is one more
:class:`Source` in :data:`SOURCES`; the dispatcher, matching, API and docs follow.

Payload (the JSON body of every message)::

    {"id": "msg_…", "type": "shipment.eta_changed", "occurred_at": "…", "recorded_at": "…",
     "position": 1234, "shipment_id": "…", "customer_id": "CUST-ACME", "data": {…}}
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from pydantic import BaseModel

from shipflow.events.topics import Stream

#: uuid5 namespace of message ids: the same event and type always give the same webhook-id.
MESSAGE_NAMESPACE = uuid.UUID("6f1d7c58-2b7e-4b5c-9a0e-5f3c8d9e1a21")

@dataclass(frozen=True)
class EventType:
    name: str  # shipment.eta_changed
    description: str
    source: str  # the Source's name: shipment, account, webhook


@dataclass(frozen=True)
class Source:
    name: str  # shipment
    stream: Stream  # the aggregate's events, by their current and older topics
    subject_field: str  # shipment_id
    #: event class name → (webhook type, data function)
    table: Mapping[str, tuple[str, Callable[[Any, Any], Any]]]
    #: the customer an aggregate belongs to (for a subscription's customer filter)
    customer: Callable[[Any], str | None]
    types: tuple[EventType, ...]
    #: types derived from more than one event: (event, aggregate, ctx) → [(type, data)]
    derive: Callable[[Any, Any, Any], list[tuple[str, dict[str, Any]]]] | None = None
    #: data every message of this source carries as ``data[summary_key]``
    summary: Callable[[Any], dict[str, Any]] | None = None
    summary_key: str = field(default="")

    def folds(self, topic: str) -> bool:
        return self.stream.owns(topic)


@dataclass(frozen=True)
class Message:
    id: str  # msg_<hex>: the webhook-id
    type: str
    subject: str
    customer_id: str | None
    position: int
    body: str  # the exact JSON sent


# --- subscriptions' filters ----------------------------------------------------------------


def invalid_patterns(patterns: Iterable[str]) -> list[str]:
    """The patterns that name no type: a known type, ``<prefix>.*`` or ``*`` are valid."""
    bad = []
    for p in patterns:
        if p == "*" or p in EVENT_TYPES:
            continue
        if p.endswith(".*") and p[:-2] in PREFIXES:
            continue
        bad.append(p)
    return bad


def matches(patterns: Sequence[str], type_: str) -> bool:
    for p in patterns:
        if p == "*" or p == type_ or (p.endswith(".*") and type_.startswith(p[:-1])):
            return True
    return False


# --- payloads ------------------------------------------------------------------------------


def jsonable(value: Any) -> Any:
    """Domain values as JSON: models as objects, codes as strings, money as decimal strings."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, BaseModel):
        return {k: jsonable(getattr(value, k)) for k in type(value).model_fields}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return str(value)


def message_id(originator_id: uuid.UUID, version: int, type_: str, view: str = "") -> str:
    """The webhook-id: one per (event, type) and view (``""`` the forwarder's, ``customer``
    the customer view's), so a retry or replay resends the same id."""
    name = f"{originator_id}:{version}:{type_}" + (f":{view}" if view else "")
    return "msg_" + uuid.uuid5(MESSAGE_NAMESPACE, name).hex


Payloads = list[tuple[str, dict[str, Any]]]
#: Reshapes one message's data for a reader: ``(type, data, event, aggregate)`` → the data
#: that reader gets, or None when the message is not for it.
Shape = Callable[[str, dict[str, Any], Any, Any], dict[str, Any] | None]


def payloads(source: Source, event: Any, aggregate: Any, ctx: Any,
             wanted: Callable[[str], bool] = lambda _t: True) -> Payloads:
    """The ``(type, data)`` one event makes (none, one, or several), only of ``wanted``
    types. Made once per event, whoever reads them (derived types fold views)."""
    out: Payloads = []
    entry = source.table.get(type(event).__name__)
    if entry is not None and wanted(entry[0]):
        data = entry[1](event, aggregate)
        if data is not None:
            out.append((entry[0], data))
    if source.derive is not None:
        out += [(t, d) for t, d in source.derive(event, aggregate, ctx) if wanted(t)]
    return out


def messages(source: Source, event: Any, aggregate: Any, position: int, out: Payloads,
             view: str = "", shape: Shape | None = None) -> list[Message]:
    """The messages of these payloads, as ``view`` sees them (``shape`` reshapes each)."""
    if not out:
        return []
    subject = str(event.originator_id)
    customer = source.customer(aggregate)
    summary = source.summary(aggregate) if source.summary else None
    meta = getattr(event, "meta", None)
    occurred = meta.occurred_at if meta is not None else event.timestamp
    found = []
    for type_, data in out:
        if shape is not None:
            shaped = shape(type_, data, event, aggregate)
            if shaped is None:
                continue
            data = shaped
        mid = message_id(event.originator_id, event.originator_version, type_, view)
        if summary is not None:
            data = {**data, source.summary_key: summary}
        body = {"id": mid, "type": type_, "occurred_at": jsonable(occurred),
                "recorded_at": jsonable(event.timestamp), "position": position,
                source.subject_field: subject, "customer_id": customer, "data": data}
        text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        found.append(Message(mid, type_, subject, customer, position, text))
    return found


def build(source: Source, event: Any, aggregate: Any, position: int, ctx: Any,
          wanted: Callable[[str], bool] = lambda _t: True) -> list[Message]:
    """The messages one event makes (none, one, or several), only of ``wanted`` types."""
    return messages(source, event, aggregate, position,
                    payloads(source, event, aggregate, ctx, wanted))


# --- the registry (last: the sources' modules import the definitions above) ------------

def _sources() -> list[Source]:
    from shipflow.webhooks import account_types, shipment_types, subscription_types

    return [shipment_types.SOURCE, subscription_types.SOURCE, account_types.SOURCE]


SOURCES: list[Source] = _sources()
EVENT_TYPES: dict[str, EventType] = {t.name: t for s in SOURCES for t in s.types}
PREFIXES = frozenset(name.split(".")[0] for name in EVENT_TYPES)


def source_for(topic: str) -> Source | None:
    for s in SOURCES:
        if s.folds(topic):
            return s
    return None
