"""Views that cannot apply one marked event, for the tests of a view's failures: each holds a
switch (``broken``) the test flips to play "the fix is deployed"."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from factories import confirmation, meta, order
from shipflow.projections import search
from shipflow.projections.bl_draft import BlDraftProjection
from shipflow.projections.engine.read_models import ReadModels
from shipflow.projections.registry import default_projections
from shipflow.projections.search import SearchProjection


class PoisonedDrafts(BlDraftProjection):
    """The B/L drafts, whose ``evolve`` raises for one shipment's event (by version)."""

    def __init__(self, shipment_id: Any, version: int) -> None:
        super().__init__()
        self.poisoned = (shipment_id, version)
        self.broken = True
        self.calls = 0  # evolves of the marked event

    def evolve(self, view, event, shipment):  # noqa: ANN001, ANN201
        if (shipment.id, event.originator_version) == self.poisoned:
            self.calls += 1
            if self.broken:
                raise ValueError(f"cannot read {type(event).__name__}")
        return super().evolve(view, event, shipment)


class UnwritableSearch(SearchProjection):
    """The search view, whose ``write`` writes everything and then a value its table cannot
    store for one shipment's rows from ``version`` on (``value``: NULL in a NOT NULL column,
    or on PostgreSQL a NUL byte in a text column)."""

    def __init__(self, shipment_id: Any, version: int, value: str | None) -> None:
        super().__init__()
        self.marked, self.version, self.value = str(shipment_id), version, value
        self.broken = True

    def write(self, conn, slot, changes):  # noqa: ANN001, ANN201
        super().write(conn, slot, changes)  # rows the failed transaction must take back
        rows = [c.after.values for c in changes.values() if c.after is not None]
        if self.broken and any(r["shipment_id"] == self.marked and r["version"] >= self.version
                               for r in rows):
            t = search.TABLES[slot].shipments
            conn.execute(update(t).where(t.c.shipment_id == self.marked)
                         .values(cs_owner=self.value))


def book(svc, n: int) -> list:
    """n shipments booked, reviewed and confirmed: three events each, one after the other
    (shipment i's events are at positions 3i+1, 3i+2, 3i+3)."""
    ids = []
    for i in range(n):
        sid = svc.request_booking(order(po_numbers=[f"PO-{i:04d}"]), meta()).shipment_id
        svc.review(sid, [], meta())
        svc.confirm_by_carrier(sid, confirmation(carrier_booking_no=f"BKG{i:05d}"), meta())
        ids.append(sid)
    return ids


def with_view(settings, store, view, **kw: Any) -> ReadModels:
    """Every view shipflow keeps, with ``view`` in place of the one of its name."""
    views = [view if p.name == view.name else p for p in default_projections(settings)]
    return ReadModels(settings, store, views, **kw)
