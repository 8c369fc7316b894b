"""A carrier's event id is recorded with its milestone: a redelivery is refused as a
duplicate, also after the shipment was loaded from a snapshot."""

from __future__ import annotations

from datetime import timedelta

import pytest

from factories import NOW, confirmation, meta, order
from shipflow.events.common import DuplicateEvent
from shipflow.events.shipment.tracking import Milestone
from shipflow.services.shipments import ShipmentService

GATE_IN = Milestone(kind="EQUIPMENT", code="GTIN", classifier="ACT", location="CNSHA",
                    event_time=NOW + timedelta(days=14))


def test_a_redelivered_carrier_event_is_a_duplicate_across_snapshots(settings):
    svc = ShipmentService.from_settings(settings.model_copy(update={"snapshot_interval": 2}))
    sid = svc.request_booking(order(), meta()).shipment_id
    svc.review(sid, [], meta())
    svc.confirm_by_carrier(sid, confirmation(), meta())
    svc.record_milestone(sid, GATE_IN, meta(external_id="evt-1"))
    svc.record_milestone(sid, GATE_IN, meta(external_id="evt-2"))  # snapshot at version 4
    version = svc.get(sid).version
    for known in ("evt-1", "evt-2"):
        with pytest.raises(DuplicateEvent):
            svc.record_milestone(sid, GATE_IN, meta(external_id=known))
    assert svc.get(sid).version == version
    assert svc.get(sid).external_ids == {"evt-1", "evt-2"}
    svc.close()
