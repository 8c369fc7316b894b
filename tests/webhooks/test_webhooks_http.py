"""The webhook API and workers end to end: a real ``shipflow serve`` subprocess (its own
dispatcher and sender threads, real time) delivering to a real receiver on loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from psycopg import sql
from sqlalchemy import select

from factories import order_data
from keys import DEFAULT_IDENTITY, server_keys, use_keys
from pg import PG_URL, require_postgres
from shipflow.audit.signing import new_key as new_signing_key
from shipflow.config import Settings
from shipflow.database import make_engine
from shipflow.webhooks.secretbox import SecretBox, new_key
from shipflow.webhooks.tables import webhook_secrets
from webhook_receiver import Receiver, free_port

pytestmark = pytest.mark.e2e
ADMIN = {"X-Actor": "it.admin", "X-Role": "admin"}
CS = {"X-Actor": "cs.wang", "X-Role": "cs"}


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


@pytest.fixture(scope="module",
                params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def api(request, tmp_path_factory) -> Iterator[httpx.Client]:
    workdir = tmp_path_factory.mktemp(f"wh-{request.param}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPFLOW_")}
    env.update(SHIPFLOW_WEBHOOK_ALLOWED_NETWORKS='["127.0.0.0/8"]',
               SHIPFLOW_WEBHOOK_RETRY_SCHEDULE_S="[0, 0.5, 1]", SHIPFLOW_WEBHOOK_RETRY_JITTER="0",
               SHIPFLOW_SLA_TICK_SECONDS="0")
    schema = None
    if request.param == "postgres":
        require_postgres()
        schema = f"wh_{uuid.uuid4().hex[:12]}"
        env.update(SHIPFLOW_DATABASE_URL=PG_URL, SHIPFLOW_DATABASE_SCHEMA=schema,
                   SHIPFLOW_SECRET_KEYS=json.dumps([new_key()]),  # required on PostgreSQL
                   SHIPFLOW_AUDIT_SIGNING_KEY=new_signing_key())
    else:
        env["SHIPFLOW_DATABASE_URL"] = f"sqlite:///{workdir}/shipflow.db"
    port = free_port()
    log = (workdir / "server.log").open("wb")
    cmd = [str(Path(sys.executable).with_name("shipflow")), "serve", "--port", str(port)]
    proc = subprocess.Popen(cmd, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180  # generous: never paces the test
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/health", timeout=30).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        keys = server_keys(env)
        with httpx.Client(base_url=base, timeout=15, headers=DEFAULT_IDENTITY) as client:
            use_keys(client, keys)
            client.settings = Settings(  # type: ignore[attr-defined] - the server's database
                database_url=env["SHIPFLOW_DATABASE_URL"], database_schema=schema or "public",
                secret_keys=json.loads(env.get("SHIPFLOW_SECRET_KEYS", "[]")), _env_file=None)
            yield client
        keys.engine.dispose()
    finally:
        proc.terminate()
        proc.wait(15)
        log.close()
        if schema:
            with psycopg.connect(PG_URL, autocommit=True) as conn:
                conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                    sql.Identifier(schema)))


def _wait(check, timeout_s: float = 10.0):  # noqa: ANN001, ANN202
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_subscribe_deliver_retry_inspect_replay(api, receiver):
    path = f"/e2e-{uuid.uuid4().hex[:6]}"
    assert api.post("/webhooks/subscriptions", headers=CS, json={
        "url": receiver.url(path), "event_types": ["*"]}).status_code == 403
    refused = api.post("/webhooks/subscriptions", headers=ADMIN, json={
        "url": "http://10.0.0.7/hook", "event_types": ["shipment.*"]})
    assert refused.status_code == 422 and "webhook_url_not_public" in refused.text
    unknown = api.post("/webhooks/subscriptions", headers=ADMIN, json={
        "url": receiver.url(path), "event_types": ["shipment.teleported"]})
    assert unknown.status_code == 422 and "event_type_unknown" in unknown.text

    r = api.post("/webhooks/subscriptions", headers=ADMIN, json={
        "url": receiver.url(path), "description": "TMS", "customer_id": "CUST-ACME",
        "event_types": ["shipment.booking_requested", "shipment.booking_reviewed"]})
    assert r.status_code == 201, r.text
    sub = r.json()
    assert sub["secret"].startswith("whsec_") and sub["enabled"]
    receiver.secrets[path] = [sub["secret"]]
    assert "secret" not in api.get(f"/webhooks/subscriptions/{sub['id']}",
                                   headers=ADMIN).json()
    listed = api.get("/webhooks/subscriptions", headers=ADMIN,
                     params={"min_position": sub["position"]}).json()
    assert sub["id"] in [s["id"] for s in listed]

    receiver.script(path, 500)  # the first POST fails, the retry 0.5 s later succeeds
    booked = api.post("/shipments", json=order_data(), headers=CS)
    assert booked.status_code == 201, booked.text
    sid = booked.json()["shipment_id"]
    got = _wait(lambda: receiver.on(path) if len(receiver.on(path)) >= 2 else None)
    assert got[0].webhook_id == got[1].webhook_id
    assert got[1].json["type"] == "shipment.booking_requested"
    assert got[1].json["shipment_id"] == sid and receiver.unverified == []

    deliveries = api.get(f"/webhooks/subscriptions/{sub['id']}/deliveries",
                         headers=ADMIN).json()
    [d] = deliveries

    def succeeded() -> dict | None:
        x = api.get(f"/webhooks/deliveries/{d['id']}", headers=ADMIN).json()
        return x if x["status"] == "succeeded" else None

    detail = _wait(succeeded)
    assert [a["status_code"] for a in detail["attempt_log"]] == [500, 200]
    assert detail["attempt_log"][1]["response_excerpt"] == "ok"
    assert detail["payload"]["id"] == detail["message_id"] == got[0].webhook_id

    assert api.post(f"/webhooks/deliveries/{d['id']}/retry", headers=ADMIN).status_code == 200
    _wait(lambda: len(receiver.on(path)) >= 3)
    replay = api.post(f"/webhooks/subscriptions/{sub['id']}/replay", headers=ADMIN,
                      params={"from": "1"}).json()
    assert replay["deliveries"] == 1
    _wait(lambda: len(receiver.on(path)) >= 4)
    assert {r.webhook_id for r in receiver.on(path)} == {got[0].webhook_id}
    bad = api.post(f"/webhooks/subscriptions/{sub['id']}/replay", headers=ADMIN,
                   params={"from": "yesterday"})
    assert bad.status_code == 422

    rotated = api.post(f"/webhooks/subscriptions/{sub['id']}/secret/rotate", headers=ADMIN,
                       params={"grace_s": 600}).json()
    receiver.secrets[path] = [sub["secret"], rotated["secret"]]
    api.post(f"/shipments/{sid}/review", json={}, headers=CS)
    review = _wait(lambda: [r for r in receiver.on(path)
                            if r.json["type"] == "shipment.booking_reviewed"])
    assert len(review[0].headers["webhook-signature"].split()) == 2
    assert receiver.unverified == []
    secrets = api.get(f"/webhooks/subscriptions/{sub['id']}", headers=ADMIN).json()["secrets"]
    assert [s["expires_at"] is None for s in secrets] == [False, True]

    patched = api.patch(f"/webhooks/subscriptions/{sub['id']}", headers=ADMIN,
                        json={"enabled": False, "description": "paused"}).json()
    assert (patched["enabled"], patched["description"]) == (False, "paused")
    assert api.delete(f"/webhooks/subscriptions/{sub['id']}", headers=ADMIN).status_code == 204
    assert api.get(f"/webhooks/subscriptions/{sub['id']}", headers=ADMIN).status_code == 404


def test_event_type_catalogue_has_an_example_for_each_type(api):
    types = api.get("/webhooks/event-types").json()
    names = {t["type"] for t in types}
    assert {"shipment.booking_confirmed", "shipment.amended", "shipment.eta_changed",
            "shipment.rolled_over", "shipment.milestone_recorded", "shipment.exception_raised",
            "shipment.bl_draft_changed", "sla.breached"} <= names
    for t in types:
        assert t["example"]["type"] == t["type"]
        assert json.dumps(t["example"])  # plain JSON


def test_a_retried_subscription_is_created_once_and_its_secret_is_not_stored(api):
    headers = {"X-Actor": "it.admin", "X-Role": "admin", "Idempotency-Key": "sub-tms-1"}
    body = {"url": "http://127.0.0.1:9/hooks", "event_types": ["shipment.*"]}
    first = api.post("/webhooks/subscriptions", json=body, headers=headers)
    again = api.post("/webhooks/subscriptions", json=body, headers=headers)
    assert first.status_code == again.status_code == 201, first.text
    assert first.json()["secret"].startswith("whsec_")
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["id"] == first.json()["id"] and again.json()["secret"] is None
    listed = api.get("/webhooks/subscriptions", headers=headers).json()
    assert [s["id"] for s in listed].count(first.json()["id"]) == 1
    assert len([s for s in listed if s["url"] == body["url"]]) == 1


@pytest.mark.parametrize("url", ["http://[64:ff9b::a9fe:a9fe]/latest/meta-data",
                                 "https://[2002:c0a8:101::1]/hook"])
def test_an_ipv6_transition_address_is_a_422_problem_naming_field_and_rule(api, url):
    r = api.post("/webhooks/subscriptions", headers=ADMIN,
                 json={"url": url, "event_types": ["shipment.*"]})
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["type"] == "urn:shipflow:problem:webhook_url_not_public"
    assert [(v["rule"], v["field"]) for v in problem["violations"]] == [
        ("webhook_url_not_public", "url")]


def test_secrets_are_encrypted_in_the_servers_database(api):
    """The server made its secrets with its key: the SQLite one from the key file it
    created beside its database, the PostgreSQL one from SHIPFLOW_SECRET_KEYS."""
    r = api.post("/webhooks/subscriptions", headers=ADMIN,
                 json={"url": "http://127.0.0.1:9/enc", "event_types": ["shipment.*"]})
    assert r.status_code == 201, r.text
    secret = r.json()["secret"]
    settings = api.settings
    engine = make_engine(settings)
    try:
        with engine.connect() as conn:
            stored = conn.execute(select(webhook_secrets.c.secret).where(
                webhook_secrets.c.subscription_id == r.json()["id"])).scalar_one()
    finally:
        engine.dispose()
    assert stored.startswith("fernet:") and secret.removeprefix("whsec_") not in stored
    assert SecretBox.for_settings(settings).open(stored) == secret
