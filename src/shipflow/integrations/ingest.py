"""Bulk milestone ingest: carrier / visibility-provider events matched to shipments and
recorded, each with its own outcome, so one bad event never rejects the others.

Outcomes: ``accepted``; ``duplicate`` (that event id is recorded already: nothing
written); ``superseded`` (recorded for history, but an estimate older than the one we hold,
or an estimate after an actual, changes nothing); ``unmatched`` (no shipment carries its
references, or several do); ``invalid`` (with the rule it broke).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select

from shipflow.events.common import EventMeta, Source
from shipflow.events.shipment.records import TERMINAL_STATUSES
from shipflow.events.shipment.tracking import Classifier, Milestone
from shipflow.integrations.dcsa import Incoming, read_event
from shipflow.projections import search
from shipflow.projections.engine.read_models import ReadModels
from shipflow.services.shipments import ShipmentService

MAX_BATCH = 1_000
_FINAL = {s.value for s in TERMINAL_STATUSES}


@dataclass(frozen=True)
class Outcome:
    index: int
    event_id: str | None
    status: str  # accepted, duplicate, superseded, unmatched, invalid
    shipment_id: UUID | None = None
    reason: str | None = None


def occurred_at(milestone: Milestone, created_at: datetime | None) -> datetime:
    """When the fact a feed reports occurred: an actual happened at its ``eventDateTime``;
    a plan or an estimate is a statement the carrier made when it recorded it
    (``eventCreatedDateTime``), about a time still to come."""
    if milestone.classifier is Classifier.ACT or created_at is None:
        return milestone.event_time
    return created_at


class MilestoneIngest:
    def __init__(self, service: ShipmentService, read_models: ReadModels,
                 view_wait_s: float = 10.0) -> None:
        self.service = service
        self.read_models = read_models
        self.view_wait_s = view_wait_s

    def ingest(self, raw_events: list[Any], actor: str, role: str,
               source: Source = Source.CARRIER_FEED,
               correlation_id: str | None = None, validate: bool = True) -> list[Outcome]:
        """``validate``: check each event against the DCSA T&T 2.2 schema first."""
        incoming = [read_event(e, validate) for e in raw_events]
        matches = self._match(incoming)
        correlation_id = correlation_id or str(uuid.uuid4())
        outcomes: dict[int, Outcome] = {}
        by_shipment: dict[UUID, list[int]] = defaultdict(list)
        for i, item in enumerate(incoming):
            match = matches[i]
            if item.invalid or item.milestone is None:
                outcomes[i] = Outcome(i, item.event_id, "invalid", reason=item.invalid)
            elif isinstance(match, str):
                outcomes[i] = Outcome(i, item.event_id, "unmatched", reason=match)
            else:
                by_shipment[match].append(i)
        for sid, indexes in by_shipment.items():
            items = [(milestone, EventMeta(
                actor=actor, role=role, source=source,
                occurred_at=occurred_at(milestone, incoming[i].created_at),
                correlation_id=correlation_id, external_id=incoming[i].event_id))
                for i in indexes if (milestone := incoming[i].milestone) is not None]
            statuses = self.service.record_milestones(sid, items).result
            for i, status in zip(indexes, statuses, strict=True):
                state, _, reason = status.partition(": ")
                outcomes[i] = Outcome(i, incoming[i].event_id, state, sid, reason or None)
        return [outcomes[i] for i in range(len(incoming))]

    def _match(self, incoming: list[Incoming]) -> list[UUID | str]:
        """Each event's shipment, or why there is none. What is not found at once is looked
        for again once the search view has reached the log's head (up to ``view_wait_s``),
        so a booking confirmed just before the feed is matchable."""
        result = self._match_now(incoming)
        unmatched = [i for i, m in enumerate(result)
                     if isinstance(m, str) and incoming[i].references]
        if unmatched:
            head = self.service.store.recorder.max_notification_id() or 0
            if self.read_models.wait_for(head, ["shipments"], self.view_wait_s):
                again = self._match_now([incoming[i] for i in unmatched])
                for i, m in zip(unmatched, again, strict=True):
                    result[i] = m
        return result

    def _match_now(self, incoming: list[Incoming]) -> list[UUID | str]:
        values = {value for item in incoming for _, value in item.references}
        found = self._lookup(values)
        result: list[UUID | str] = []
        for item in incoming:
            verdict: UUID | str = "no shipment carries these references"
            for kind, value in item.references:
                candidates = found.get((kind, value), [])
                live = [sid for sid, status in candidates if status not in _FINAL] or [
                    sid for sid, _ in candidates]
                if len(live) == 1:
                    verdict = live[0]
                    break
                if len(live) > 1:
                    verdict = f"ambiguous: {len(live)} shipments carry {kind} {value}"
            result.append(verdict)
        return result

    def _lookup(self, values: Iterable[str]) -> dict[tuple[str, str], list[tuple[UUID, str]]]:
        found: dict[tuple[str, str], list[tuple[UUID, str]]] = defaultdict(list)
        wanted = sorted(values)
        with self.read_models.engine.connect() as conn:
            t = search.active(conn)
            r, s = t.shipment_refs, t.shipments
            for start in range(0, len(wanted), 500):
                rows = conn.execute(
                    select(r.c.kind, r.c.value, r.c.shipment_id, s.c.status)
                    .join(s, s.c.shipment_id == r.c.shipment_id)
                    .where(r.c.value.in_(wanted[start:start + 500])))
                for kind, value, sid, status in rows:
                    found[(kind, value)].append((UUID(sid), status))
        return found
