"""What an operator sees, on SQLite and PostgreSQL: ``/metrics`` exposes the series and they
move when the system does; a request id comes back, is logged, and becomes the correlation id
of what the request recorded; the access log never holds a key or a query string."""

from __future__ import annotations

import json
import logging
import re

import pytest

from factories import order_data
from keys import keyed_client
from shipflow import logs
from shipflow.api.app import create_app

CS = {"X-Actor": "cs.wang", "X-Role": "cs"}


@pytest.fixture
def client(migrated):
    from pydantic import SecretStr

    from shipflow.webhooks.secretbox import new_key

    settings = migrated.model_copy(update={"run_workers": False,
                                           "webhook_allowed_networks": ["127.0.0.0/8"],
                                           "secret_keys": [SecretStr(new_key())]})
    with keyed_client(create_app(settings)) as c:
        yield c


def scrape(client) -> dict[str, float]:
    r = client.get("/metrics", headers={"X-Actor": "prometheus", "X-Role": "monitoring"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    series = {}
    for line in r.text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            series[name] = float(value)
    return series


def value(series: dict[str, float], name: str, **labels: str) -> float:
    wanted = [f'{k}="{v}"' for k, v in labels.items()]
    return sum(v for k, v in series.items()
               if k.split("{")[0] == name and all(w in k for w in wanted))


def test_metrics_need_an_admin_or_monitoring_key(client):
    assert client.get("/metrics", headers=CS).status_code == 403
    assert client.get("/metrics", headers={"X-Actor": "it", "X-Role": "admin"}
                      ).status_code == 200


def test_the_series_move_when_the_system_does(client):
    before = scrape(client)
    sid = client.post("/shipments", json=order_data(), headers=CS).json()["shipment_id"]
    refused = client.post(f"/shipments/{sid}/confirmation", json={}, headers=CS)
    assert refused.status_code == 422
    client.post(f"/shipments/{sid}/review", json={}, headers=CS)
    after = scrape(client)
    assert value(after, "shipflow_commands_total", command="BookingRequested", outcome="ok") \
        == value(before, "shipflow_commands_total", command="BookingRequested",
                 outcome="ok") + 1
    assert value(after, "shipflow_commands_total", command="BookingReviewed", outcome="ok") \
        == value(before, "shipflow_commands_total", command="BookingReviewed", outcome="ok") + 1
    assert value(after, "shipflow_http_requests_total", route="/shipments/{shipment_id}/review",
                 status="200") >= 1
    # The views have not run (no workers here): they lag by what was just recorded.
    assert value(after, "shipflow_projection_lag_events", view="shipments") >= 2
    assert value(after, "shipflow_projection_lag_seconds", view="shipments") >= 0
    client.app.state.read_models.runner().catch_up()
    caught_up = scrape(client)
    assert value(caught_up, "shipflow_projection_lag_events", view="shipments") == 0


def test_a_stopped_receiver_raises_the_webhook_backlog(client):
    from shipflow.webhooks.dispatcher import Dispatcher

    admin = {"X-Actor": "it", "X-Role": "admin"}
    sub = client.post("/webhooks/subscriptions", headers=admin, json={
        "url": "http://127.0.0.1:9/hook", "event_types": ["shipment.*"]}).json()["id"]
    client.post("/shipments", json=order_data(), headers=CS)
    state = client.app.state
    Dispatcher(state.service.store, state.read_models.engine).run_batch()
    assert value(scrape(client), "shipflow_webhook_backlog", subscription=sub) >= 1


def test_a_request_id_comes_back_is_logged_and_becomes_the_correlation_id(client, caplog):
    with caplog.at_level(logging.INFO, logger="shipflow.access"):
        r = client.post("/shipments?note=secret-ref-123", json=order_data(),
                        headers={**CS, "X-Request-ID": "tms-req-42"})
    assert r.status_code == 201 and r.headers["x-request-id"] == "tms-req-42"
    [event] = client.get(f"/shipments/{r.json()['shipment_id']}/events").json()
    assert event["correlation_id"] == "tms-req-42"
    [line] = [rec for rec in caplog.records if getattr(rec, "request_id", "") == "tms-req-42"]
    assert (line.route, line.status, line.method) == ("/shipments", 201, "POST")
    assert re.fullmatch(r"[0-9a-f]{12}", line.key_id)  # the key's id, never the key
    text = logs.formatter("json").format(line)  # as serve and worker write it
    assert json.loads(text)["request_id"] == "tms-req-42"
    assert "secret-ref-123" not in text and "sfk_" not in text
    generated = client.get("/shipments", headers={**CS, "X-Request-ID": "bad id\n!"})
    assert re.fullmatch(r"[0-9a-f]{32}", generated.headers["x-request-id"])
