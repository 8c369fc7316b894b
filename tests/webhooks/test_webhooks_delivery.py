"""Delivery to a real receiver, signatures checked by the standardwebhooks verifier."""

from __future__ import annotations

from sqlalchemy import func, select

from shipflow.webhooks import catalogue
from shipflow.webhooks.examples import lifecycle
from shipflow.webhooks.tables import webhook_deliveries


def test_every_event_type_is_delivered_signed(hub):
    hub.subscribe("/all", ["*"])
    lifecycle(hub.service)
    hub.pump()
    got = hub.receiver.on("/all")
    assert hub.receiver.unverified == []
    types = {r.json["type"] for r in got}
    # every shipment type (account types: test_webhooks_accounts; the disabling: 410)
    assert types == {n for n, t in catalogue.EVENT_TYPES.items() if t.source == "shipment"}
    for r in got:
        body = r.json
        assert r.webhook_id == body["id"]
        assert r.headers["webhook-signature"].startswith("v1,")
        assert set(body) >= {"id", "type", "occurred_at", "shipment_id", "data"}
    with hub.engine.connect() as conn:
        statuses = dict(conn.execute(select(webhook_deliveries.c.status, func.count())
                                     .group_by(webhook_deliveries.c.status)).all())
    assert statuses == {"succeeded": len(got)}
