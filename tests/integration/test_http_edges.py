"""HTTP edges found by fuzzing the OpenAPI document: numbers are not times, a 405 says which
methods are allowed."""

from __future__ import annotations

import pytest

from keys import keyed_client
from shipflow.api.app import create_app

CS = {"X-Actor": "cs.wang", "X-Role": "cs"}


@pytest.fixture
def client(migrated):
    with keyed_client(create_app(migrated.model_copy(update={"run_workers": False}))) as c:
        yield c


@pytest.mark.parametrize(("path", "params", "headers"), [
    ("/sla", {"due_before": "0.5"}, {}),
    ("/shipments", {"eta_from": "1700000000"}, {}),
    ("/reports/kpi", {"from": "12"}, {}),
])
def test_a_bare_number_is_not_a_time(client, path, params, headers):
    r = client.get(path, params=params, headers=headers)
    assert r.status_code == 422
    assert r.json()["violations"][0]["rule"] == "iso8601_required"


def test_a_number_in_x_occurred_at_is_refused(client):
    r = client.post("/shipments", json={}, headers={**CS, "X-Occurred-At": "0.5"})
    assert (r.status_code, r.json()["violations"][0]["rule"]) == (422, "iso8601_required")


def test_a_405_lists_the_allowed_methods(client):
    r = client.request("TRACE", "/shipments")
    assert r.status_code == 405
    assert set(r.headers["allow"].replace(" ", "").split(",")) == {"GET", "POST"}
    assert r.headers["content-type"].startswith("application/problem+json")


def test_an_account_is_not_a_shipment(client):
    from ar_factories import fin, terms
    from shipflow.events.account.aggregate import account_id
    from shipflow.services.accounts import AccountService

    AccountService(client.app.state.service.store).open_account("CUST-ACME", terms(), fin())
    aid = account_id("CUST-ACME")
    for path in (f"/shipments/{aid}", f"/shipments/{aid}/events",
                 f"/shipments/{aid}?as_of=2030-01-01T00:00:00Z"):
        r = client.get(path)
        assert (r.status_code, r.json()["type"]) == (404, "urn:shipflow:problem:shipment_not_found")
