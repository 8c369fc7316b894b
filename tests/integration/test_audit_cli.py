"""``shipflow audit``: verify one stream or the whole log (exit 1 and the named event when
anything fails), sign and export checkpoints; and ``serve`` / ``worker`` refuse to start on
PostgreSQL without the signing key, in one line, as they do without the webhook keys."""

from __future__ import annotations

import json
import os

import pytest
from cryptography.fernet import Fernet
from test_audit_tamper import book
from typer.testing import CliRunner

import audit_tamper as tamper
from shipflow.audit.signing import new_key
from shipflow.cli import app
from shipflow.services.shipments import ShipmentService


@pytest.fixture
def run(migrated, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("SHIPFLOW_")]:
        monkeypatch.delenv(name)
    env = {"SHIPFLOW_DATABASE_URL": migrated.database_url,
           "SHIPFLOW_DATABASE_SCHEMA": migrated.database_schema,
           "SHIPFLOW_AUDIT_SIGNING_KEY": new_key()}

    def invoke(*args: str):
        return CliRunner().invoke(app, list(args), env=env)
    return invoke


def test_verify_a_shipment_and_the_whole_log_then_name_a_tampered_event(run, migrated):
    svc = ShipmentService.from_settings(migrated)
    try:
        sid = book(svc)
    finally:
        svc.close()
    signed = run("audit", "checkpoint")
    assert signed.exit_code == 0, signed.output
    assert json.loads(signed.stdout)["tree_size"] == 6
    one = run("audit", "verify", "--shipment", str(sid))
    assert one.exit_code == 0 and one.stdout.startswith("verified up to version 6 at position")
    whole = run("audit", "verify", "--all")
    assert whole.exit_code == 0 and whole.stdout.strip().endswith("verified"), whole.output
    exported = json.loads(run("audit", "export").stdout)
    assert [c["number"] for c in exported["checkpoints"]] == [1]
    state = tamper.read_state(migrated, sid, 2)
    tamper.set_state(migrated, sid, 2, state.replace(b"cs.wang", b"cs.wanh", 1))
    bad = run("audit", "verify", "--shipment", str(sid))
    assert bad.exit_code == 1 and bad.stdout.startswith("version 2: content changed")
    whole = run("audit", "verify", "--all")
    assert whole.exit_code == 1 and f"{sid}: version 2: content changed" in whole.stdout
    assert run("audit", "verify").exit_code == 2  # neither --shipment nor --all


@pytest.mark.postgres
@pytest.mark.parametrize("command", ["serve", "worker"])
def test_serve_and_worker_refuse_to_start_without_the_signing_key(postgres_settings, command,
                                                                  monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("SHIPFLOW_")]:
        monkeypatch.delenv(name)
    result = CliRunner().invoke(app, [command], env={
        "SHIPFLOW_DATABASE_URL": postgres_settings.database_url,
        "SHIPFLOW_SECRET_KEYS": json.dumps([Fernet.generate_key().decode()])})
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "shipflow: SHIPFLOW_AUDIT_SIGNING_KEY is not set: on PostgreSQL it is required to "
        "sign audit checkpoints (a key: `shipflow audit new-key`)")
    bad = CliRunner().invoke(app, [command], env={
        "SHIPFLOW_DATABASE_URL": postgres_settings.database_url,
        "SHIPFLOW_SECRET_KEYS": json.dumps([Fernet.generate_key().decode()]),
        "SHIPFLOW_AUDIT_SIGNING_KEY": "not-a-key"})
    assert bad.exit_code == 2 and "is not an Ed25519 private key" in bad.stderr
