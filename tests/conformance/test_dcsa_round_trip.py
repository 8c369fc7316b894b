"""A TMS that speaks only DCSA, on both databases: books (Booking 2.0), gets the confirmation,
pushes T&T 2.2 events of every kind (empty and laden, a delay with its reason), pulls them
back equal in meaning, amends through a DCSA update, and fetches a valid eBL 3.0 draft at
each version. Every request and answer is checked against the official YAMLs."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from dcsa_bookings import create_booking
from dcsa_events import eid, tnt_event
from dcsa_specs import assert_valid, shared_spec
from factories import NOW, confirmation_data, si_data
from keys import keyed_client
from shipflow.api.app import create_app
from shipflow.integrations.dcsa_schema import BKG, EBL, TNT, SchemaValidator, load_spec

ROOT = Path(__file__).resolve().parents[2]
TMS = {"X-Actor": "acme-tms", "X-Role": "integration"}
CARRIER = {"X-Actor": "maersk-feed", "X-Role": "integration"}
CUSTOMER = {"X-Actor": "acme", "X-Role": "customer", "X-Customer": "CUST-ACME"}
OTHER_CUSTOMER = {"X-Actor": "zeta", "X-Role": "customer", "X-Customer": "CUST-ZETA"}
CS = {"X-Actor": "cs.wang", "X-Role": "cs"}


@pytest.fixture
def client(migrated):
    settings = migrated.model_copy(update={
        "run_workers": False, "documents_config_path": ROOT / "docs/examples/documents.json"})
    with keyed_client(create_app(settings)) as c:
        yield c


def catch_up(client) -> None:
    client.app.state.read_models.runner().catch_up()


def events_page_validator() -> SchemaValidator:
    spec = load_spec(shared_spec(TNT))
    schema = spec["paths"]["/v2/events"]["get"]["responses"]["200"]["content"][
        "application/json"]["schema"]
    return SchemaValidator({"components": {"schemas": {**spec["components"]["schemas"],
                                                       "_page": schema}}}, "_page")


def meaning(e: dict) -> tuple:
    """What a T&T event says, without who published it when (id, created time, offset)."""
    call = e.get("transportCall") or {}
    where = call.get("UNLocationCode") or (e.get("eventLocation") or {}).get("UNLocationCode")
    return (e["eventType"], e["eventClassifierCode"],
            e.get("transportEventTypeCode") or e.get("equipmentEventTypeCode")
            or e.get("shipmentEventTypeCode"), e["eventDateTime"], where,
            e.get("emptyIndicatorCode"), e.get("delayReasonCode"),
            e.get("changeRemark"), e.get("equipmentReference"),
            tuple(sorted((r["referenceType"], r["referenceValue"])
                         for r in e.get("references") or [])))


def test_a_dcsa_tms_books_pushes_pulls_amends_and_fetches_a_valid_ebl(client):
    # 1. Booking 2.0 in
    booked = client.post("/dcsa/bkg/v2/bookings", json=create_booking(), headers=TMS)
    assert booked.status_code == 202, booked.text
    answer = booked.json()
    assert_valid(BKG, "CreateBookingResponse", answer)
    assert answer["bookingStatus"] == "RECEIVED"
    assert answer["unmappedFields"] == ["serviceContractReference"]
    ref, sid = answer["carrierBookingRequestReference"], answer["shipmentID"]
    catch_up(client)  # the workers' job in a server
    shipment = client.get(f"/shipments/{sid}").json()
    assert shipment["order"]["intake"]["content"]["serviceContractReference"] == "SC-ACME-2026"
    got = client.get(f"/dcsa/bkg/v2/bookings/{ref}", headers=TMS)
    assert got.status_code == 200, got.text
    assert_valid(BKG, "Booking", got.json())
    assert got.json()["bookingStatus"] == "RECEIVED"

    # 2. the desk reviews; the carrier confirms
    assert client.post(f"/shipments/{sid}/review", json={}, headers=CS).status_code == 200
    r = client.post(f"/shipments/{sid}/confirmation", headers=CS,
                    json=confirmation_data(vessel_voyage={"vessel": "MAERSK ESSEN",
                                                          "voyage": "248E", "imo": "9456783"}))
    assert r.status_code == 200, r.text
    catch_up(client)
    confirmed = client.get("/dcsa/bkg/v2/bookings/255123456", headers=TMS).json()
    assert_valid(BKG, "Booking", confirmed)
    assert (confirmed["bookingStatus"], confirmed["carrierBookingRequestReference"]) == (
        "CONFIRMED", ref)

    # 3. T&T events in, of every kind: empty and laden equipment, a delay with its reason
    bkg = ("BKG", "255123456")
    sent = [
        tnt_event("rt-pick", "PICK", "ACT", NOW + timedelta(days=10), NOW, bkg, empty="EMPTY",
                  equipmentReference="MSKU1234565"),
        tnt_event("rt-gtin", "GTIN", "ACT", NOW + timedelta(days=12), NOW, bkg,
                  equipmentReference="MSKU1234565",
                  references=[{"referenceType": "PO", "referenceValue": "PO-2026-0042"}]),
        tnt_event("rt-depa-est", "DEPA", "EST", NOW + timedelta(days=16),
                  NOW + timedelta(days=11), bkg, delayReasonCode="WEA",
                  changeRemark="Bad weather"),
        tnt_event("rt-hold", "HOLD", "ACT", NOW + timedelta(days=13), NOW, bkg),
    ]
    pushed = client.post("/integrations/dcsa/tnt/events", json=sent, headers=CARRIER).json()
    assert pushed["counts"] == {"accepted": 4}, pushed
    history = [e for e in client.get(f"/shipments/{sid}/events").json()
               if e["type"] == "MilestoneRecorded"]
    assert {e["source"] for e in history} == {"carrier_feed"}  # no X-Source sent
    gtin = next(e for e in history if e["external_id"] == eid("rt-gtin"))
    assert gtin["occurred_at"].startswith((NOW + timedelta(days=12)).isoformat()[:19])
    malformed = client.post("/integrations/dcsa/tnt/events", headers=CARRIER, json=[
        {**sent[0], "eventID": eid("rt-bad"), "emptyIndicatorCode": "HALF"}]).json()
    assert malformed["results"][0]["reason"].startswith(
        "dcsa_schema: emptyIndicatorCode: 'HALF' is not one of")

    # 4. T&T out: in the spec's shape, equal in meaning to what went in
    catch_up(client)
    page = events_page_validator()
    out = client.get("/dcsa/tnt/v2/events", params={"carrierBookingReference": "255123456",
                                                    "limit": 100}, headers=TMS)
    assert out.status_code == 200 and not page.problems(out.json()), page.problems(out.json())
    by_id = {e["eventID"]: e for e in out.json()}
    for e in sent:
        assert meaning(by_id[e["eventID"]]) == meaning(e) or _same_instant(
            by_id[e["eventID"]], e), (by_id[e["eventID"]], e)
    kinds = {(e["eventType"], e.get("shipmentEventTypeCode") or e.get(
        "transportEventTypeCode") or e.get("equipmentEventTypeCode")) for e in out.json()}
    assert {("SHIPMENT", "RECE"), ("SHIPMENT", "CONF"), ("TRANSPORT", "DEPA"),
            ("TRANSPORT", "ARRI")} <= kinds  # the desk's own history too
    mine = client.get("/dcsa/tnt/v2/events", params={"eventType": "EQUIPMENT"},
                      headers=CUSTOMER)
    assert [e["eventID"] for e in mine.json()] == [eid("rt-pick"), eid("rt-gtin")]
    assert client.get("/dcsa/tnt/v2/events", headers=OTHER_CUSTOMER).json() == []
    paged = client.get("/dcsa/tnt/v2/events", params={"limit": 2}, headers=TMS)
    nxt = client.get(paged.headers["Next-Page"], headers=TMS)
    assert not page.problems(nxt.json()) and nxt.json()[0]["eventID"] not in {
        e["eventID"] for e in paged.json()}

    # 5. shipping instructions, then a DCSA update as an amendment, approved by the CS
    r = client.post(f"/shipments/{sid}/shipping-instructions", json=si_data(), headers=CS)
    assert r.status_code == 200, r.text
    catch_up(client)
    update = create_booking(incoTerms="FCA")
    update["documentParties"]["consignee"]["partyName"] = "Acme Imports West LLC"
    put = client.put("/dcsa/bkg/v2/bookings/255123456", json=update, headers=TMS)
    assert put.status_code == 202, put.text
    assert set(put.json()["changedFields"]) == {"consignee", "incoterm", "intake.content"}
    assert put.json()["customerConfirmationReference"].startswith("DCSA UpdateBooking ")
    pending = client.get("/dcsa/bkg/v2/bookings/255123456", headers=TMS).json()
    assert pending["amendedBookingStatus"] == "AMENDMENT_RECEIVED"
    assert_valid(BKG, "Booking", pending)
    catch_up(client)
    r = client.post(f"/shipments/{sid}/amendments/1/approval", headers=CS)
    assert r.status_code == 200, r.text
    catch_up(client)
    amended = client.get("/dcsa/bkg/v2/bookings/255123456", headers=TMS).json()
    assert (amended["amendedBookingStatus"], amended["incoTerms"]) == ("AMENDMENT_CONFIRMED",
                                                                       "FCA")

    # 6. the eBL draft, valid at every version from the shipping instructions on
    versions = client.get(f"/shipments/{sid}/bl-draft/versions").json()
    assert len(versions) >= 3
    for v in versions:
        r = client.get(f"/shipments/{sid}/bl-draft", params={"version": v["version"],
                                                            "format": "dcsa"}, headers=CUSTOMER)
        if v["caused_by"] in ("BookingRequested", "CarrierConfirmed"):
            assert (r.status_code, r.json()["type"]) == (
                409, "urn:shipflow:problem:dcsa_needs_shipping_instructions")
            continue
        assert r.status_code == 200, r.text
        assert_valid(EBL, "TransportDocument", r.json(), f"version {v['version']}")
    current = client.get(f"/shipments/{sid}/bl-draft", params={"format": "dcsa"}).json()
    assert current["documentParties"]["consignee"]["partyName"] == "Acme Imports West LLC"
    assert current["receiptTypeAtOrigin"] == "CY" and current["transportDocumentStatus"] == (
        "DRAFT")


def _same_instant(out: dict, sent: dict) -> bool:
    """T&T out writes times in the port's local offset: the same instant, said there."""
    from datetime import datetime

    same = datetime.fromisoformat(out["eventDateTime"]) == datetime.fromisoformat(
        sent["eventDateTime"])
    return same and meaning({**out, "eventDateTime": ""}) == meaning(
        {**sent, "eventDateTime": ""})


