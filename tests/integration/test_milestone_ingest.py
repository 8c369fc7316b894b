"""Bulk milestone ingest through the API on both databases: DCSA T&T events and CSV rows,
matched by booking, B/L or container; duplicates, out-of-order estimates, unmatched and
invalid events each reported, and one bad event never rejects the others."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dcsa_events import eid, tnt_event
from factories import NOW, confirmation_data, order_data, si_data
from keys import keyed_client
from shipflow.api.app import create_app

CS = {"X-Actor": "cs.wang", "X-Role": "cs"}
FEED = {"X-Actor": "maersk-feed", "X-Role": "integration"}


@pytest.fixture
def client(migrated):
    with keyed_client(create_app(migrated.model_copy(update={"run_workers": False}))) as c:
        yield c


def catch_up(client) -> None:
    client.app.state.read_models.runner().catch_up()


def booked(client, booking_no: str, **overrides) -> str:
    sid = client.post("/shipments", json=order_data(**overrides), headers=CS).json()[
        "shipment_id"]
    client.post(f"/shipments/{sid}/review", json={}, headers=CS)
    r = client.post(f"/shipments/{sid}/confirmation", headers=CS,
                    json=confirmation_data(carrier_booking_no=booking_no))
    assert r.status_code == 200, r.text
    catch_up(client)
    return sid


def event(label: str, code: str, classifier: str, at, created, ref=("BKG", "BK1"), **kw):
    return tnt_event(label, code, classifier, at, created, ref, **kw)


def send(client, events):
    r = client.post("/integrations/dcsa/tnt/events", json=events, headers=FEED)
    assert r.status_code == 200, r.text
    return r.json()


def history(client, sid):
    return client.get(f"/shipments/{sid}/events").json()


def test_each_event_gets_its_outcome_and_bad_ones_do_not_stop_the_rest(client):
    sid = booked(client, "BK1")
    sailed = NOW + timedelta(days=15)
    result = send(client, [
        event("e1", "DEPA", "ACT", sailed, NOW),
        event("e2", "DEPA", "ACT", sailed, NOW),
        event("e1", "DEPA", "ACT", sailed, NOW),  # the same event again
        event("e3", "DEPA", "ACT", sailed, NOW, ref=("BKG", "NOBODY")),
        event("e4", "GTIN", "ACT", sailed, NOW, equipmentEventTypeCode="FLY",
              equipmentReference="MSKU1234565"),
        "not an event",
    ])
    assert [(r["event_id"], r["status"]) for r in result["results"]] == [
        (eid("e1"), "accepted"), (eid("e2"), "accepted"), (eid("e1"), "duplicate"),
        (eid("e3"), "unmatched"), (eid("e4"), "invalid"), (None, "invalid")]
    assert result["results"][4]["reason"].startswith(
        "dcsa_schema: equipmentEventTypeCode: 'FLY' is not one of")
    assert result["counts"] == {"accepted": 2, "duplicate": 1, "unmatched": 1, "invalid": 2}
    shipment = client.get(f"/shipments/{sid}").json()
    assert shipment["departed"] and shipment["etd"].startswith(sailed.isoformat()[:16])
    recorded = [e for e in history(client, sid) if e["type"] == "MilestoneRecorded"]
    assert [e["external_id"] for e in recorded] == [eid("e1"), eid("e2")]
    assert {e["source"] for e in recorded} == {"carrier_feed"}


def test_out_of_order_estimates_and_actuals(client):
    sid = booked(client, "BK2")
    eta = NOW + timedelta(days=30)
    pod = {"ref": ("BKG", "BK2"), "location": "USLAX"}
    result = send(client, [
        event("n1", "ARRI", "EST", eta + timedelta(days=2), NOW + timedelta(days=5), **pod),
        event("n0", "ARRI", "EST", eta + timedelta(days=9), NOW + timedelta(days=1), **pod),
        event("n2", "ARRI", "ACT", eta + timedelta(days=3), NOW + timedelta(days=33), **pod),
        event("n3", "ARRI", "EST", eta + timedelta(days=8), NOW + timedelta(days=34), **pod),
    ])
    assert [r["status"] for r in result["results"]] == [
        "accepted", "superseded", "accepted", "superseded"]
    shipment = client.get(f"/shipments/{sid}").json()
    assert shipment["eta"].startswith((eta + timedelta(days=3)).isoformat()[:16])
    assert len([e for e in history(client, sid) if e["type"] == "MilestoneRecorded"]) == 4


def test_matching_by_transport_document_and_container(client):
    sid = booked(client, "BK3")
    client.post(f"/shipments/{sid}/shipping-instructions", json=si_data(), headers=CS)
    catch_up(client)
    gate_in = NOW + timedelta(days=14)
    result = send(client, [
        event("c1", "GTIN", "ACT", gate_in, NOW, ref=None, equipmentReference="MSKU1234565"),
    ])
    assert result["results"][0]["status"] == "accepted"
    assert result["results"][0]["shipment_id"] == sid


def test_a_thousand_events_in_one_batch(client):
    sids = [booked(client, f"BKM{i:03d}") for i in range(20)]
    events = [event(f"m{i}-{j}", "ARRI", "EST", NOW + timedelta(days=30, hours=j),
                    NOW + timedelta(minutes=j), ref=("BKG", f"BKM{i:03d}"), location="USLAX")
              for i in range(20) for j in range(50)]
    result = send(client, events)
    assert result["counts"] == {"accepted": 1000}
    assert len([e for e in history(client, sids[7]) if e["type"] == "MilestoneRecorded"]) == 50
    too_many = client.post("/integrations/dcsa/tnt/events", json=events + events[:1],
                           headers=FEED)
    assert too_many.status_code == 422


def test_csv_rows_are_ingested_like_carrier_events(client):
    sid = booked(client, "BK4")
    csv = ("event_id,event_type,event_code,classifier,event_time,created_at,location,"
           "booking_reference,transport_document_reference,container,vessel,voyage\n"
           f"r1,TRANSPORT,DEPA,ACT,{(NOW + timedelta(days=15)).isoformat()},"
           f"{NOW.isoformat()},CNSHA,BK4,,,MAERSK ESSEN,248E\n"
           f"r2,TRANSPORT,DEPA,EST,not-a-time,{NOW.isoformat()},CNSHA,BK4,,,,\n")
    r = client.post("/integrations/milestones.csv", content=csv.encode(),
                    headers={**FEED, "Content-Type": "text/csv"})
    assert r.status_code == 200, r.text
    assert [o["status"] for o in r.json()["results"]] == ["accepted", "invalid"]
    assert client.get(f"/shipments/{sid}").json()["departed"]
    bad = client.post("/integrations/milestones.csv", content=b"event_id,event_type\nx,y\n",
                      headers={**FEED, "Content-Type": "text/csv"})
    assert (bad.status_code, bad.json()["type"]) == (422, "urn:shipflow:problem:csv_columns")


def test_feeds_need_a_feed_role(client):
    r = client.post("/integrations/dcsa/tnt/events", json=[],
                    headers={"X-Actor": "acme", "X-Role": "customer", "X-Customer": "CUST-ACME"})
    assert (r.status_code, r.json()["type"]) == (403, "urn:shipflow:problem:role_forbidden")


def test_a_retried_feed_with_its_idempotency_key_gets_the_first_answer(client):
    booked(client, "BK5")
    events = [event("i1", "DEPA", "ACT", NOW + timedelta(days=15), NOW, ref=("BKG", "BK5"))]
    headers = {**FEED, "Idempotency-Key": "feed-batch-77"}
    first = client.post("/integrations/dcsa/tnt/events", json=events, headers=headers)
    again = client.post("/integrations/dcsa/tnt/events", json=events, headers=headers)
    assert first.json()["counts"] == {"accepted": 1}
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    without_key = client.post("/integrations/dcsa/tnt/events", json=events, headers=FEED)
    assert without_key.json()["counts"] == {"duplicate": 1}  # the event id guards it anyway
