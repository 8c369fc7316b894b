"""A stopped view, seen and handled from outside: ``/health`` says ``degraded`` (200, naming
the view), ``GET /projections`` shows the failure, a read of that view at a later position
answers 503 ``view_failed`` at once while the other views answer; admins retry or skip over
HTTP, and the command line shows, skips, retries and rebuilds the same. Both databases."""

from __future__ import annotations

import os
from uuid import UUID

import pytest
from typer.testing import CliRunner

from factories import confirmation_data, meta, order_data, shipping_instructions
from keys import keyed_client
from poisoned import PoisonedDrafts, book, with_view
from shipflow.api.app import create_app
from shipflow.cli import app as cli
from shipflow.services.shipments import ShipmentService

ADMIN = {"X-Actor": "ops.li", "X-Role": "admin"}


@pytest.fixture
def client(migrated):
    with keyed_client(create_app(migrated.model_copy(update={"run_workers": False}))) as c:
        yield c


def post(client, path: str, body=None, **kw) -> dict:
    r = client.post(path, json=body if body is not None else {}, **kw)
    assert r.status_code in (200, 201), r.text
    return r.json()


def test_health_projections_and_reads_show_a_stopped_view_and_admins_get_it_going(client):
    sid = post(client, "/shipments", order_data())["shipment_id"]
    post(client, f"/shipments/{sid}/review")
    confirmed = post(client, f"/shipments/{sid}/confirmation", confirmation_data())["position"]
    rm = client.app.state.read_models
    poisoned = rm.projections["bl_drafts"] = PoisonedDrafts(
        UUID(sid), version=3)
    rm.runner().catch_up()

    health = client.get("/health")
    assert health.status_code == 200  # one stuck view does not take the API out of rotation
    assert health.json() == {"status": "degraded", "stores": {
        "event_store": "up", "read_models": "up"}, "views": {
        "shipments": "running", "bl_drafts": "failed", "sla": "running",
        "statements": "running", "tnt_events": "running"}}
    views = {v["name"]: v for v in client.get("/projections").json()}
    assert views["sla"]["state"] == "running" and views["sla"]["failure"] is None
    bl = views["bl_drafts"]
    assert (bl["state"], bl["position"], bl["lag"]) == ("failed", confirmed - 1, 1)
    assert {k: bl["failure"][k] for k in ("position", "stopped_at", "event_type",
                                          "aggregate_id", "stage", "attempts")} == {
        "position": confirmed, "stopped_at": confirmed - 1, "event_type": "CarrierConfirmed",
        "aggregate_id": sid, "stage": "evolve", "attempts": 1}

    stuck = client.get(f"/shipments/{sid}/bl-draft", params={"min_position": confirmed})
    assert stuck.status_code == 503, stuck.text
    assert stuck.headers["content-type"].startswith("application/problem+json")
    assert stuck.json()["type"] == "urn:shipflow:problem:view_failed"
    assert f"position {confirmed}" in stuck.json()["detail"]
    assert "bl_drafts" in stuck.json()["title"]
    assert int(stuck.headers["retry-after"]) >= 30
    assert client.get(f"/shipments/{sid}/bl-draft",  # what it has, it answers
                      params={"min_position": confirmed - 1}).status_code == 200
    assert client.get("/shipments", params={"min_position": confirmed}).status_code == 200

    assert client.post("/projections/bl_drafts/retry").status_code == 403  # cs
    again = post(client, "/projections/bl_drafts/retry", headers=ADMIN)
    assert (again["state"], again["failure"]["attempts"]) == ("failed", 2)
    wrong = client.post("/projections/bl_drafts/skip", headers=ADMIN,
                        json={"position": confirmed + 1, "reason": "wrong one"})
    assert (wrong.status_code, wrong.json()["type"]) == (
        409, "urn:shipflow:problem:skip_not_the_failing_event")
    assert client.post("/projections/bl_drafts/skip", headers=ADMIN, json={
        "position": confirmed, "reason": ""}).status_code == 422

    poisoned.broken = False
    fixed = post(client, "/projections/bl_drafts/retry", headers=ADMIN)
    assert (fixed["state"], fixed["position"], fixed["failure"]) == ("running", confirmed, None)
    assert client.get("/health").json()["status"] == "ok"
    assert client.get(f"/shipments/{sid}/bl-draft",
                      params={"min_position": confirmed}).status_code == 200
    refused = client.post("/projections/bl_drafts/retry", headers=ADMIN)
    assert (refused.status_code, refused.json()["type"]) == (
        409, "urn:shipflow:problem:view_not_failed")
    unknown = client.post("/projections/nope/retry", headers=ADMIN)
    assert (unknown.status_code, unknown.json()["type"]) == (
        404, "urn:shipflow:problem:view_not_found")


