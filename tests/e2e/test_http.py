"""The HTTP API end to end: a real server on SQLite and on PostgreSQL, httpx over loopback."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from factories import NOW, confirmation_data, order_data, si_data
from keys import server_keys

pytestmark = pytest.mark.e2e

CS = {"X-Actor": "cs.wang", "X-Role": "cs"}
OFR = {"direction": "RECEIVABLE", "code": "OFR", "quantity": "1", "counterparty": "CUST-ACME",
       "unit_price": {"amount": "1850.00", "currency": "USD"}}
DEPARTED = NOW + timedelta(days=15)
CST = timezone(timedelta(hours=8))


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def post(client: httpx.Client, path: str, body: Any = None, headers: dict | None = None,
         **kw: Any) -> httpx.Response:
    return client.post(path, json=body, headers={**CS, **(headers or {})}, **kw)


def ok(resp: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert resp.headers["ETag"] == f'"{body["version"]}"'
    return body


def refused(resp: httpx.Response, status: int, rule: str, field: str | None = None,
            in_violations: bool = True) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    body = resp.json()
    assert (body["status"], body["type"]) == (status, f"urn:shipflow:problem:{rule}")
    assert body["title"] and body["detail"]
    if in_violations:
        assert (rule, field) in {(v["rule"], v.get("field")) for v in body["violations"]}, body
    return body


@contextmanager
def nothing_recorded(client: httpx.Client, server, sid: str) -> Iterator[None]:
    """The shipment's audit history and the whole store are the same afterwards."""
    before, count = client.get(f"/shipments/{sid}/events").json(), server.count_events()
    yield
    assert client.get(f"/shipments/{sid}/events").json() == before
    assert server.count_events() == count


def book(client: httpx.Client, **overrides: Any) -> str:
    sid = ok(post(client, "/shipments", order_data(**overrides)), 201)["shipment_id"]
    ok(post(client, f"/shipments/{sid}/review", {}))
    ok(post(client, f"/shipments/{sid}/confirmation", confirmation_data()))
    return sid


@pytest.fixture
def sid(client) -> str:
    return book(client)


# --- the happy path ------------------------------------------------------------------------


