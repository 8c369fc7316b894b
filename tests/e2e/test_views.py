"""The read models over HTTP against a real server whose runner and ticker run in-process:
search and look-up, the B/L draft and its versions, SLA timers, read-your-writes."""

from __future__ import annotations

from typing import Any

import httpx

from factories import confirmation_data, order_data, si_data

CS = {"X-Actor": "cs.wang", "X-Role": "cs"}


def post(client: httpx.Client, path: str, body: Any = None) -> dict[str, Any]:
    r = client.post(path, json=body if body is not None else {}, headers=CS)
    assert r.status_code in (200, 201), r.text
    return r.json()


def seen(client: httpx.Client, path: str, position: int, **params: Any) -> Any:
    """GET a view once it includes the write at ``position`` (read-your-writes)."""
    r = client.get(path, params={**params, "min_position": position})
    assert r.status_code == 200, r.text
    return r.json()


def confirmed_with_si(client: httpx.Client, **overrides: Any) -> tuple[str, int]:
    sid = post(client, "/shipments", order_data(**overrides))["shipment_id"]
    post(client, f"/shipments/{sid}/review")
    post(client, f"/shipments/{sid}/confirmation", confirmation_data(
        carrier_booking_no=f"BK{sid[:8].upper()}"))
    return sid, post(client, f"/shipments/{sid}/shipping-instructions", si_data())["position"]


def test_search_finds_a_shipment_by_filters_and_any_reference(client):
    sid, position = confirmed_with_si(client, po_numbers=["PO-VIEWS-77"], customer_id="CUST-V1")
    page = seen(client, "/shipments", position, customer="CUST-V1")
    [row] = [r for r in page["items"] if r["shipment_id"] == sid]
    assert (row["status"], row["pol"], row["pod"], row["office"]) == (
        "CONFIRMED", "CNSHA", "USLAX", "SHA")
    assert row["containers"] == ["MSKU1234565"] and row["vessel"] == "MAERSK ESSEN"
    assert row["next_sla_due"] is not None  # the booking-confirmation notice is due
    for ref in ("po-views-77", f"BK{sid[:8]}", "MSKU1234565"):
        assert sid in [r["shipment_id"] for r in client.get(
            "/shipments/lookup", params={"ref": ref}).json()], ref
    assert sid in [r["shipment_id"] for r in client.get(
        "/shipments", params={"q": "VIEWS-7"}).json()["items"]]
    assert sid not in [r["shipment_id"] for r in client.get(
        "/shipments", params={"customer": "CUST-V1", "status": "CANCELLED"}).json()["items"]]


def test_search_pages_with_a_cursor(client):
    for _ in range(3):
        position = post(client, "/shipments", order_data(customer_id="CUST-PAGES"))["position"]
    first = seen(client, "/shipments", position, customer="CUST-PAGES", limit=2)
    second = client.get("/shipments", params={"customer": "CUST-PAGES", "limit": 2,
                                              "cursor": first["next_cursor"]}).json()
    ids = [r["shipment_id"] for r in first["items"] + second["items"]]
    assert len(ids) == len(set(ids)) == 3 and second["next_cursor"] is None
    bad = client.get("/shipments", params={"cursor": "not-a-cursor"})
    assert (bad.status_code, bad.json()["type"]) == (400, "urn:shipflow:problem:cursor_invalid")


def test_bl_draft_versions_diff_and_as_of(client):
    sid, _ = confirmed_with_si(client)
    before_amendment = client.get(f"/shipments/{sid}").json()["modified_at"]
    n = post(client, f"/shipments/{sid}/amendments", {
        "changes": [{"field": "consignee.address", "after": "9 Ocean Blvd, Long Beach"}],
        "customer_confirmation_ref": "mail 2026-11-21"})["result"]
    position = post(client, f"/shipments/{sid}/amendments/{n}/approval")["position"]
    draft = seen(client, f"/shipments/{sid}/bl-draft", position)
    assert (draft["version"], draft["status"]) == (4, "DRAFT")
    assert draft["document"]["documentParties"]["consignee"]["partyName"] == "Acme Imports LLC"
    versions = client.get(f"/shipments/{sid}/bl-draft/versions").json()
    assert [v["caused_by"] for v in versions] == [
        "BookingRequested", "CarrierConfirmed", "ShippingInstructionsSubmitted",
        "AmendmentApproved"]
    diff = client.get(f"/shipments/{sid}/bl-draft/diff").json()
    assert (diff["from_version"], diff["to_version"]) == (3, 4)
    assert [c["after"] for c in diff["changes"]] == ["9 Ocean Blvd, Long Beach"]
    past = client.get(f"/shipments/{sid}/bl-draft", params={"as_of": before_amendment}).json()
    assert past["version"] == 3
    assert past["document"] == client.get(f"/shipments/{sid}/bl-draft",
                                          params={"version": 3}).json()["document"]
    stale = client.post(f"/shipments/{sid}/bl/approval", headers=CS,
                        json={"approved_by": "Ms Chen", "draft_version": 3})
    assert stale.status_code == 409
    assert stale.json()["violations"][0]["rule"] == "bl_draft_version_stale"
    approval = post(client, f"/shipments/{sid}/bl/approval",
                    {"approved_by": "Ms Chen", "draft_version": 4})
    assert seen(client, f"/shipments/{sid}/bl-draft", approval["position"])["status"] == (
        "APPROVED")


def test_sla_timers_of_a_shipment_and_the_desk_queue(client):
    sid, position = confirmed_with_si(client)
    timers = {t["key"]: t for t in seen(client, f"/shipments/{sid}/sla", position)}
    assert timers["web_order_review"]["state"] == "met"
    assert timers["booking_confirmation"]["state"] == "open"
    assert timers["si_cutoff"]["state"] == "met"
    notified = post(client, f"/shipments/{sid}/notifications",
                    {"kind": "BOOKING_CONFIRMATION", "channel": "email"})
    timers = {t["key"]: t for t in seen(client, f"/shipments/{sid}/sla", notified["position"])}
    assert timers["booking_confirmation"]["state"] == "met"
    queue = client.get("/sla", params={"state": "open", "office": "sha"}).json()
    assert all(t["state"] == "open" and t["office"] == "SHA" for t in queue)
    assert sid in {t["shipment_id"] for t in queue}  # the VGM and CY cut-offs are open
    bad = client.get("/sla", params={"state": "late"})
    assert bad.status_code == 422


def test_views_report_their_position_and_refuse_a_position_never_written(client):
    position = post(client, "/shipments", order_data())["position"]
    seen(client, "/shipments", position)
    status = {s["name"]: s for s in client.get("/projections").json()}
    assert set(status) == {"shipments", "bl_drafts", "sla", "statements", "tnt_events"}
    assert all(s["position"] >= position for s in status.values())
    r = client.get("/shipments", params={"min_position": position + 10_000, "wait_s": 0.2})
    assert (r.status_code, r.json()["type"]) == (422, "urn:shipflow:problem:position_beyond_log")


def test_past_timers_are_folded_from_history(client):
    sid, _ = confirmed_with_si(client)
    booked_at = client.get(f"/shipments/{sid}", params={"version": 1}).json()["modified_at"]
    past = client.get(f"/shipments/{sid}/sla", params={"as_of": booked_at}).json()
    assert [(t["key"], t["state"]) for t in past] == [("web_order_review", "open")]
