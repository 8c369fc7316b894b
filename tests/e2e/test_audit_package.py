"""An audit package verified offline: taken from a real server, which is then stopped, and
checked by the verifier inside the package run by a bare Python (``-I -S``: no site
packages, so neither shipflow nor cryptography) — and the verifier names a tampered package."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path

import httpx
import psycopg
import pytest
from cryptography.fernet import Fernet
from psycopg import sql
from test_audit_http import AUDITOR, eventful_shipment

from e2e.conftest import _start, _stop
from keys import server_keys, use_keys
from pg import PG_URL, require_postgres
from shipflow.audit.signing import new_key


@pytest.fixture(scope="module",
                params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def package(request, tmp_path_factory) -> tuple[Path, str, str]:
    """(the package, the public key, the shipment) from a server that has stopped since."""
    tmp_path = tmp_path_factory.mktemp(f"package-{request.param}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPFLOW_")}
    schema = None
    if request.param == "postgres":
        require_postgres()
        schema = f"pkg_{uuid.uuid4().hex[:12]}"
        env.update(SHIPFLOW_DATABASE_URL=PG_URL, SHIPFLOW_DATABASE_SCHEMA=schema,
                   SHIPFLOW_SECRET_KEYS=json.dumps([Fernet.generate_key().decode()]),
                   SHIPFLOW_AUDIT_SIGNING_KEY=new_key())
    else:
        env["SHIPFLOW_DATABASE_URL"] = f"sqlite:///{tmp_path}/shipflow.db"
    proc, base_url, _ = _start(tmp_path, env)
    keys = server_keys(env)
    try:
        with httpx.Client(base_url=base_url, timeout=30, headers=AUDITOR) as client:
            use_keys(client, keys)
            sid = eventful_shipment(client)
            first = client.post("/audit/checkpoints").json()
            eventful_shipment(client)
            client.post("/audit/checkpoints")
            kept = tmp_path / "kept.json"
            kept.write_text(json.dumps({"checkpoints": [first]}))
            r = client.get(f"/shipments/{sid}/audit-package")
            assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
            public_key = client.get("/audit/checkpoints").json()["public_key"]
    finally:
        keys.engine.dispose()
        _stop(proc)
        if schema is not None:
            with psycopg.connect(PG_URL, autocommit=True) as conn:
                conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                    sql.Identifier(schema)))
    assert proc.poll() is not None  # the service is stopped
    path = tmp_path / f"audit-{sid}.zip"
    path.write_bytes(r.content)
    return path, public_key, sid


def run_verifier(package: Path, public_key: str, *extra: str) -> subprocess.CompletedProcess:
    """The package's own verifier, unpacked elsewhere, on a Python without site packages."""
    where = package.parent / f"unpacked-{uuid.uuid4().hex[:6]}"
    with zipfile.ZipFile(package) as z:
        z.extractall(where)
    return subprocess.run([sys.executable, "-I", "-S", str(where / "verifier" / "verify.py"),
                           str(package), "--public-key", public_key, *extra],
                          capture_output=True, text=True, timeout=120, cwd=package.parent,
                          env={"PATH": os.environ.get("PATH", "")})


def test_the_package_verifies_offline_with_the_service_stopped(package):
    path, public_key, sid = package
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        events = [json.loads(x) for x in z.read("events.jsonl").splitlines()]
        drafts = [json.loads(x) for x in z.read("bl_drafts.jsonl").splitlines()]
        readme = z.read("README.md").decode()
    assert {"events.jsonl", "evidence.json", "checkpoints.json", "bl_drafts.jsonl",
            "README.md", "manifest.json", "public_key.txt", "verifier/verify.py",
            "verifier/evidence.py", "verifier/verdict.py"} <= names
    assert [e["originator_version"] for e in events] == list(range(1, 11))
    assert all(e["state"]["_chain"]["hash"] for e in events)
    assert [d["version"] for d in drafts] == list(range(1, len(drafts) + 1)) and drafts
    assert "verify.py" in readme and sid in readme
    result = run_verifier(path, public_key, "--kept", str(path.parent / "kept.json"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("verified up to version 10 at position ")
    assert "1 kept checkpoint(s) consistent with checkpoint 2" in result.stdout


def test_the_offline_verifier_names_a_tampered_package(package, tmp_path):
    path, public_key, _ = package
    with zipfile.ZipFile(path) as z:
        files = {n: z.read(n) for n in z.namelist()}
    events = [json.loads(x) for x in files["events.jsonl"].splitlines()]
    events[4]["state"]["reason"] = "edited"  # version 5, the amendment request
    files["events.jsonl"] = b"\n".join(json.dumps(e).encode() for e in events)
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(tampered, "w") as z:
        for n, b in files.items():
            z.writestr(n, b)
    result = run_verifier(tampered, public_key)
    assert result.returncode == 1
    assert result.stdout.startswith("version 5: content changed")
    wrong_key = run_verifier(path, new_public_key())
    assert wrong_key.returncode == 1 and "does not verify with this public key" in \
        wrong_key.stdout


def new_public_key() -> str:
    from shipflow.audit.signing import Signer

    return Signer(new_key()).public_key


def test_the_entry_point_is_the_same_verifier(package):
    path, public_key, _ = package
    from shipflow.audit.verify_package import main

    out = io.StringIO()
    sys.stdout, saved = out, sys.stdout
    try:
        assert main([str(path), "--public-key", public_key]) == 0
    finally:
        sys.stdout = saved
    assert out.getvalue().startswith("verified up to version 10")