def test_an_incomplete_or_malformed_dcsa_booking_is_refused_naming_the_fields(client):
    no_pol = create_booking(shipmentLocations=[
        {"location": {"UNLocationCode": "USLAX"}, "locationTypeCode": "POD"}])
    r = client.post("/dcsa/bkg/v2/bookings", json=no_pol, headers=TMS)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert [v["field"] for v in r.json()["violations"]] == ["shipmentLocations (POL)"]
    bad = client.post("/dcsa/bkg/v2/bookings", json=create_booking(receiptTypeAtOrigin="XX"),
                      headers=TMS)
    assert bad.status_code == 400
    assert bad.json()["violations"][0]["field"] == "receiptTypeAtOrigin"
    unknown = create_booking()
    unknown["documentParties"]["bookingAgent"]["identifyingCodes"][0]["partyCode"] = "NOBODY"
    r = client.post("/dcsa/bkg/v2/bookings", json=unknown, headers=TMS)
    assert (r.status_code, r.json()["type"]) == (
        422, "urn:shipflow:problem:dcsa_customer_not_configured")
    no_chinese = create_booking()
    no_chinese["requestedEquipments"][0]["commodities"][0]["commodityType"] = "Furniture"
    r = client.post("/dcsa/bkg/v2/bookings", json=no_chinese, headers=TMS)
    assert r.status_code == 422
    assert r.json()["violations"][0]["field"].startswith("requestedEquipments.commodities")
    assert client.get("/shipments", headers=CS).json()["items"] == []  # nothing half-written