def test_full_lifecycle_with_audit_history_and_past_state(client):
    r = post(client, "/shipments", order_data(), {"X-Correlation-Id": "handover-42"})
    created = ok(r, 201)
    sid = created["shipment_id"]
    assert r.headers["Location"] == f"/shipments/{sid}"
    assert (created["version"], created["events"]) == (1, ["BookingRequested"])
    got = client.get(r.headers["Location"])
    assert (got.status_code, got.headers["ETag"], got.json()["status"]) == (200, '"1"', "RECEIVED")

    reported_at = (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=0)
    steps: list[tuple[str, Any, dict, list[str], Any]] = [
        ("review", {}, {}, ["BookingReviewed"], "ACCEPTED"),
        ("confirmation", confirmation_data(), {}, ["CarrierConfirmed"], None),
        ("amendments", {"changes": [{"field": "consignee.address",
                                     "after": "2 Harbor Dr, Long Beach"}],
                        "customer_confirmation_ref": "email 2026-11-21", "reason": "moved",
                        "charges": [{**OFR, "code": "AMD", "unit_price": {
                            "amount": "35.00", "currency": "USD"}}],
                        "notify_parties": ["customs_broker", "finance"]},
         {"X-Actor": "cs.li"}, ["AmendmentRequested"], 1),
        ("amendments/1/approval", None, {}, ["AmendmentApproved", "ChargeAdded"], None),
        ("shipping-instructions", si_data(), {}, ["ShippingInstructionsSubmitted"], None),
        ("milestones", {"kind": "EQUIPMENT", "code": "GTIN", "classifier": "ACT",
                        "location": "CNSHA", "container_no": "MSKU1234565",
                        "event_time": (DEPARTED - timedelta(days=2)).isoformat()},
         {"X-Actor": "tms.bot", "X-Role": "integration", "X-Source": "tms",
          "X-External-Id": "dcsa-1", "X-Occurred-At": reported_at.astimezone(CST).isoformat()},
         ["MilestoneRecorded"], True),
        ("milestones", {"kind": "TRANSPORT", "code": "DEPA", "classifier": "ACT",
                        "event_time": DEPARTED.isoformat()}, {}, ["MilestoneRecorded"], True),
        ("charges", OFR, {"X-Actor": "ar.zhou", "X-Role": "finance"}, ["ChargeAdded"], 2),
        ("bl/approval", {"approved_by": "Ms Chen (Acme)"}, {}, ["BlDraftApproved"], None),
        ("bl/issue", {"bl_number": "SFLW2611000123", "place_of_issue": "CNSHA",
                      "shipped_on_board_date": DEPARTED.date().isoformat(),
                      "issue_date": "2026-12-05"}, {}, ["BlIssued"], "NORMAL"),
        ("sailing-outcome", {"outcome": "SHIPPED"}, {}, ["SailingOutcomeRecorded"], None),
        ("close", {"note": "all done"}, {}, ["ShipmentClosed"], None),
    ]
    version = 1
    for path, body, headers, events, result in steps:
        r = post(client, f"/shipments/{sid}/{path}", body,
                 {"If-Match": f'"{version}"', **headers})
        done = ok(r)
        version += len(events)
        assert (done["version"], done["events"], done["result"]) == (version, events, result)
        assert done["position"] > 0

    final = client.get(f"/shipments/{sid}")
    assert final.headers["ETag"] == f'"{version}"'
    s = final.json()
    assert (s["status"], s["sailing_outcome"], s["departed"]) == ("COMPLETED", "SHIPPED", True)
    assert s["order"]["consignee"]["address"] == "2 Harbor Dr, Long Beach"
    [amendment] = s["amendments"]
    assert (amendment["status"], amendment["requested_by"], amendment["decided_by"]) == (
        "APPROVED", "cs.li", "cs.wang")
    assert [(c["number"], c["line"]["code"], c["line"]["unit_price"], c["amendment_number"])
            for c in s["charges"]] == [
        (1, "AMD", {"amount": "35.00", "currency": "USD"}, 1),
        (2, "OFR", {"amount": "1850.00", "currency": "USD"}, None)]
    assert s["bl_issue"]["bl_number"] == "SFLW2611000123"
    assert s["etd"].startswith(DEPARTED.strftime("%Y-%m-%dT%H:%M"))

    events = client.get(f"/shipments/{sid}/events").json()
    assert [e["version"] for e in events] == list(range(1, version + 1))
    assert [e["type"] for e in events][:3] == [
        "BookingRequested", "BookingReviewed", "CarrierConfirmed"]
    assert events[0]["correlation_id"] == "handover-42"
    assert events[0]["payload"]["order"]["pol"] == "CNSHA"
    by_type = {e["type"]: e for e in events}
    assert (by_type["AmendmentRequested"]["actor"], by_type["AmendmentApproved"]["actor"]) == (
        "cs.li", "cs.wang")
    gate_in = next(e for e in events if e["payload"].get("milestone", {}).get("code") == "GTIN")
    assert (gate_in["actor"], gate_in["role"], gate_in["source"], gate_in["external_id"]) == (
        "tms.bot", "integration", "tms", "dcsa-1")
    # Reported an hour late: it occurred when the sender says (stored in UTC), and was
    # recorded when it reached us.
    assert parse(gate_in["occurred_at"]) == reported_at
    assert parse(gate_in["occurred_at"]).utcoffset() == timedelta(0)
    assert parse(gate_in["recorded_at"]) > reported_at + timedelta(minutes=59)
    ofr = by_type["ChargeAdded"]  # the last one
    assert (ofr["actor"], ofr["role"], ofr["source"]) == ("ar.zhou", "finance", "api")
    assert ofr["payload"] == {"number": 2, "amendment_number": None, "line": {
        **OFR, "description": "", "reason": None}}
    assert all(e["recorded_at"] and e["occurred_at"] and e["role"] for e in events)

    # The past: by version, and as the system knew it at a recorded time.
    past = client.get(f"/shipments/{sid}", params={"version": 3})
    assert (past.status_code, past.headers["ETag"]) == (200, '"3"')
    assert (past.json()["status"], past.json()["charges"]) == ("CONFIRMED", [])
    for e in events:
        then = client.get(f"/shipments/{sid}", params={"as_of": e["recorded_at"]})
        known = max(x["version"] for x in events
                    if parse(x["recorded_at"]) <= parse(e["recorded_at"]))
        assert (then.status_code, then.headers["ETag"]) == (200, f'"{known}"')
        assert then.json() == client.get(f"/shipments/{sid}", params={"version": known}).json()
    amended = next(e for e in events if e["type"] == "AmendmentRequested")
    then = client.get(f"/shipments/{sid}", params={"as_of": amended["recorded_at"]}).json()
    assert (then["status"], then["order"]["consignee"]["address"]) == (
        "PENDING_AMENDMENT", "1 Harbor Dr, Long Beach")
    refused(client.get(f"/shipments/{sid}", params={"as_of": "2000-01-01T00:00:00Z"}), 404,
            "shipment_not_yet_booked")
    refused(client.get(f"/shipments/{sid}", params={"version": version + 1}), 404,
            "version_not_found", in_violations=False)


# --- bad input: refused by name, nothing recorded, never a 500 --------------------------------


