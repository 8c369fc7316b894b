"""The shipment application service: one method per command, each loading a shipment,
calling the domain, and saving the events it recorded through the shared commit loop
(:mod:`shipflow.services.commit`: expected version, one retry, idempotent save).

An instance is cheap: the API makes one per request with that request's idempotency key
(``for_request``); the store it holds is the process's one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from shipflow.config import Settings
from shipflow.events.common import (
    ConcurrentWrite,
    DomainError,
    DuplicateEvent,
    EventMeta,
    NotFound,
    VersionConflict,
    Violation,
)
from shipflow.events.shipment import events as ev
from shipflow.events.shipment.aggregate import Shipment
from shipflow.events.shipment.amendments import AmendmentRequest
from shipflow.events.shipment.booking import Approval, BookingOrder
from shipflow.events.shipment.charges import ChargeChange, ChargeLine
from shipflow.events.shipment.documents import (
    BlDating,
    BlIssue,
    CarrierConfirmation,
    ShippingInstructions,
)
from shipflow.events.shipment.records import RuleConfirmation, SailingOutcome
from shipflow.events.shipment.tracking import (
    CustomerNotice,
    Milestone,
    Rollover,
    ShipmentException,
)
from shipflow.services.accounts import credit_hold_violations
from shipflow.services.cache import AggregateCache
from shipflow.services.commit import Commits
from shipflow.services.idempotency import IdempotencyRequest
from shipflow.store import Shipflow, open_store

T = TypeVar("T")

#: What a booking review asks of accounts receivable: the customer's credit-hold violation.
CreditCheck = Callable[[Shipflow, str, date], list[Violation]]


@dataclass(frozen=True)
class Recorded:
    """What a command wrote: the shipment's new version and the log position it reached."""

    shipment_id: UUID
    version: int
    position: int
    events: list[str]
    result: Any = None
    extra: dict[str, Any] = field(default_factory=dict)

    def at(self, position: int) -> Recorded:
        return replace(self, position=position)


