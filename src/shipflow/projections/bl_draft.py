"""The B/L draft projection: every version of a shipment's transport document, and its status.

A **version** is recorded whenever :func:`~shipflow.events.bl_document.assemble` gives a
document different from the latest version's, and only then: an approved amendment to a B/L
field, new or changed shipping instructions, a rollover, a carrier (re-)confirmation that
changes the vessel or booking number, the issue of the B/L. A review, a milestone, a charge,
a notice or an amendment that is only requested (or is rejected) records nothing. Each
version says which event caused it (its type name), the shipment's version then, who did
it and when it was recorded (the event's timestamp, so "as of" reads line up with it).

Status (DCSA eBL 3.0 ``transportDocumentStatus``): DRAFT → APPROVED → ISSUED.

- ``BlDraftApproved`` approves the version it names (``draft_version``; None means the current
  version). Approving the *current* version makes the draft APPROVED. An approval naming an
  **older** version is recorded as ``approved_version`` but the draft stays DRAFT: the customer
  approved a document that no longer stands. (It does not withdraw an approval the current
  version already has.) An approval naming a version that does not exist is ignored.
- Any later new version makes an APPROVED draft DRAFT again; ``approved_version`` keeps the
  number that was approved, so a reader sees what changed since (:func:`diff`).
- ``BlIssued`` makes it ISSUED; the issued document (B/L number, dates, place of issue) is a
  new version. Once ISSUED it stays ISSUED; a later change (a rollover at transshipment)
  still records a version.

The first event of a shipment (``BookingRequested``) creates version 1; there is no view before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import JSON, Column, Connection, Integer, String, Table, delete, select

from shipflow.database import UtcDateTime, metadata, upsert
from shipflow.events.shipment.aggregate import Shipment
from shipflow.events.shipment.events import BlDraftApproved, BlIssued
from shipflow.events.shipment.transport_document import CHANGES_DOCUMENT, assemble
from shipflow.projections.engine import slots
from shipflow.projections.engine.base import Change, Projection, fold

NAME = "bl_drafts"
DRAFT = "DRAFT"
APPROVED = "APPROVED"
ISSUED = "ISSUED"


# --- tables ----------------------------------------------------------------------------------


def _bl_drafts(slot: str) -> Table:
    return Table(
        f"bl_drafts_{slot}", metadata,
        Column("shipment_id", String(36), primary_key=True),
        Column("version", Integer, nullable=False),  # current draft version
        Column("status", String(10), nullable=False),  # DRAFT, APPROVED, ISSUED
        Column("approved_version", Integer),
        Column("document", JSON, nullable=False),
        Column("updated_at", UtcDateTime(), nullable=False),
    )


def _bl_draft_versions(slot: str) -> Table:
    return Table(
        f"bl_draft_versions_{slot}", metadata,
        Column("shipment_id", String(36), primary_key=True),
        Column("version", Integer, primary_key=True),
        Column("document", JSON, nullable=False),
        Column("caused_by", String(60), nullable=False),  # event type
        Column("event_version", Integer, nullable=False),  # the shipment's version then
        Column("actor", String(200), nullable=False),
        Column("recorded_at", UtcDateTime(), nullable=False),
    )


@dataclass(frozen=True)
class BlDraftTables:
    slot: str
    bl_drafts: Table
    bl_draft_versions: Table


TABLES = slots.by_slot(lambda slot: BlDraftTables(slot, _bl_drafts(slot),
                                                  _bl_draft_versions(slot)))


def active(conn: Connection) -> BlDraftTables:
    """The live slot's tables, read on the caller's connection."""
    return TABLES[slots.active_slot(conn, NAME)]


# --- the view --------------------------------------------------------------------------------


@dataclass(frozen=True)
class BlDraftVersion:
    """One version of the document. ``document`` is a fresh JSON-able dict: never mutate it."""

    version: int
    document: dict[str, Any]
    caused_by: str  # event type name, e.g. "AmendmentApproved"
    event_version: int  # the shipment's version after that event
    actor: str
    recorded_at: datetime

    def summary(self) -> dict[str, Any]:
        """The version without its document (for listings)."""
        return {"version": self.version, "caused_by": self.caused_by,
                "event_version": self.event_version, "actor": self.actor,
                "recorded_at": self.recorded_at}

    def as_dict(self) -> dict[str, Any]:
        """Same shape as :func:`version` reads from the table."""
        return {**self.summary(), "document": self.document}


@dataclass(frozen=True)
class BlDraftView:
    shipment_id: UUID
    status: str  # DRAFT, APPROVED, ISSUED
    approved_version: int | None
    versions: tuple[BlDraftVersion, ...]  # 1..N, oldest first
    updated_at: datetime  # recorded time of the last event that changed this view

    @property
    def current(self) -> BlDraftVersion:
        return self.versions[-1]

    @property
    def version(self) -> int:
        return self.current.version

    @property
    def document(self) -> dict[str, Any]:
        return self.current.document

    def at_version(self, n: int) -> BlDraftVersion | None:
        return self.versions[n - 1] if 1 <= n <= len(self.versions) else None

    def as_current(self) -> dict[str, Any]:
        """Same shape as :func:`current` reads from the table (for ``?as_of=`` answers)."""
        return {"shipment_id": str(self.shipment_id), "version": self.version,
                "status": self.status, "approved_version": self.approved_version,
                "document": self.document, "updated_at": self.updated_at}


class BlDraftProjection(Projection[BlDraftView]):
    name = NAME

    def evolve(self, view: BlDraftView | None, event: Any,
               shipment: Shipment) -> BlDraftView | None:
        if view is not None and type(event) not in CHANGES_DOCUMENT:
            return view  # a milestone, a charge, a notice: no B/L field moved
        document = assemble(shipment)
        at = event.timestamp
        if view is None:
            return BlDraftView(shipment_id=shipment.id, status=DRAFT, approved_version=None,
                               versions=(_version(1, document, event),), updated_at=at)
        # Once issued the document stands: later operational changes (a rollover at
        # transshipment) are not B/L versions.
        if document != view.document and view.status != ISSUED:
            status = ISSUED if isinstance(event, BlIssued) else DRAFT
            view = replace(view, status=status, updated_at=at, versions=(
                *view.versions, _version(view.version + 1, document, event)))
        if isinstance(event, BlDraftApproved):
            view = _approve(view, event.draft_version or view.version, at)
        elif isinstance(event, BlIssued) and view.status != ISSUED:
            view = replace(view, status=ISSUED, updated_at=at)
        return view

    def write(self, conn: Connection, slot: str,
              changes: Mapping[UUID, Change[BlDraftView]]) -> None:
        tables = TABLES[slot]
        drafts, new_versions, gone = [], [], []
        for shipment_id, change in changes.items():
            key, after = str(shipment_id), change.after
            known = change.before.version if change.before is not None else 0
            if after is None or after.version < known:  # never in a fold
                gone.append(key)
                known = 0
            if after is None:
                continue
            drafts.append({"shipment_id": key, "version": after.version,
                           "status": after.status, "approved_version": after.approved_version,
                           "document": after.document, "updated_at": after.updated_at})
            new_versions += [{"shipment_id": key, **v.as_dict()}
                             for v in after.versions if v.version > known]
        if gone:
            conn.execute(delete(tables.bl_drafts).where(tables.bl_drafts.c.shipment_id.in_(gone)))
            conn.execute(delete(tables.bl_draft_versions).where(
                tables.bl_draft_versions.c.shipment_id.in_(gone)))
        upsert(conn, tables.bl_drafts, ["shipment_id"], drafts)
        upsert(conn, tables.bl_draft_versions, ["shipment_id", "version"], new_versions)

    def clear(self, conn: Connection, slot: str) -> None:
        tables = TABLES[slot]
        conn.execute(delete(tables.bl_draft_versions))
        conn.execute(delete(tables.bl_drafts))


def _version(n: int, document: dict[str, Any], event: Any) -> BlDraftVersion:
    return BlDraftVersion(version=n, document=document, caused_by=type(event).__name__,
                          event_version=event.originator_version, actor=event.meta.actor,
                          recorded_at=event.timestamp)


def _approve(view: BlDraftView, n: int, at: datetime) -> BlDraftView:
    if not 1 <= n <= view.version or view.status == ISSUED:
        return view
    if n == view.version:
        return replace(view, status=APPROVED, approved_version=n, updated_at=at)
    if view.status == APPROVED:  # the current version stays approved
        return view
    return replace(view, approved_version=n, updated_at=at)


# --- reads for the API ---------------------------------------------------------------------


def current(conn: Connection, tables: BlDraftTables,
            shipment_id: UUID | str) -> dict[str, Any] | None:
    """The current draft: shipment_id, version, status, approved_version, document,
    updated_at; None when the shipment has no draft (unknown or not yet projected)."""
    t = tables.bl_drafts
    row = conn.execute(select(t).where(t.c.shipment_id == str(shipment_id))).mappings().first()
    return dict(row) if row is not None else None


def version(conn: Connection, tables: BlDraftTables, shipment_id: UUID | str,
            n: int) -> dict[str, Any] | None:
    """Version ``n`` with its document: version, caused_by, event_version, actor,
    recorded_at, document; None when there is no such version."""
    t = tables.bl_draft_versions
    row = conn.execute(select(*_version_columns(t, True)).where(
        t.c.shipment_id == str(shipment_id), t.c.version == n)).mappings().first()
    return dict(row) if row is not None else None


def versions(conn: Connection, tables: BlDraftTables, shipment_id: UUID | str,
             with_documents: bool = False) -> list[dict[str, Any]]:
    """Every version, oldest first: version, caused_by, event_version, actor, recorded_at
    (and document when ``with_documents``; a listing does not need them). Empty when none."""
    t = tables.bl_draft_versions
    rows = conn.execute(select(*_version_columns(t, with_documents))
                        .where(t.c.shipment_id == str(shipment_id))
                        .order_by(t.c.version)).mappings()
    return [dict(r) for r in rows]


def _version_columns(t: Table, with_document: bool) -> list[Any]:
    cols = [t.c.version, t.c.caused_by, t.c.event_version, t.c.actor, t.c.recorded_at]
    return [*cols, t.c.document] if with_document else cols


def as_of(events: Iterable[Any], until: datetime | None = None) -> BlDraftView | None:
    """The draft as it stood at ``until`` (by recorded time), folded from the shipment's
    events (``ShipmentService.history``); None if the booking did not exist yet."""
    return fold(BlDraftProjection(), events, until)[1]


# --- diff ----------------------------------------------------------------------------------

#: Lists whose items are matched by a key rather than by position (container numbers never
#: look like an index: ISO 6346 starts with four letters).
_KEYED: dict[str, Callable[[Any], Any]] = {
    "utilizedTransportEquipments": lambda i: (i.get("equipment") or {}).get("equipmentReference"),
    "cargoItems": lambda i: i.get("equipmentReference"),
}


def diff(doc_a: Any, doc_b: Any) -> list[dict[str, Any]]:
    """Field-by-field changes from ``doc_a`` to ``doc_b``: ``[{"path", "before", "after"}]``.

    Paths are dotted (``documentParties.consignee.displayedAddress.0``); list items are
    addressed by index, except utilized equipments and cargo items, which are matched by
    equipment reference (``utilizedTransportEquipments.MSKU1234565.seals.0.number``) so a
    reordered SI shows no change. A value that appears or disappears as a whole (a new
    container, a notify party) is one entry with the whole value on one side and None on
    the other. A missing key and a null value are the same.
    """
    out: list[dict[str, Any]] = []
    _diff(doc_a, doc_b, "", None, out)
    return out


def _diff(a: Any, b: Any, path: str, name: str | None, out: list[dict[str, Any]]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in [*a, *(k for k in b if k not in a)]:
            _diff(a.get(k), b.get(k), _join(path, k), k, out)
    elif isinstance(a, list) and isinstance(b, list):
        ka, kb = _keys(a, name), _keys(b, name)
        if ka is not None and kb is not None:
            ia, ib = dict(zip(ka, a, strict=True)), dict(zip(kb, b, strict=True))
            for k in [*ka, *(k for k in kb if k not in ia)]:
                _diff(ia.get(k), ib.get(k), _join(path, k), None, out)
        else:
            for i in range(max(len(a), len(b))):
                _diff(a[i] if i < len(a) else None, b[i] if i < len(b) else None,
                      _join(path, str(i)), None, out)
    elif a != b:
        out.append({"path": path, "before": a, "after": b})


def _keys(items: list[Any], name: str | None) -> list[str] | None:
    key = _KEYED.get(name or "")
    if key is None or not all(isinstance(i, dict) for i in items):
        return None
    keys = [key(i) for i in items]
    if any(not isinstance(k, str) or not k for k in keys) or len(set(keys)) != len(keys):
        return None
    return keys


def _join(path: str, part: str) -> str:
    return f"{path}.{part}" if path else part
