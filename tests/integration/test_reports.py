"""Reports through the API on both databases: the customer status report opened with
openpyxl and checked cell by cell; KPIs with known numerators and denominators."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from factories import NOW, confirmation_data, meta, order_data, si_data
from keys import keyed_client
from shipflow.api.app import create_app

CS = {"X-Actor": "cs.wang", "X-Role": "cs"}
RANGE = {"from": "2026-11-01T00:00:00Z", "to": "2027-02-01T00:00:00Z"}
DRAYAGE = {"method": "DRAYAGE", "pickup_address": "88 Century Ave", "contact": "Mr Li",
           "pickup_at": "2026-11-20T09:00:00+08:00"}


@pytest.fixture
def client(migrated):
    with keyed_client(create_app(migrated.model_copy(update={"run_workers": False}))) as c:
        yield c


def post(client, path, body=None):
    r = client.post(path, json=body if body is not None else {}, headers=CS)
    assert r.status_code in (200, 201), r.text
    return r.json()


def confirmed(client, booking_no, **overrides):
    sid = post(client, "/shipments", order_data(**overrides))["shipment_id"]
    post(client, f"/shipments/{sid}/review")
    post(client, f"/shipments/{sid}/confirmation",
         confirmation_data(carrier_booking_no=booking_no))
    return sid


def milestone(client, sid, code, at, location, kind="TRANSPORT", classifier="ACT"):
    post(client, f"/shipments/{sid}/milestones", {
        "kind": kind, "code": code, "classifier": classifier, "event_time": at.isoformat(),
        "location": location})


def xlsx(client, path, **params):
    r = client.get(path, params=params)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    return load_workbook(io.BytesIO(r.content))


def test_status_report_has_a_row_per_active_shipment(client):
    sailing = confirmed(client, "BKS1", customer_id="CUST-RPT", po_numbers=["PO-9"],
                        customer_references=["REF-A"])
    post(client, f"/shipments/{sailing}/shipping-instructions", si_data())
    sailed = NOW + timedelta(days=15, hours=2)
    milestone(client, sailing, "DEPA", sailed, "CNSHA")
    milestone(client, sailing, "ARRI", NOW + timedelta(days=32), "USLAX", classifier="EST")
    post(client, f"/shipments/{sailing}/exceptions",
         {"kind": "CUSTOMS_INSPECTION", "description": "X-ray"})
    received = post(client, "/shipments", order_data(customer_id="CUST-RPT"))["shipment_id"]
    cancelled = confirmed(client, "BKS3", customer_id="CUST-RPT")
    post(client, f"/shipments/{cancelled}/cancellation", {"reason": "customer"})
    post(client, "/shipments", order_data(customer_id="CUST-OTHER"))
    client.app.state.read_models.runner().catch_up()

    ws = xlsx(client, "/reports/status.xlsx", customer="CUST-RPT")["Shipments"]
    header = [c.value for c in ws[2]]
    assert header[:6] == ["Status", "PO", "Customer ref", "Booking", "B/L", "Containers"]
    assert ws.freeze_panes == "B3" and ws.auto_filter.ref.startswith("A2:")
    rows = [dict(zip(header, (c.value for c in row), strict=True))
            for row in ws.iter_rows(min_row=3)]
    assert len(rows) == 2  # the cancelled one and the other customer's are not listed
    first = rows[0]
    assert (first["Status"], first["PO"], first["Customer ref"], first["Booking"]) == (
        "CONFIRMED", "PO-9", "REF-A", "BKS1")
    assert (first["Containers"], first["POL"], first["POD"]) == ("MSKU1234565", "CNSHA", "USLAX")
    assert first["Vessel"] == "MAERSK ESSEN"
    assert first["ETD actual"] == (sailed + timedelta(hours=8)).replace(tzinfo=None)  # Shanghai
    la = (NOW + timedelta(days=32)).astimezone(ZoneInfo("America/Los_Angeles")).replace(
        tzinfo=None)
    assert first["ETA estimated"] == la and first["ETA actual"] is None
    assert first["Last milestone"] == "ARRI EST USLAX"
    assert first["Open exceptions"] == "CUSTOMS_INSPECTION"
    assert first["Next action"] and isinstance(first["Next action due"], datetime)
    assert rows[1]["Status"] == "RECEIVED" and rows[1]["Booking"] is None
    assert received


def test_kpis_count_what_happened_in_the_range(client):
    on_time = confirmed(client, "BKK1", stuffing=DRAYAGE)
    late = confirmed(client, "BKK2", stuffing=DRAYAGE)
    # the ticker finds the late one's pickup overdue before the truck arrives
    client.app.state.service.record_sla_breach(
        UUID(late), "pickup", "pickup", NOW, NOW + timedelta(days=1),
        meta("sla-ticker", "system", occurred_at=NOW + timedelta(days=2)))
    milestone(client, on_time, "PICK", NOW + timedelta(hours=2), "CNSHA", kind="EQUIPMENT")
    milestone(client, late, "PICK", NOW + timedelta(days=6), "CNSHA", kind="EQUIPMENT")
    eta = NOW + timedelta(days=30)  # the factory confirmation's planned ETA
    milestone(client, on_time, "ARRI", eta + timedelta(hours=5), "USLAX")
    milestone(client, late, "ARRI", eta + timedelta(days=3), "USLAX")
    n = post(client, f"/shipments/{late}/exceptions",
             {"kind": "HELD_BACK", "description": "docs missing"})["result"]
    post(client, f"/shipments/{late}/exceptions/{n}/resolution", {"resolution": "sent"})
    client.app.state.read_models.runner().catch_up()

    k = client.get("/reports/kpi", params=RANGE).json()
    assert k["on_time_pickup"] == {"percent": 50.0, "achieved": 1, "total": 2}
    assert k["delivery_tat"] == {"percent": 50.0, "achieved": 1, "total": 2}
    assert k["exceptions_within_timeline"] == {"percent": 100.0, "achieved": 1, "total": 1}
    assert k["breaches_by_kind"] == {"pickup": 1}
    assert k["breaches_by_cs_owner"] == {"cs.wang": 1}

    wb = xlsx(client, "/reports/kpi.xlsx", **RANGE)
    rows = [[c.value for c in r] for r in wb["KPIs"].iter_rows(min_row=3)]
    assert rows == [["On-time pickup", 50.0, 1, 2], ["Delivery TAT achieved", 50.0, 1, 2],
                    ["Exceptions closed within timeline", 100.0, 1, 1]]
    breaches = [[c.value for c in r] for r in wb["SLA breaches"].iter_rows()]
    assert breaches[:2] == [["By timer kind", "breaches"], ["pickup", 1]]
    assert ["cs.wang", 1] in breaches


def test_an_empty_range_is_refused(client):
    r = client.get("/reports/kpi", params={"from": RANGE["to"], "to": RANGE["from"]})
    assert (r.status_code, r.json()["type"]) == (422, "urn:shipflow:problem:range_empty")


def test_a_customer_id_in_any_script_gives_a_safe_file_name(client):
    r = client.get("/reports/status.xlsx", params={"customer": "客户^7uñ"})
    assert r.status_code == 200
    assert r.headers["content-disposition"].startswith('attachment; filename="status-_')