class ShipmentService:
    def __init__(self, store: Shipflow, idempotency: IdempotencyRequest | None = None,
                 credit_check: CreditCheck | None = None,
                 cache: AggregateCache | None = None) -> None:
        self.store = store
        self.cache = cache or AggregateCache(store)
        self.commits = Commits(store, self.cache, idempotency, "shipment")
        self.credit_check = credit_check or credit_hold_violations

    @classmethod
    def from_settings(cls, settings: Settings) -> ShipmentService:
        store = open_store(settings)
        return cls(store, cache=AggregateCache(store, settings.aggregate_cache_size))

    def for_request(self, idempotency: IdempotencyRequest | None) -> ShipmentService:
        """This service for one request: its idempotency key goes with what it saves."""
        return ShipmentService(self.store, idempotency, self.credit_check, self.cache)

    def close(self) -> None:
        self.store.close()

    # --- plumbing --------------------------------------------------------------------------

    def _change(self, shipment_id: UUID, expected_version: int | None,
                command: Callable[[Shipment], T]) -> Recorded:
        def describe(loaded: Sequence[Shipment], names: list[str], result: T) -> Recorded:
            return Recorded(shipment_id, loaded[0].version, 0, names, result)

        return self.commits.change([shipment_id], lambda get: [self._load(get, shipment_id)],
                                   command, describe, expected_version, VersionConflict)

    # --- queries ---------------------------------------------------------------------------

    def get(self, shipment_id: UUID, version: int | None = None) -> Shipment:
        """The shipment now (caught up with the store) or at a version."""
        if version is None:
            return self._load(self.cache.read, shipment_id)
        return self._load(lambda i: self.store.repository.get(i, version=version), shipment_id,
                          f" at version {version}")

    @staticmethod
    def _load(get: Callable[[UUID], Any], shipment_id: UUID, at: str = "") -> Shipment:
        shipment: Any
        try:
            shipment = get(shipment_id)
        except AggregateNotFoundError:
            shipment = None
        if not isinstance(shipment, Shipment):  # the store holds accounts and more too
            raise NotFound("shipment_not_found", f"no shipment {shipment_id}{at}")
        return shipment

    def get_as_of(self, shipment_id: UUID, as_of: datetime) -> Shipment:
        """The shipment as the system knew it at ``as_of`` (by the time events were recorded).

        Recorded times rise with the version, so the version current at ``as_of`` is found by
        a binary search over single events; that version then loads as any other (from the
        nearest snapshot)."""
        version = self._version_at(shipment_id, as_of)
        if version == 0:
            raise NotFound("shipment_not_yet_booked", f"shipment {shipment_id} did not exist "
                           f"at {as_of.isoformat()}")
        return self.get(shipment_id, version=version)

    def _version_at(self, shipment_id: UUID, as_of: datetime) -> int:
        def recorded(version: int) -> datetime:
            event: Any
            [event] = self.store.events.get(shipment_id, gt=version - 1, lte=version)
            return event.timestamp

        latest = list(self.store.events.get(shipment_id, desc=True, limit=1))
        if not latest or not isinstance(latest[0], ev.ShipmentEvent | ev.BookingRequested):
            raise NotFound("shipment_not_found", f"no shipment {shipment_id}")
        lo, hi = 0, latest[0].originator_version  # invariant: recorded(lo) <= as_of
        if latest[0].timestamp <= as_of:
            return hi
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if recorded(mid) <= as_of:
                lo = mid
            else:
                hi = mid
        return lo

    def history(self, shipment_id: UUID) -> list[Any]:
        events = list(self.store.events.get(shipment_id))
        if not events or not isinstance(events[0], ev.BookingRequested):
            raise NotFound("shipment_not_found", f"no shipment {shipment_id}")
        return events

    # --- commands --------------------------------------------------------------------------

    def request_booking(self, order: BookingOrder, meta: EventMeta) -> Recorded:
        shipment = Shipment.request(order, meta)
        # A new id is taken only by a concurrent request with the same idempotency key.
        return self.commits.create(shipment, Recorded(shipment.id, shipment.version, 0,
                                                      ["BookingRequested"]), ConcurrentWrite)

    def review(self, shipment_id: UUID, confirmations: list[RuleConfirmation], meta: EventMeta,
               expected_version: int | None = None) -> Recorded:
        return self._change(shipment_id, expected_version, lambda s: s.review(
            meta, confirmations,
            self.credit_check(self.store, s.order.customer_id, meta.occurred_at.date())))

    def confirm_by_carrier(self, shipment_id: UUID, confirmation: CarrierConfirmation,
                           meta: EventMeta, expected_version: int | None = None) -> Recorded:
        return self._change(shipment_id, expected_version,
                            lambda s: s.confirm_by_carrier(confirmation, meta))

    def reject_by_carrier(self, shipment_id: UUID, reason: str, meta: EventMeta,
                          expected_version: int | None = None) -> Recorded:
        return self._change(shipment_id, expected_version,
                            lambda s: s.reject_by_carrier(reason, meta))

    def decline(self, shipment_id: UUID, reason: str, meta: EventMeta,
                expected_version: int | None = None) -> Recorded:
        return self._change(shipment_id, expected_version, lambda s: s.decline(reason, meta))

    def request_amendment(self, shipment_id: UUID, request: AmendmentRequest, meta: EventMeta,
                          expected_version: int | None = None) -> Recorded:
        return self._change(shipment_id, expected_version,
                            lambda s: s.request_amendment(request, meta))

    def approve_amendment(self, shipment_id: UUID, number: int, meta: EventMeta,
                          expected_version: int | None = None) -> Recorded:
        return self._change(shipment_id, expected_version,
                            lambda s: s.approve_amendment(number, meta))

    def reject_amendment(self, shipment_id: UUID, number: int, reason: str, meta: EventMeta,
                         expected_version: int | None = None) -> Recorded:
        return self._change(shipment_id, expected_version,
                            lambda s: s.reject_amendment(number, reason, meta))

    def submit_shipping_instructions(self, shipment_id: UUID, si: ShippingInstructions,
                                     meta: EventMeta,
                                     expected_version: int | None = None) -> Recorded:
        return self._change(shipment_id, expected_version,
                            lambda s: s.submit_shipping_instructions(si, meta))

    def record_milestone(self, shipment_id: UUID, milestone: Milestone, meta: EventMeta,
                         expected_version: int | None = None) -> Recorded:
        return self._change(shipment_id, expected_version,
                            lambda s: s.record_milestone(milestone, meta))

    def record_milestones(self, shipment_id: UUID, items: list[tuple[Milestone, EventMeta]],
                          expected_version: int | None = None) -> Recorded:
        """Record several milestones in one transaction; ``result`` is one status each:
        ``accepted``, ``superseded``, ``duplicate``, or ``invalid: <rule>: <detail>``."""

        def record(s: Shipment) -> list[str]:
            statuses = []
            for milestone, meta in items:
                try:
                    kept = s.record_milestone(milestone, meta)
                except DuplicateEvent:
                    statuses.append("duplicate")
                except DomainError as e:
                    statuses.append(f"invalid: {e.rule}: {e.detail}")
                else:
                    statuses.append("accepted" if kept else "superseded")
            return statuses

        return self._change(shipment_id, expected_version, record)

    def roll_over(self, shipment_id: UUID, rollover: Rollover, meta: EventMeta,
                  expected_version: int | None = None) -> Recorded:
        return self._change(shipment_id, expected_version,
                            lambda s: s.roll_over(rollover, meta))

    def raise_exception(self, shipment_id: UUID, exc: ShipmentException, meta: EventMeta,
                        expected_version: int | None = None) -> Recorded:
        return self._change(shipment_id, expected_version,
                            lambda s: s.raise_exception(exc, meta))

    def resolve_exception(self, shipment_id: UUID, number: int, resolution: str,
                          meta: EventMeta, expected_version: int | None = None) -> Recorded:
        return self._change(shipment_id, expected_version,
                            lambda s: s.resolve_exception(number, resolution, meta))

    def add_charge(self, shipment_id: UUID, line: ChargeLine, amendment_number: int | None,
                   meta: EventMeta, expected_version: int | None = None) -> Recorded:
        return self._change(shipment_id, expected_version,
                            lambda s: s.add_charge(line, amendment_number, meta))

    def adjust_charge(self, shipment_id: UUID, number: int, change: ChargeChange,
                      meta: EventMeta, expected_version: int | None = None) -> Recorded:
        return self._change(shipment_id, expected_version,
                            lambda s: s.adjust_charge(number, change, meta))

    def void_charge(self, shipment_id: UUID, number: int, reason: str, meta: EventMeta,
                    expected_version: int | None = None) -> Recorded:
        return self._change(shipment_id, expected_version,
                            lambda s: s.void_charge(number, reason, meta))

    def approve_bl_draft(self, shipment_id: UUID, approval: Approval, draft_version: int | None,
                         meta: EventMeta, expected_version: int | None = None) -> Recorded:
        """An approval is for one draft version; the draft's versions are a fold of history."""
        current_version = None
        if draft_version is not None:
            from shipflow.projections.bl_draft import as_of

            draft = as_of(self.history(shipment_id))
            current_version = draft.version if draft else 0
        return self._change(shipment_id, expected_version, lambda s: s.approve_bl_draft(
            approval, draft_version, meta, current_version))

    def approve_bl_dating(self, shipment_id: UUID, dating: BlDating, sales_request_ref: str,
                          reason: str, meta: EventMeta,
                          expected_version: int | None = None) -> Recorded:
        return self._change(shipment_id, expected_version, lambda s: s.approve_bl_dating(
            dating, sales_request_ref, reason, meta))

    def issue_bl(self, shipment_id: UUID, issue: BlIssue, meta: EventMeta,
                 expected_version: int | None = None) -> Recorded:
        return self._change(shipment_id, expected_version, lambda s: s.issue_bl(issue, meta))

    def record_sailing_outcome(self, shipment_id: UUID, outcome: SailingOutcome, reason: str,
                               meta: EventMeta, expected_version: int | None = None) -> Recorded:
        return self._change(shipment_id, expected_version,
                            lambda s: s.record_sailing_outcome(outcome, reason, meta))

    def notify_customer(self, shipment_id: UUID, notice: CustomerNotice, meta: EventMeta,
                        expected_version: int | None = None) -> Recorded:
        return self._change(shipment_id, expected_version,
                            lambda s: s.notify_customer(notice, meta))

    def record_sla_breach(self, shipment_id: UUID, timer: str, kind: str, started_at: datetime,
                          due_at: datetime, meta: EventMeta,
                          expected_version: int | None = None) -> Recorded:
        return self._change(shipment_id, expected_version, lambda s: s.record_sla_breach(
            timer, kind, started_at, due_at, meta))

    def cancel(self, shipment_id: UUID, reason: str, meta: EventMeta,
               expected_version: int | None = None) -> Recorded:
        return self._change(shipment_id, expected_version, lambda s: s.cancel(reason, meta))

    def close_shipment(self, shipment_id: UUID, note: str, meta: EventMeta,
                       expected_version: int | None = None) -> Recorded:
        return self._change(shipment_id, expected_version, lambda s: s.close(note, meta))