@pytest.mark.parametrize(("overrides", "rule", "field"), [
    pytest.param({"pod": "PHMNL", "place_of_delivery": "PHMNL", "us_routing": None},
                 "terminal_required", "pod_terminal", id="manila-no-terminal"),
    pytest.param({"equipment": [{"size_type": "22G1", "count": 1}], "gross_weight_kg": "25000",
                  "volume_cbm": "25"}, "overweight_20ft", "equipment", id="20gp-at-25t"),
    pytest.param({"equipment": [{"size_type": "45R1", "count": 1}]},
                 "reefer_settings_required", "equipment.0.reefer.temperature_c",
                 id="reefer-no-temperature"),
])
def test_booking_breaking_a_data_rule_is_refused(client, server, sid, overrides, rule, field):
    with nothing_recorded(client, server, sid):
        r = post(client, "/shipments", order_data(**overrides))
        refused(r, 422, rule, field)
        assert "Location" not in r.headers
        # The same change as an amendment of a live booking is refused the same way.
        changes = [{"field": k, "after": v} for k, v in overrides.items()]
        refused(post(client, f"/shipments/{sid}/amendments",
                     {"changes": changes, "customer_confirmation_ref": "mail"}), 422, rule, field)


def test_amendment_decided_by_another_cs_is_forbidden(client, server, sid):
    ok(post(client, f"/shipments/{sid}/amendments", {
        "changes": [{"field": "remarks", "after": "fragile"}],
        "customer_confirmation_ref": "mail 3"}))
    with nothing_recorded(client, server, sid):
        r = post(client, f"/shipments/{sid}/amendments/1/approval",
                 headers={"X-Actor": "cs.zhang"})
        refused(r, 403, "original_cs_only")
    assert client.get(f"/shipments/{sid}").json()["status"] == "PENDING_AMENDMENT"


def test_milestone_on_a_cancelled_shipment_is_a_conflict(client, server, sid):
    ok(post(client, f"/shipments/{sid}/cancellation", {"reason": "customer cancelled"}))
    with nothing_recorded(client, server, sid):
        refused(post(client, f"/shipments/{sid}/milestones", {
            "kind": "EQUIPMENT", "code": "GTIN", "classifier": "ACT", "location": "CNSHA",
            "event_time": DEPARTED.isoformat()}), 409, "shipment_cancelled")


def test_malformed_json_is_a_bad_request(client, server, sid):
    with nothing_recorded(client, server, sid):
        r = client.post(f"/shipments/{sid}/milestones", content=b'{"kind": "EQUIPMENT",',
                        headers={**CS, "Content-Type": "application/json"})
        refused(r, 400, "json_invalid", "body")


def test_unknown_shipment_is_not_found(client):
    unknown = uuid.uuid4()
    for r in (client.get(f"/shipments/{unknown}"), client.get(f"/shipments/{unknown}/events"),
              post(client, f"/shipments/{unknown}/cancellation", {"reason": "x"})):
        refused(r, 404, "shipment_not_found")


def test_bad_container_check_digit_names_the_field(client, server, sid):
    containers = si_data()["containers"]
    body = si_data(containers=[containers[0], {**containers[0], "container_no": "MSKU1234566"}])
    with nothing_recorded(client, server, sid):
        refused(post(client, f"/shipments/{sid}/shipping-instructions", body), 422,
                "container_check_digit", "containers.1.container_no")


def test_stale_if_match_is_a_failed_precondition(client, server, sid):
    etag = client.get(f"/shipments/{sid}").headers["ETag"]
    assert etag == '"3"'
    ok(post(client, f"/shipments/{sid}/charges", OFR, {"If-Match": etag}))
    with nothing_recorded(client, server, sid):
        r = post(client, f"/shipments/{sid}/charges", OFR, {"If-Match": etag})
        body = refused(r, 412, "version_conflict")
    assert body["current_version"] == 4
    assert r.headers["ETag"] == '"4"'


def test_a_request_without_a_valid_key_is_unauthorised(client, server, sid):
    keys = server_keys(server.env)
    key, info = keys.create("cs.gone", "cs", "test")
    keys.revoke(info.key_id, "test")
    with httpx.Client(base_url=server.base_url, timeout=15) as anonymous, \
            nothing_recorded(client, server, sid):
        for headers, rule in (({}, "api_key_required"),
                              ({"Authorization": "Bearer sfk_nope_nope"}, "api_key_invalid"),
                              ({"X-API-Key": "not-a-key"}, "api_key_invalid"),
                              ({"Authorization": f"Bearer {key}"}, "api_key_invalid")):
            for r in (anonymous.post(f"/shipments/{sid}/cancellation", json={"reason": "x"},
                                     headers=headers),
                      anonymous.get(f"/shipments/{sid}", headers=headers)):
                refused(r, 401, rule, "Authorization")
                assert r.headers["www-authenticate"].startswith("Bearer")
        assert anonymous.get("/health").status_code == 200  # the one open door
    keys.engine.dispose()


