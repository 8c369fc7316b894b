"""Every view shipflow keeps: one line each. Importing this module defines every view's
tables on the shared metadata (``shipflow.database``), so migrations see them too.

To add a view: its module (a :class:`~shipflow.projections.engine.base.Projection` with its
tables), an Alembic migration for the tables, and one line below.
"""

from __future__ import annotations

from typing import Any

from shipflow.config import Settings
from shipflow.projections.bl_draft import BlDraftProjection
from shipflow.projections.engine.base import Projection
from shipflow.projections.search import SearchProjection
from shipflow.projections.sla.config import load_sla_config
from shipflow.projections.sla.timers import SlaProjection
from shipflow.projections.statements.projection import StatementProjection
from shipflow.projections.tnt_events import TntProjection


def default_projections(settings: Settings) -> list[Projection[Any]]:
    sla = load_sla_config(settings)
    return [
        SearchProjection(sla),  # "shipments": search and look-up by any reference
        BlDraftProjection(),  # "bl_drafts": the B/L draft, its versions and diffs
        SlaProjection(sla),  # "sla": the SLA timers on the offices' business calendars
        StatementProjection(),  # "statements": ledger, documents, aging, the AR queue
        TntProjection(),  # "tnt_events": histories as DCSA Track & Trace 2.2 events
    ]
