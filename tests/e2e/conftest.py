"""A real ``shipflow serve`` (uvicorn) in a subprocess, once per test module and database,
talked to with httpx over loopback.

PostgreSQL follows the suite's rule (see ``tests/conftest.py``): skipped when unreachable,
failing when ``CI=true``. Each PostgreSQL server gets a schema of its own, dropped after.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest
from cryptography.fernet import Fernet
from psycopg import sql

from keys import DEFAULT_IDENTITY, server_keys, use_keys
from pg import PG_URL, require_postgres
from shipflow.audit.signing import new_key as new_signing_key

STARTUP_SECONDS = 180  # generous: a busy 2-core machine starts slowly; this never paces a test


@dataclass
class Server:
    base_url: str
    database: str
    env: dict[str, str]
    log: Path
    events_file: Path | None = None  # SQLite
    schema: str | None = None  # PostgreSQL

    def count_events(self) -> int:
        """Every stored event of every shipment, read straight from the database."""
        if self.events_file is not None:
            with closing(sqlite3.connect(self.events_file)) as conn:
                return conn.execute("SELECT count(*) FROM stored_events").fetchone()[0]
        with psycopg.connect(PG_URL) as conn:
            return conn.execute(sql.SQL("SELECT count(*) FROM {}.shipflow_events").format(
                sql.Identifier(self.schema))).fetchone()[0]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _command(port: int) -> list[str]:
    entry_point = Path(sys.executable).with_name("shipflow")
    if entry_point.exists():
        return [str(entry_point), "serve", "--host", "127.0.0.1", "--port", str(port)]
    return [sys.executable, "-m", "uvicorn", "--factory", "shipflow.api.app:create_app",
            "--host", "127.0.0.1", "--port", str(port)]


def _start(workdir: Path, env: dict[str, str]) -> tuple[subprocess.Popen, str, Path]:
    for attempt in range(3):  # a freed port can be taken before the server binds it
        port = _free_port()
        log = workdir / f"server-{attempt}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(_command(port), cwd=workdir, env=env, stdout=out,
                                    stderr=subprocess.STDOUT)
        base_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if httpx.get(f"{base_url}/health", timeout=30).status_code == 200:
                    return proc, base_url, log
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        _stop(proc)
        if "address already in use" not in log.read_text().lower():
            break
    pytest.fail(f"shipflow serve did not become healthy:\n{log.read_text()[-4000:]}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


@pytest.fixture(scope="module",
                params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def server(request, tmp_path_factory) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp(f"e2e-{request.param}")  # no .env, no ./var of ours
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPFLOW_")}
    env["SHIPFLOW_SNAPSHOT_INTERVAL"] = "5"  # so past reads cross snapshots
    if request.param == "postgres":
        require_postgres()
        schema = f"e2e_{uuid.uuid4().hex[:12]}"
        env.update(SHIPFLOW_DATABASE_URL=PG_URL, SHIPFLOW_DATABASE_SCHEMA=schema,
                   SHIPFLOW_SECRET_KEYS=f'["{Fernet.generate_key().decode()}"]',  # required
                   SHIPFLOW_AUDIT_SIGNING_KEY=new_signing_key())
        where = {"schema": schema}
    else:
        env["SHIPFLOW_DATABASE_URL"] = f"sqlite:///{workdir}/shipflow.db"
        where = {"events_file": workdir / "shipflow-events.db"}
    proc = None
    try:  # the schema is dropped even when the server never became healthy
        proc, base_url, log = _start(workdir, env)
        yield Server(base_url, request.param, env, log, **where)
    finally:
        if proc is not None:
            _stop(proc)
        if request.param == "postgres":
            with psycopg.connect(PG_URL, autocommit=True) as conn:
                conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                    sql.Identifier(where["schema"])))


def _never_a_500(response: httpx.Response) -> None:
    if response.status_code >= 500:
        response.read()
        raise AssertionError(f"{response.request.method} {response.request.url.path} → "
                             f"{response.status_code}: {response.text}")


@pytest.fixture(scope="module")
def client(server) -> Iterator[httpx.Client]:
    keys = server_keys(server.env)
    with httpx.Client(base_url=server.base_url, timeout=15, headers=DEFAULT_IDENTITY,
                      event_hooks={"response": [_never_a_500]}) as c:
        use_keys(c, keys)
        yield c
    keys.engine.dispose()
