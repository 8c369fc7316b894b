"""Read-your-writes through the API, in-process with the runner stopped and started by the
test: a read that asks for a position the view has not reached waits, then says so."""

from __future__ import annotations

from factories import order_data
from keys import keyed_client
from shipflow.api.app import create_app

CS = {"X-Actor": "cs.wang", "X-Role": "cs"}


def test_a_view_behind_the_position_asked_for_is_503_then_200(migrated):
    settings = migrated.model_copy(update={"run_workers": False})
    with keyed_client(create_app(settings)) as client:
        position = client.post("/shipments", json=order_data(), headers=CS).json()["position"]
        behind = client.get("/shipments", params={"min_position": position, "wait_s": 0.1})
        assert behind.status_code == 503
        assert behind.headers["Retry-After"] == "1"
        assert behind.json()["type"] == "urn:shipflow:problem:view_behind"
        client.app.state.read_models.runner().catch_up()
        caught_up = client.get("/shipments", params={"min_position": position})
        assert caught_up.status_code == 200
        assert len(caught_up.json()["items"]) == 1
