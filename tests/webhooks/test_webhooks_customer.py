"""A subscription scoped to a customer receives the customer view of each message: no payable
charges, no other party's lines, no internal types, notes or staff names; in the same
per-shipment order, exactly once, with webhook-ids stable across a replay. Staff
subscriptions keep receiving everything. On both databases."""

from __future__ import annotations

from collections import defaultdict

from customer_world import KIND_MARKERS, SECRETS, A, build
from shipflow.webhooks import catalogue
from shipflow.webhooks.customer import CUSTOMER_DATA


def leaks(body: str) -> list[str]:
    return [name for name, secret in SECRETS.items()
            if name not in KIND_MARKERS and secret in body]


def test_a_customer_subscription_receives_its_customer_view(hub):
    hub.subscribe("/staff", ["*"])
    sub, _ = hub.subscribe("/mine", ["*"], customer=A)
    hub.subscribe("/mine-sla", ["sla.*"], customer=A)
    world = build(hub.service)
    hub.pump()
    mine, staff = hub.receiver.on("/mine"), hub.receiver.on("/staff")
    assert hub.receiver.unverified == []
    assert [(r.path, leaks(r.body)) for r in mine if leaks(r.body)] == []
    assert {"vendor", "buy price", "finance", "exception description"} <= {
        name for r in staff for name in leaks(r.body)}
    assert {r.json["customer_id"] for r in mine} == {A}
    assert {"shipment.amended", "shipment.bl_issued", "account.invoice_issued",
            "account.credit_hold_changed", "sla.breached"} <= {r.json["type"] for r in mine}
    # its own charges only (2 and 4 are payable, 5 is billed to another party)
    charged = {r.json["data"]["number"] for r in mine if r.json["type"].startswith(
        "shipment.charge_")}
    assert charged == {1, 3, 6, 7}
    # only the breach of a timer it was promised (free time), not the CS desk's own
    assert [r.json["data"]["kind"] for r in hub.receiver.on("/mine-sla")] == ["demurrage"]
    amended = next(r.json["data"] for r in mine if r.json["type"] == "shipment.amended")
    assert [c["field"] for c in amended["changes"]] == ["consignee.address"]
    assert not {"reason", "approved_by", "notify_parties"} & set(amended)
    # every message once, in log order per shipment, and not the staff messages' ids
    ids = [r.webhook_id for r in mine]
    assert len(ids) == len(set(ids)) and not set(ids) & {r.webhook_id for r in staff}
    by_subject = defaultdict(list)
    for r in mine:
        by_subject[r.json.get("shipment_id") or r.json.get("account_id")].append(
            r.json["position"])
    assert all(p == sorted(p) for p in by_subject.values())
    assert str(world.b1) not in by_subject
    assert hub.pump() == 0  # nothing more to send
    # a replay resends the same messages, with the same webhook-ids
    hub.hooks.replay(sub, 1, None)
    hub.pump()
    again = hub.receiver.on("/mine")[len(mine):]
    assert sorted(r.webhook_id for r in again) == sorted(ids)  # shipments go in parallel


def test_every_webhook_type_has_a_customer_shape():
    assert set(CUSTOMER_DATA) == set(catalogue.EVENT_TYPES)