def test_an_admin_skips_the_event_over_http_and_it_is_kept_with_who_and_why(client):
    sid = post(client, "/shipments", order_data())["shipment_id"]
    reviewed = post(client, f"/shipments/{sid}/review")["position"]
    rm = client.app.state.read_models
    rm.projections["bl_drafts"] = PoisonedDrafts(UUID(sid), 2)
    rm.runner().catch_up()
    assert client.post("/projections/bl_drafts/skip", json={
        "position": reviewed, "reason": "x"}).status_code == 403  # cs
    done = post(client, "/projections/bl_drafts/skip", {
        "position": reviewed, "reason": "review event unreadable in this view"}, headers=ADMIN)
    assert (done["state"], done["position"]) == ("running", reviewed)
    [skip] = done["skipped"]
    assert {k: skip[k] for k in ("position", "event_type", "aggregate_id", "reason",
                                 "skipped_by")} == {
        "position": reviewed, "event_type": "BookingReviewed", "aggregate_id": sid,
        "reason": "review event unreadable in this view", "skipped_by": "ops.li"}
    assert [v["skipped"] for v in client.get("/projections").json()
            if v["name"] == "bl_drafts"] == [[skip]]


@pytest.fixture
def shipflow(migrated, tmp_path, monkeypatch):
    """Run ``shipflow …`` against the test's database (no .env, no other SHIPFLOW_*)."""
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("SHIPFLOW_")]:
        monkeypatch.delenv(name)
    env = {"SHIPFLOW_DATABASE_URL": migrated.database_url,
           "SHIPFLOW_DATABASE_SCHEMA": migrated.database_schema}
    return lambda *args: CliRunner().invoke(cli, list(args), env=env)


def test_the_command_line_shows_skips_retries_and_rebuilds_a_stopped_view(migrated, shipflow):
    svc = ShipmentService.from_settings(migrated)
    try:
        ids = book(svc, 2)  # positions 1-6; the first shipment's confirmation at 3
        rm = with_view(migrated, svc.store, PoisonedDrafts(ids[0], version=3))
        rm.runner().catch_up()

        status = shipflow("projections", "status")
        assert status.exit_code == 0, status.output
        assert "failed" in status.output
        assert (f"bl_drafts stopped at position 2: the event at position 3 (CarrierConfirmed "
                f"of {ids[0]} v3) failed in evolve: builtins.ValueError") in status.output
        assert "shipflow projections skip bl_drafts --position 3" in status.output

        wrong = shipflow("projections", "skip", "bl_drafts", "--position", "4", "--reason", "x")
        assert wrong.exit_code == 1 and "only that event can be skipped" in wrong.stderr
        skipped = shipflow("projections", "skip", "bl_drafts", "--position", "3", "--reason",
                           "carrier re-sends it", "--by", "ops.li")
        assert skipped.exit_code == 0, skipped.output
        assert "skipped the event at position 3; now running at position 3" in skipped.output
        rm.runner().catch_up()
        status = shipflow("projections", "status")
        assert "skipped for bl_drafts" in status.output
        assert "skipped by ops.li" in status.output and "carrier re-sends it" in status.output

        rebuilt = shipflow("projections", "rebuild", "bl_drafts")
        assert rebuilt.exit_code == 0, rebuilt.output
        assert "bl_drafts: left out 1 event(s) skipped for it, as recorded:" in rebuilt.output
        assert "position 3: CarrierConfirmed" in rebuilt.output

        # a view stopped by code since fixed: the command line's views are the fixed ones
        rm = with_view(migrated, svc.store, PoisonedDrafts(ids[1], version=4))
        svc.submit_shipping_instructions(ids[1], shipping_instructions(), meta())  # position 7
        rm.runner().catch_up()
        assert rm.view_status("bl_drafts").failure.position == 7
        retried = shipflow("projections", "retry", "bl_drafts", "--by", "ops.li")
        assert retried.exit_code == 0, retried.output
        assert "bl_drafts is running again: at position 7 of 7" in retried.output
        not_stopped = shipflow("projections", "retry", "bl_drafts")
        assert not_stopped.exit_code == 1 and "nothing to retry" in not_stopped.stderr
    finally:
        svc.close()
