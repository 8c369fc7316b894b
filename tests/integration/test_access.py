"""Who may do what, over every endpoint of the OpenAPI document, on both databases: no key is
401; a role that may not is 403; a customer key reading another customer's shipments, B/L
drafts, SLA state, history, account or statement gets 404, and sees only its own in lists,
searches and look-ups."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from ar_factories import terms_data
from factories import confirmation_data, order_data, si_data
from keys import keyed_client
from shipflow.api.app import create_app

A, B = "CUST-A", "CUST-B"
MINE = {"X-Actor": "portal-a", "X-Role": "customer", "X-Customer": A}
FIN = {"X-Actor": "fin.lee", "X-Role": "finance"}


@pytest.fixture
def world(migrated):
    """Two customers, each with a confirmed shipment with SI and an account."""
    with keyed_client(create_app(migrated.model_copy(update={"run_workers": False}))) as c:
        ids = {}
        for customer, po in ((A, "PO-A-1"), (B, "PO-B-1")):
            sid = c.post("/shipments", json=order_data(customer_id=customer,
                                                       po_numbers=[po])).json()["shipment_id"]
            c.post(f"/shipments/{sid}/review", json={})
            c.post(f"/shipments/{sid}/confirmation",
                   json=confirmation_data(carrier_booking_no=f"BK-{customer}"))
            c.post(f"/shipments/{sid}/shipping-instructions", json=si_data())
            r = c.post("/accounts", headers=FIN, json={
                "customer_id": customer, "terms": terms_data()})
            assert r.status_code == 201, r.text
            ids[customer] = sid
        c.app.state.read_models.runner().catch_up()
        yield c, ids


def operations(client) -> list[tuple[str, str]]:
    return [(method.upper(), path) for path, ops in client.app.openapi()["paths"].items()
            for method in ops]


def fill(path: str, sid: str, customer: str) -> str:
    return (path.replace("{shipment_id}", sid).replace("{customer_id}", customer)
            .replace("{subscription_id}", "00000000-0000-4000-8000-000000000000")
            .replace("{key_id}", "nokey").replace("{delivery_id}", "1")
            .replace("{number}", "1"))


def test_every_endpoint_but_health_needs_a_key(world):
    client, ids = world
    wrong = []
    anonymous = TestClient(client.app)  # the same running app, no key
    for method, path in operations(client):
        r = anonymous.request(method, fill(path, ids[A], A), json={})
        expected = 200 if path == "/health" else 401
        if r.status_code != expected:
            wrong.append((method, path, r.status_code))
    assert wrong == []


def test_a_customer_key_changes_nothing(world):
    client, ids = world
    wrong = [(method, path, r.status_code) for method, path in operations(client)
             if method != "GET" and path != "/health"
             and (r := client.request(method, fill(path, ids[A], A), json={},
                                      headers=MINE)).status_code != 403]
    assert wrong == []


#: GET endpoints a customer key reads for its own customer, and gets 404 for another's.
OWN_DATA = [
    "/shipments/{shipment_id}", "/shipments/{shipment_id}?version=1",
    "/shipments/{shipment_id}?as_of=2099-01-01T00:00:00Z", "/shipments/{shipment_id}/events",
    "/shipments/{shipment_id}/bl-draft", "/shipments/{shipment_id}/bl-draft/versions",
    "/shipments/{shipment_id}/bl-draft/diff", "/shipments/{shipment_id}/sla",
    "/accounts/{customer_id}", "/accounts/{customer_id}/events",
    "/accounts/{customer_id}/statement", "/accounts/{customer_id}/statement.xlsx",
    "/reports/status.xlsx?customer={customer_id}",
    "/shipments/{shipment_id}/audit/verify", "/accounts/{customer_id}/statement/changes",
]


def test_a_customer_key_reads_its_own_and_nothing_of_another(world):
    client, ids = world
    wrong = []
    for path in OWN_DATA:
        mine = client.get(fill(path, ids[A], A), headers=MINE)
        theirs = client.get(fill(path, ids[B], B), headers=MINE)
        if mine.status_code != 200 or theirs.status_code != 404:
            wrong.append((path, mine.status_code, theirs.status_code))
    assert wrong == []
    # the GET endpoints not listed above are either scoped lists or staff-only
    listed = {re.sub(r"\?.*", "", p) for p in OWN_DATA}
    others = {p for m, p in operations(client) if m == "GET"} - listed
    assert others == {"/shipments", "/shipments/lookup", "/sla", "/projections",
                      "/webhooks/event-types", "/webhooks/subscriptions",
                      "/webhooks/subscriptions/{subscription_id}",
                      "/webhooks/subscriptions/{subscription_id}/deliveries",
                      "/webhooks/deliveries/{delivery_id}", "/accounts/work-queue",
                      "/reports/kpi", "/reports/kpi.xlsx", "/admin/api-keys", "/health",
                      "/metrics", "/dcsa/tnt/v2/events",
                      "/dcsa/bkg/v2/bookings/{bookingReference}",
                      "/audit/checkpoints", "/audit/checkpoints/{number}",
                      "/audit/consistency", "/audit/inclusion",
                      "/shipments/{shipment_id}/audit-package",
                      "/shipments/{shipment_id}/changes"}


def test_lists_searches_and_look_ups_show_a_customer_only_its_own(world):
    client, ids = world
    found = {r["shipment_id"] for r in client.get("/shipments", params={"customer": B},
                                                  headers=MINE).json()["items"]}
    assert found == {ids[A]}
    assert client.get("/shipments/lookup", params={"ref": "PO-B-1"}, headers=MINE).json() == []
    assert [r["shipment_id"] for r in client.get(
        "/shipments/lookup", params={"ref": "PO-A-1"}, headers=MINE).json()] == [ids[A]]
    queue = client.get("/sla", params={"customer": B}, headers=MINE).json()
    assert queue and {t["customer_id"] for t in queue} == {A}
    for staff_only in ("/projections", "/reports/kpi", "/accounts/work-queue",
                       "/webhooks/subscriptions", "/admin/api-keys", "/audit/checkpoints",
                       f"/shipments/{ids[A]}/audit-package", f"/shipments/{ids[A]}/changes"):
        assert client.get(staff_only, headers=MINE).status_code == 403, staff_only


@pytest.mark.parametrize(("role", "allowed", "forbidden"), [
    ("sales", [], ["/shipments/{sid}/confirmation", "/shipments/{sid}/milestones",
                   "/shipments/{sid}/charges", "/accounts/{c}/payments"]),
    ("tracking", ["/shipments/{sid}/milestones", "/shipments/{sid}/exceptions",
                  "/integrations/dcsa/tnt/events"],
     ["/shipments/{sid}/confirmation", "/shipments/{sid}/charges", "/shipments/{sid}/close"]),
    ("finance", ["/shipments/{sid}/charges", "/accounts/{c}/payments"],
     ["/shipments/{sid}/confirmation", "/shipments/{sid}/milestones"]),
    ("integration", ["/shipments", "/shipments/{sid}/confirmation",
                     "/shipments/{sid}/milestones", "/webhooks/subscriptions"],
     ["/shipments/{sid}/review", "/shipments/{sid}/close", "/accounts/{c}/payments",
      "/admin/api-keys"]),
    ("cs", ["/shipments/{sid}/review", "/shipments/{sid}/charges"],
     ["/webhooks/subscriptions", "/admin/api-keys"]),
    ("admin", ["/admin/api-keys", "/webhooks/subscriptions", "/shipments/{sid}/close"], []),
    ("auditor", ["/audit/checkpoints"],
     ["/shipments", "/shipments/{sid}/review", "/shipments/{sid}/charges",
      "/shipments/{sid}/milestones", "/accounts/{c}/payments", "/webhooks/subscriptions",
      "/admin/api-keys"]),
])
def test_roles(world, role, allowed, forbidden):
    client, ids = world
    who = {"X-Actor": f"someone.{role}", "X-Role": role}

    def status(path: str) -> int:
        return client.post(path.format(sid=ids[A], c=A), json={}, headers=who).status_code

    assert [p for p in allowed if status(p) in (401, 403)] == []
    assert [p for p in forbidden if status(p) != 403] == []
