"""Idempotency-Key on commands, on both databases: a retry returns the first response and
writes nothing; another request under the same key is refused; concurrent same-key requests
commit once; keys are per owner and expire."""

from __future__ import annotations

import threading
import time

import pytest

from factories import order_data
from keys import keyed_client
from shipflow.api.app import create_app

CS = {"X-Actor": "cs.wang", "X-Role": "cs"}
OFR = {"direction": "RECEIVABLE", "code": "OFR", "quantity": "1", "counterparty": "CUST-ACME",
       "unit_price": {"amount": "1850.00", "currency": "USD"}}


def app_client(settings, **overrides):
    return keyed_client(create_app(settings.model_copy(update={"run_workers": False,
                                                            **overrides})))


@pytest.fixture
def client(migrated):
    with app_client(migrated) as c:
        yield c


def events(client, sid):
    return client.get(f"/shipments/{sid}/events").json()


def booked(client):
    return client.post("/shipments", json=order_data(), headers=CS).json()["shipment_id"]


def test_a_retried_command_returns_the_first_response_and_writes_nothing(client):
    sid = booked(client)
    headers = {**CS, "Idempotency-Key": "charge-ofr-1"}
    first = client.post(f"/shipments/{sid}/charges", json=OFR, headers=headers)
    again = client.post(f"/shipments/{sid}/charges", json=OFR, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["x-position"] == first.headers["x-position"]
    assert again.headers["idempotent-replayed"] == "true"
    assert [e["type"] for e in events(client, sid)].count("ChargeAdded") == 1


def test_a_retried_booking_creates_one_shipment(client):
    headers = {**CS, "Idempotency-Key": "tms-order-778"}
    first = client.post("/shipments", json=order_data(), headers=headers)
    again = client.post("/shipments", json=order_data(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json()["shipment_id"] == first.json()["shipment_id"]
    assert again.headers["location"] == first.headers["location"]
    assert client.app.state.service.store.recorder.max_notification_id() == 2  # + its record


def test_the_same_key_with_another_request_is_refused(client):
    sid = booked(client)
    headers = {**CS, "Idempotency-Key": "k1"}
    assert client.post(f"/shipments/{sid}/charges", json=OFR, headers=headers).status_code == 200
    other = client.post(f"/shipments/{sid}/charges", json={**OFR, "quantity": "2"},
                        headers=headers)
    assert other.status_code == 409
    assert other.json()["type"] == "urn:shipflow:problem:idempotency_key_reused"
    assert [e["type"] for e in events(client, sid)].count("ChargeAdded") == 1


def test_keys_belong_to_their_owner(client):
    sid = booked(client)
    for actor in ("cs.wang", "cs.liu"):
        r = client.post(f"/shipments/{sid}/charges", json=OFR,
                        headers={"X-Actor": actor, "X-Role": "cs", "Idempotency-Key": "same"})
        assert "idempotent-replayed" not in r.headers
    assert [e["type"] for e in events(client, sid)].count("ChargeAdded") == 2


def test_a_refused_command_stores_nothing_under_its_key(client):
    sid = booked(client)
    headers = {**CS, "Idempotency-Key": "fix-and-retry"}
    bad = client.post(f"/shipments/{sid}/charges", json={**OFR, "code": "STORAGE"},
                      headers=headers)
    assert bad.status_code == 422  # extra cost without a reason
    fixed = client.post(f"/shipments/{sid}/charges",
                        json={**OFR, "code": "STORAGE", "reason": "held 3 days"},
                        headers=headers)
    assert fixed.status_code == 200


def test_concurrent_requests_with_one_key_commit_once(client):
    sid = booked(client)
    headers = {**CS, "Idempotency-Key": "burst"}
    barrier, answers = threading.Barrier(4), []

    def post():
        barrier.wait()
        answers.append(client.post(f"/shipments/{sid}/charges", json=OFR, headers=headers))

    threads = [threading.Thread(target=post) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {r.status_code for r in answers} == {200}
    assert len({r.json()["version"] for r in answers}) == 1
    assert [e["type"] for e in events(client, sid)].count("ChargeAdded") == 1


def test_an_expired_key_can_be_used_again(migrated):
    with app_client(migrated, idempotency_ttl_s=0.5) as client:
        sid = booked(client)
        headers = {**CS, "Idempotency-Key": "short-lived"}
        client.post(f"/shipments/{sid}/charges", json=OFR, headers=headers)
        time.sleep(0.6)
        again = client.post(f"/shipments/{sid}/charges", json=OFR, headers=headers)
        assert "idempotent-replayed" not in again.headers
        assert [e["type"] for e in events(client, sid)].count("ChargeAdded") == 2
        replay = client.post(f"/shipments/{sid}/charges", json=OFR, headers=headers)
        assert replay.headers["idempotent-replayed"] == "true"
        assert replay.json() == again.json()


def test_account_commands_take_idempotency_keys_too(client):
    from ar_factories import terms_data

    fin = {"X-Actor": "fin.lee", "X-Role": "finance", "Idempotency-Key": "open-acme"}
    body = {"customer_id": "CUST-ACME", "terms": terms_data()}
    first = client.post("/accounts", json=body, headers=fin)
    again = client.post("/accounts", json=body, headers=fin)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert again.headers["location"] == "/accounts/CUST-ACME"
    history = client.get("/accounts/CUST-ACME/events", headers=fin).json()
    assert [e["type"] for e in history] == ["AccountOpened"]


# --- the key is checked after authorization, per API key (Trust #5) -------------------------


def test_a_replay_is_per_api_key_not_per_owner(client):
    """Two keys of one owner share no answers: the second key's request is its own."""
    sid = booked(client)
    keys = client.app.state.keys
    first_key, second_key = (keys.create("cs.wang", "cs", "tests")[0] for _ in range(2))
    for key in (first_key, second_key):
        r = client.post(f"/shipments/{sid}/charges", json=OFR, headers={
            "Authorization": f"Bearer {key}", "Idempotency-Key": "shared"})
        assert r.status_code == 200 and "idempotent-replayed" not in r.headers
    assert [e["type"] for e in events(client, sid)].count("ChargeAdded") == 2


def test_a_customer_key_of_the_same_owner_cannot_replay_a_cs_command(client):
    sid = booked(client)
    headers = {"Idempotency-Key": "cs-charge"}
    cs_key = client.app.state.keys.create("acme", "cs", "tests")[0]
    customer_key = client.app.state.keys.create("acme", "customer", "tests", "CUST-OTHER")[0]
    done = client.post(f"/shipments/{sid}/charges", json=OFR,
                       headers={**headers, "Authorization": f"Bearer {cs_key}"})
    assert done.status_code == 200
    replay = client.post(f"/shipments/{sid}/charges", json=OFR,
                         headers={**headers, "Authorization": f"Bearer {customer_key}"})
    assert replay.status_code == 403, replay.text
    assert replay.json()["type"] == "urn:shipflow:problem:role_forbidden"
    assert "idempotent-replayed" not in replay.headers


def test_a_sales_key_cannot_replay_a_webhook_subscription(client):
    keys = client.app.state.keys
    owner_keys = {role: keys.create("tms", role, "tests")[0] for role in ("integration", "sales")}
    body = {"url": "https://hooks.example.com/tms", "event_types": ["shipment.*"]}
    created = client.post("/webhooks/subscriptions", json=body, headers={
        "Authorization": f"Bearer {owner_keys['integration']}", "Idempotency-Key": "sub-1"})
    assert created.status_code in (201, 422), created.text  # 422 if the host is not public
    replay = client.post("/webhooks/subscriptions", json=body, headers={
        "Authorization": f"Bearer {owner_keys['sales']}", "Idempotency-Key": "sub-1"})
    assert replay.status_code == 403, replay.text
    assert "idempotent-replayed" not in replay.headers
