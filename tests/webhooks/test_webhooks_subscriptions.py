"""Subscriptions: filters, SSRF guard, secret rotation with a grace period, replay."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from factories import meta, order
from shipflow.config import Settings
from shipflow.events.common import DomainError
from shipflow.webhooks import catalogue, ssrf
from shipflow.webhooks.examples import lifecycle
from shipflow.webhooks.tables import webhook_deliveries
from webhook_hub import ADMIN, Hub


def test_type_wildcards_and_customer_filter(hub):
    hub.subscribe("/eta", ["shipment.eta_changed", "shipment.rolled_over"])
    hub.subscribe("/acme", ["shipment.*"], customer="CUST-ACME")
    hub.subscribe("/sla", ["sla.*"])
    lifecycle(hub.service, "CUST-ACME", "1")
    lifecycle(hub.service, "CUST-OTHER", "2")
    hub.pump()
    assert {r.json["type"] for r in hub.receiver.on("/eta")} == {
        "shipment.eta_changed", "shipment.rolled_over"}
    acme = hub.receiver.on("/acme")
    assert {r.json["customer_id"] for r in acme} == {"CUST-ACME"}
    assert "sla.breached" not in {r.json["type"] for r in acme}
    assert [r.json["type"] for r in hub.receiver.on("/sla")] == ["sla.breached"] * 2


def test_a_subscription_gets_events_from_its_creation_on(hub):
    hub.service.request_booking(order(), meta())
    hub.subscribe("/late", ["shipment.booking_requested"])
    [sid] = [hub.service.request_booking(order(), meta()).shipment_id]
    hub.pump()
    assert [r.json["shipment_id"] for r in hub.receiver.on("/late")] == [str(sid)]


def test_unknown_types_are_refused():
    assert catalogue.invalid_patterns(["shipment.*", "*", "sla.breached"]) == []
    assert catalogue.invalid_patterns(["shipment.nope", "nope.*", "shipment"]) == [
        "shipment.nope", "nope.*", "shipment"]


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:9/hook", "http://localhost/hook", "http://10.1.2.3/x",
    "http://192.168.0.10/x", "http://169.254.169.254/latest/meta-data", "http://[::1]/x",
    "http://[fe80::1]/x", "http://0.0.0.0/x", "ftp://example.com/x", "http://user:pw@8.8.8.8/"])
def test_ssrf_guard_refuses_internal_urls(url):
    with pytest.raises(ssrf.UrlRefused):
        ssrf.check(url, [])


def test_ssrf_guard_allows_public_and_configured_networks():
    ssrf.check_addresses("example.com", ["93.184.215.14"], [])
    ssrf.check("http://127.0.0.1:9/hook", ssrf.networks(["127.0.0.0/8"]))
    with pytest.raises(ssrf.UrlRefused):
        ssrf.check_addresses("x", ["93.184.215.14", "10.0.0.1"], [])  # any internal one


def test_ssrf_guard_at_subscription_and_at_send_time(migrated, receiver):
    strict = Hub(Settings(database_url=migrated.database_url, _env_file=None,
                          database_schema=migrated.database_schema), receiver)
    try:
        with pytest.raises(DomainError) as refused:
            strict.hooks.create(ADMIN, receiver.url(), "", ["*"], None, True)
        assert refused.value.rule == "webhook_url_not_public"
    finally:
        strict.close()
    hub = Hub(Settings(database_url=migrated.database_url, _env_file=None,
                       database_schema=migrated.database_schema,
                       webhook_allowed_networks=["127.0.0.0/8"]), receiver,
              allowed_networks=())  # the sender's policy no longer allows loopback
    try:
        hub.subscribe("/h", ["shipment.booking_requested"])
        hub.service.request_booking(order(), meta())
        hub.pump()
        assert hub.receiver.on("/h") == []
        [attempt] = hub.hooks.delivery(1)["attempt_log"]
        assert attempt["outcome"] == "refused"
        assert "webhook_url_not_public" in attempt["error"]
    finally:
        hub.close()


def test_secret_rotation_signs_with_both_during_the_grace_period(hub):
    sid, old = hub.subscribe("/h", ["shipment.booking_requested"])
    new, until, _ = hub.hooks.rotate_secret(sid, ADMIN, grace_s=3600)
    hub.receiver.secrets["/h"] = [old, new]  # the receiver checks both verify
    hub.service.request_booking(order(), meta())
    hub.pump()
    [during] = hub.receiver.on("/h")
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(during.body, during.headers)
    Webhook(new).verify(during.body, during.headers)
    assert hub.receiver.unverified == []
    rotated = list(hub.service.store.events.get(sid))[-1]
    assert type(rotated).__name__ == "SecretRotated" and new not in str(rotated.__dict__)

    hub.clock.now = until  # the grace period is over
    hub.receiver.secrets["/h"] = [new]
    hub.service.request_booking(order(), meta())
    hub.pump()
    after = hub.receiver.on("/h")[-1]
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    Webhook(new).verify(after.body, after.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(after.body, after.headers)


def test_replay_from_a_position_resends_the_same_messages(hub):
    sid, _ = hub.subscribe("/r", ["shipment.*"])
    lifecycle(hub.service)
    hub.pump()
    live = hub.receiver.on("/r")
    middle = live[len(live) // 2].json["position"]
    result = hub.hooks.replay(sid, middle, None)
    expected = [r for r in live if r.json["position"] >= middle]
    assert result["deliveries"] == len(expected)
    hub.pump()
    replayed = hub.receiver.on("/r")[len(live):]
    assert sorted(r.webhook_id for r in replayed) == sorted(r.webhook_id for r in expected)
    assert sorted(r.body for r in replayed) == sorted(r.body for r in expected)
    for shipment in {r.json["shipment_id"] for r in replayed}:  # in order per shipment
        mine = [r.webhook_id for r in replayed if r.json["shipment_id"] == shipment]
        assert mine == [r.webhook_id for r in expected if r.json["shipment_id"] == shipment]
    with hub.engine.connect() as conn:
        origins = [o for (o,) in conn.execute(select(webhook_deliveries.c.origin))]
    assert origins.count("replay") == len(expected)


def test_replay_from_a_time(hub):
    sid, _ = hub.subscribe("/t", ["shipment.booking_requested"])
    first = hub.service.request_booking(order(), meta()).shipment_id
    hub.pump()  # delivered before the next booking: shipments are not ordered among themselves
    [event] = hub.service.store.events.get(first)
    later = hub.service.request_booking(order(), meta()).shipment_id
    hub.pump()
    [second] = list(hub.service.store.events.get(later))
    assert hub.hooks.position_at(second.timestamp) > hub.hooks.position_at(event.timestamp)
    result = hub.hooks.replay(sid, None, second.timestamp)
    assert result["deliveries"] == 1
    hub.pump()
    assert [r.json["shipment_id"] for r in hub.receiver.on("/t")] == [
        str(first), str(later), str(later)]
