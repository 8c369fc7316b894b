"""What a shipment knows about itself, the facts derived from it, and the guards its commands
share: the typed base of :class:`~shipflow.events.shipment.aggregate.Shipment`.

Only events change this state (their ``apply`` in :mod:`shipflow.events.shipment.events`);
the commands in ``aggregate.py`` read it, check it with the guards below, and record events.
Every attribute is a value (records are replaced, never mutated), so a snapshot is a plain
copy and a historical read is exact.
"""

from __future__ import annotations

from datetime import datetime

from eventsourcing.domain import Aggregate

from shipflow.events.common import EventMeta, InvalidTransition, VesselVoyage, Violation
from shipflow.events.shipment.booking import BookingOrder
from shipflow.events.shipment.documents import (
    BlIssue,
    CarrierConfirmation,
    ShippingInstructions,
)
from shipflow.events.shipment.records import (
    TERMINAL_STATUSES,
    Amendment,
    AmendmentStatus,
    BlState,
    BookingStatus,
    Charge,
    RaisedException,
    ReviewOutcome,
    RuleConfirmation,
    SailingOutcome,
    TimelineEntry,
)
from shipflow.events.shipment.tracking import Milestone, MilestoneKind

S = BookingStatus


class ShipmentState(Aggregate):
    #: External ids (e.g. DCSA eventIDs) of the milestones recorded. A class default, so a
    #: snapshot taken before the attribute existed still loads. (Not an annotation: the
    #: library would make the aggregate a dataclass and replace Shipment's __init__.)
    external_ids = frozenset[str]()

    def __init__(self, meta: EventMeta, order: BookingOrder) -> None:
        self.order = order
        self.status = BookingStatus.RECEIVED
        self.status_before_amendment: BookingStatus | None = None
        self.review_outcome: ReviewOutcome | None = None
        self.open_violations: list[Violation] = []
        self.confirmations: list[RuleConfirmation] = []
        self.confirmation: CarrierConfirmation | None = None
        self.legs: list[VesselVoyage | None] = [order.planned_vessel_voyage]
        self.planned_etd: datetime | None = None
        self.planned_eta: datetime | None = None
        self.timeline: dict[str, TimelineEntry] = {}
        self.last_milestone: Milestone | None = None
        self.amendments: list[Amendment] = []
        self.shipping_instructions: ShippingInstructions | None = None
        self.si_revision = 0
        self.exceptions: list[RaisedException] = []
        self.charges: list[Charge] = []
        self.bl = BlState()
        self.bl_issue: BlIssue | None = None
        self.sailing_outcome: SailingOutcome | None = None
        self.sla_breaches: list[str] = []

    # --- derived facts ---------------------------------------------------------------------

    @property
    def vessel_voyage(self) -> VesselVoyage | None:
        return self.legs[0] if self.legs else None

    def _transport(self, code: str, port: str | None) -> TimelineEntry | None:
        prefix = f"{MilestoneKind.TRANSPORT}:{code}:{port or '-'}:"
        found = [e for k, e in self.timeline.items() if k.startswith(prefix)]
        return found[0] if found else None

    @property
    def departure(self) -> TimelineEntry | None:
        return self._transport("DEPA", self.order.pol)

    @property
    def arrival(self) -> TimelineEntry | None:
        return self._transport("ARRI", self.order.pod)

    @property
    def etd(self) -> datetime | None:
        d = self.departure
        return (d.best if d else None) or self.planned_etd

    @property
    def eta(self) -> datetime | None:
        a = self.arrival
        return (a.best if a else None) or self.planned_eta

    @property
    def departed(self) -> bool:
        d = self.departure
        return d is not None and d.actual is not None

    @property
    def loaded_at(self) -> datetime | None:
        """When the cargo actually went on board at POL (LOAD, else vessel departure)."""
        loads = [e.actual for k, e in self.timeline.items()
                 if k.startswith(f"{MilestoneKind.EQUIPMENT}:LOAD:{self.order.pol}:0:")
                 and e.actual]
        if loads:
            return min(loads)
        d = self.departure
        return d.actual if d else None

    @property
    def open_exceptions(self) -> list[RaisedException]:
        return [e for e in self.exceptions if e.is_open]

    @property
    def pending_amendment(self) -> Amendment | None:
        return next((a for a in self.amendments if a.status is AmendmentStatus.PENDING), None)

    @property
    def confirmed(self) -> bool:
        return self.confirmation is not None

    # --- guards ----------------------------------------------------------------------------

    def _not_terminal(self, doing: str) -> None:
        if self.status in TERMINAL_STATUSES:
            raise InvalidTransition(f"shipment_{str(self.status).lower()}",
                                    f"cannot {doing}: the shipment is {self.status}")

    def _require_confirmed(self, doing: str) -> None:
        self._not_terminal(doing)
        if not self.confirmed:
            raise InvalidTransition("not_confirmed",
                                    f"cannot {doing} before the carrier has confirmed")

    def _bl_not_issued(self, doing: str) -> None:
        if self.bl_issue is not None:
            raise InvalidTransition("bl_already_issued",
                                    f"cannot {doing}: B/L {self.bl_issue.bl_number} is issued")

    def _no_pending_amendment(self, doing: str) -> None:
        if self.pending_amendment is not None:
            raise InvalidTransition("amendment_pending", f"cannot {doing} while amendment "
                                    f"{self.pending_amendment.number} awaits a decision")

    def _not_completed(self) -> None:
        if self.status is S.COMPLETED:
            raise InvalidTransition("shipment_completed", "the job is closed")

    # --- state changes the events share ----------------------------------------------------

    def _set_status(self, status: BookingStatus) -> None:
        """Set the status, keeping PENDING_AMENDMENT until the amendment is decided."""
        if self.status is S.PENDING_AMENDMENT:
            self.status_before_amendment = status
        else:
            self.status = status

    def _decide_amendment(self, number: int, status: AmendmentStatus, actor: str,
                          reason: str | None) -> None:
        self.amendments = [a.model_copy(update={"status": status, "decided_by": actor,
                                                "decision_reason": reason})
                           if a.number == number else a for a in self.amendments]
        self.status = self.status_before_amendment or S.RECEIVED
        self.status_before_amendment = None
