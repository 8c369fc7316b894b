"""Failures at the receiver: retries on the schedule, Retry-After, timeouts, 410, dead letters,
sustained failure, and per-shipment order while retrying. The clock is driven; nothing
sleeps except the real HTTP exchanges."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from sqlalchemy import select

from factories import meta, order
from shipflow.webhooks.tables import webhook_deliveries, webhook_subscriptions
from webhook_hub import ADMIN, Hub, loopback
from webhook_receiver import Answer

BOOKED = ["shipment.booking_requested"]


def _book(hub: Hub, n: int = 1, customer: str = "CUST-ACME") -> list[UUID]:
    return [hub.service.request_booking(order(customer_id=customer, po_numbers=[f"PO-{i}"]),
                                        meta()).shipment_id for i in range(n)]


def _deliveries(hub: Hub) -> list[dict]:
    with hub.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(
            select(webhook_deliveries).order_by(webhook_deliveries.c.id))]


def test_500_then_200_retries_after_the_schedules_delay_with_the_same_id(hub):
    hub.subscribe("/h", BOOKED)
    hub.receiver.script("/h", 500)
    _book(hub)
    assert hub.pump() == 1
    [d] = _deliveries(hub)
    assert (d["status"], d["attempts"], d["last_status_code"]) == ("pending", 1, 500)
    assert d["next_attempt_at"] == hub.clock.now + timedelta(seconds=5)
    hub.clock.advance(4.9)
    assert hub.pump() == 0  # not due yet
    hub.clock.advance(0.1)
    assert hub.pump() == 1
    first, second = hub.receiver.on("/h")
    assert first.webhook_id == second.webhook_id and first.body == second.body
    detail = hub.hooks.delivery(d["id"])
    assert detail["status"] == "succeeded"
    assert [(a["status_code"], a["outcome"]) for a in detail["attempt_log"]] == [
        (500, "failure"), (200, "success")]
    assert all(a["latency_ms"] >= 0 for a in detail["attempt_log"])
    assert hub.receiver.unverified == []


def test_receiver_down_then_back_loses_nothing(hub):
    hub.subscribe("/h", BOOKED)
    port = hub.receiver.port
    hub.receiver.stop()
    ids = _book(hub, 3)
    assert hub.pump() == 3  # connection refused, three times
    hub.clock.advance(5)
    assert hub.pump() == 3
    assert {d["last_error"].split(":")[0] for d in _deliveries(hub)} == {"ConnectError"}
    hub.receiver.port = port
    hub.receiver.start()
    hub.clock.advance(300)
    assert hub.pump() == 3
    got = hub.receiver.on("/h")
    assert sorted(r.json["shipment_id"] for r in got) == sorted(map(str, ids))
    assert len({r.webhook_id for r in got}) == 3
    assert {d["status"] for d in _deliveries(hub)} == {"succeeded"}


def test_slow_receiver_times_out_and_is_retried(hub):
    hub.subscribe("/h", BOOKED)
    hub.receiver.script("/h", Answer(200, delay_s=hub.policy.timeout_s + 1))
    _book(hub)
    hub.pump()
    [d] = _deliveries(hub)
    assert d["status"] == "pending" and d["last_status_code"] is None
    assert "no answer within" in d["last_error"]
    hub.clock.advance(5)
    hub.pump()
    assert _deliveries(hub)[0]["status"] == "succeeded"
    assert len({r.webhook_id for r in hub.receiver.on("/h")}) == 1


def test_429_with_retry_after_is_honoured(hub):
    hub.subscribe("/h", BOOKED)
    hub.receiver.script("/h", Answer(429, headers={"Retry-After": "30"}))
    _book(hub)
    hub.pump()
    [d] = _deliveries(hub)
    assert d["next_attempt_at"] == hub.clock.now + timedelta(seconds=30)
    hub.clock.advance(29)
    assert hub.pump() == 0  # the schedule alone would have retried after 5 s
    hub.clock.advance(1)
    assert hub.pump() == 1
    assert _deliveries(hub)[0]["status"] == "succeeded"


def test_410_disables_the_subscription_and_that_is_an_event(hub):
    gone, _ = hub.subscribe("/gone", BOOKED)
    hub.subscribe("/ops", ["webhook.*"])
    hub.receiver.script("/gone", 410)
    _book(hub)
    hub.pump()
    sub = hub.hooks.get(gone)
    assert not sub.enabled and sub.disabled_reason == "endpoint_gone"
    disabled = list(hub.service.store.events.get(gone))[-1]
    assert type(disabled).__name__ == "Disabled"
    assert (disabled.meta.actor, str(disabled.meta.source)) == ("webhook-sender", "system")
    hub.pump()  # the dispatcher applies the event; the other subscriber hears of it
    [notice] = hub.receiver.on("/ops")
    assert notice.json["type"] == "webhook.subscription_disabled"
    assert notice.json["data"]["reason"] == "endpoint_gone"
    _book(hub)
    hub.clock.advance(10)
    hub.pump()
    assert len(hub.receiver.on("/gone")) == 1  # nothing more goes to it
    with hub.engine.connect() as conn:
        assert not conn.execute(select(webhook_subscriptions.c.enabled).where(
            webhook_subscriptions.c.id == str(gone))).scalar()


def test_the_last_attempt_makes_a_dead_letter_which_a_manual_retry_resends(migrated,
                                                                             receiver):
    hub = Hub(loopback(migrated), receiver, schedule=(0.0, 5.0))
    try:
        hub.subscribe("/h", BOOKED)
        hub.receiver.script("/h", 500, 502)
        _book(hub)
        hub.pump()
        hub.clock.advance(5)
        hub.pump()
        [d] = _deliveries(hub)
        assert (d["status"], d["attempts"]) == ("dead", 2)
        hub.clock.advance(36000)
        assert hub.pump() == 0
        hub.hooks.retry(d["id"])
        hub.clock.advance(1)
        assert hub.pump() == 1
        [d] = _deliveries(hub)
        assert (d["status"], d["attempts"]) == ("succeeded", 3)
        assert len({r.webhook_id for r in hub.receiver.on("/h")}) == 1
    finally:
        hub.close()


def test_a_subscription_failing_for_too_long_is_disabled(migrated, receiver):
    hub = Hub(loopback(migrated), receiver, disable_after_s=600)
    try:
        sid, _ = hub.subscribe("/down", BOOKED)
        hub.receiver.script("/down", *[500] * 10)
        _book(hub)
        hub.pump()
        hub.clock.advance(5)
        hub.pump()
        assert hub.hooks.get(sid).enabled  # failing for 5 s only
        hub.clock.advance(300)
        hub.pump()  # failing for 305 s
        assert hub.hooks.get(sid).enabled
        hub.clock.advance(1800)
        hub.pump()
        sub = hub.hooks.get(sid)
        assert not sub.enabled and sub.disabled_reason == "failing"
        assert [d["status"] for d in _deliveries(hub)] == ["pending"]  # held, not lost
        hub.hooks.update(sid, ADMIN, {"enabled": True})  # the endpoint is fixed
        hub.receiver.scripts["/down"].clear()
        hub.clock.advance(7200)
        hub.pump()
        assert [d["status"] for d in _deliveries(hub)] == ["succeeded"]
        assert hub.hooks.get(sid).enabled
    finally:
        hub.close()


def test_per_shipment_order_is_kept_while_an_earlier_delivery_retries(hub):
    hub.subscribe("/o", ["shipment.*"])
    a, b = _book(hub, 2)
    hub.receiver.script_when(lambda r: r.json["shipment_id"] == str(a), 500, 500)
    for sid in (a, b):
        hub.service.review(sid, [], meta())
    hub.pump()
    got = hub.receiver.on("/o")
    # A's first message failed and holds A's line; B's went through in order.
    assert [r.json["shipment_id"] for r in got].count(str(a)) == 1
    b_types = [r.json["type"] for r in got if r.json["shipment_id"] == str(b)]
    assert b_types == ["shipment.booking_requested", "shipment.bl_draft_changed",
                       "shipment.booking_reviewed"]
    hub.clock.advance(5)
    hub.pump()  # fails again; A's other messages still wait
    hub.clock.advance(300)
    hub.pump()
    a_got = [r for r in hub.receiver.on("/o") if r.json["shipment_id"] == str(a)]
    assert [r.json["type"] for r in a_got] == [
        "shipment.booking_requested", "shipment.booking_requested",
        "shipment.booking_requested", "shipment.bl_draft_changed",
        "shipment.booking_reviewed"]
    positions = [r.json["position"] for r in a_got[2:]]
    assert positions == sorted(positions)


def test_a_claim_whose_sender_died_is_sent_again_by_another(hub):
    hub.subscribe("/h", BOOKED)
    _book(hub)
    hub.dispatcher.catch_up()
    [job] = hub.sender.claim(10)  # this sender "dies" holding the claim
    assert hub.sender.drain() == 0  # claimed: nobody else sends it
    hub.clock.advance(hub.policy.timeout_s + hub.policy.lease_margin_s + 1)
    assert hub.sender.drain() == 1
    assert [r.webhook_id for r in hub.receiver.on("/h")] == [job.message_id]