def test_a_role_that_may_not_is_forbidden(client, server, sid):
    with nothing_recorded(client, server, sid):
        r = client.post(f"/shipments/{sid}/cancellation", json={"reason": "x"},
                        headers={"X-Actor": "sales.li", "X-Role": "sales"})
        refused(r, 403, "role_forbidden")


@pytest.mark.parametrize(("method", "path", "kw", "status"), [
    ("POST", "/shipments/{sid}/charges", {"json": OFR, "headers": {"If-Match": "seven"}}, 400),
    ("GET", "/shipments/{sid}", {"params": {"as_of": "2026-11-20T08:00:00"}}, 422),
    ("GET", "/shipments/{sid}", {"params": {"version": 0}}, 422),
    ("GET", "/shipments/{sid}", {"params": {"version": 1, "as_of": "2026-11-20T08:00:00Z"}},
     400),
    ("GET", "/shipments/not-a-uuid", {}, 422),
    ("POST", "/shipments", {"json": None}, 422),
    ("POST", "/shipments", {"json": []}, 422),
    ("POST", "/shipments/{sid}/charges", {"json": {**OFR, "quantity": "1e400"}}, 422),
    ("POST", "/shipments/{sid}/charges", {"json": {**OFR, "currency": "XXX"}}, 422),
    ("POST", "/shipments/{sid}/milestones", {"json": {"kind": "EQUIPMENT", "code": "FLY",
                                                      "classifier": "ACT",
                                                      "event_time": "2026-12-01T00:00Z"}}, 422),
    ("POST", "/shipments/{sid}/amendments", {"json": {"changes": [
        {"field": "equipment.7.count", "after": 2}], "customer_confirmation_ref": "m"}}, 422),
    ("POST", "/shipments/{sid}/amendments", {"json": {"changes": [
        {"field": "gross_weight_kg", "after": {"a": 1}}], "customer_confirmation_ref": "m"}},
     422),
    ("POST", "/shipments/{sid}/amendments/99/approval", {}, 404),
    ("POST", "/shipments/{sid}/charges/99/void", {"json": {"reason": "x"}}, 404),
    ("POST", "/shipments/{sid}/review", {"json": {}, "headers": {
        "X-Actor": "acme", "X-Role": "customer", "X-Customer": "CUST-ACME"}}, 403),
    ("POST", "/shipments/{sid}/review", {"json": {}, "headers": {"X-Source": "fax"}}, 422),
    ("POST", "/shipments/{sid}/review", {"json": {}, "headers": {
        "X-Occurred-At": "yesterday"}}, 422),
    ("DELETE", "/shipments/{sid}", {}, 405),
    ("GET", "/nowhere", {}, 404),
])
def test_odd_requests_are_problems_not_crashes(client, server, sid, method, path, kw, status):
    kw = {**kw, "headers": {**CS, **kw.get("headers", {})}}
    with nothing_recorded(client, server, sid):
        r = client.request(method, path.format(sid=sid), **kw)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")


def test_review_with_rates_differing_from_the_handover_goes_on_hold(client):
    booked = [{"code": "OFR", "unit_price": {"amount": "1950", "currency": "USD"},
               "size_type": "45G1"}]
    sid = ok(post(client, "/shipments", order_data(booked_rates=booked)), 201)["shipment_id"]
    review = ok(post(client, f"/shipments/{sid}/review", {}))
    assert review["result"] == "ON_HOLD"
    shipment = client.get(f"/shipments/{sid}").json()
    assert shipment["status"] == "PENDING_UPDATE"
    assert {v["rule"] for v in shipment["open_violations"]} == {"rate_differs_from_handover"}


FAR_OFFSET = "9999-12-31T23:00:00-14:00"  # valid ISO 8601, but past datetime.max in UTC


@pytest.mark.parametrize(("path", "body", "headers"), [
    ("milestones", {"kind": "EQUIPMENT", "code": "GTIN", "classifier": "ACT",
                    "event_time": FAR_OFFSET}, {}),
    ("review", {}, {"X-Occurred-At": FAR_OFFSET}),
], ids=["body-field", "x-occurred-at"])
def test_unrepresentable_utc_time_is_refused(client, server, sid, path, body, headers):
    with nothing_recorded(client, server, sid):
        r = post(client, f"/shipments/{sid}/{path}", body, headers)
    assert r.status_code == 422


def test_version_beyond_what_a_shipment_can_have_is_refused(client, server, sid):
    refused(client.get(f"/shipments/{sid}", params={"version": 2**63}), 422,
            "less_than_equal", "query.version")
