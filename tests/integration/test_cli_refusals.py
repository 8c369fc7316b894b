"""The commands refuse in one line what they cannot serve: a database URL of another kind
(before creating anything), an unreachable PostgreSQL (naming host, port and database), a
database not prepared yet (saying to run `shipflow db upgrade`)."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from shipflow.cli import app
from shipflow.webhooks.secretbox import new_key

#: Commands that must refuse at start; serve and worker never get to run.
STARTING = [["serve"], ["worker"], ["db", "upgrade"], ["projections", "status"]]


@pytest.fixture
def run(tmp_path, monkeypatch):
    """Run a command in an empty directory (no .env, no ./var) with these SHIPFLOW_* only."""
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("SHIPFLOW_")]:
        monkeypatch.delenv(name)

    def invoke(args: list[str], **env: str):
        return CliRunner().invoke(app, args, env={f"SHIPFLOW_{k.upper()}": v
                                                  for k, v in env.items()})
    return invoke


@pytest.fixture
def refused_port() -> Iterator[int]:
    """A port bound but not listening: connecting to it is refused (and nobody else takes
    it meanwhile)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield s.getsockname()[1]


def one_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return lines[0]


@pytest.mark.parametrize("args", STARTING, ids=" ".join)
@pytest.mark.parametrize(("url", "says"), [
    ("mysql://root@127.0.0.1/shipflow", "'mysql' databases are not supported"),
    ("sqlite:/var/x.db", "is not a SQLite file URL"),
    ("sqlite:///var/x.db", "ambiguous"),
])
def test_an_unserved_database_url_is_refused_before_anything_is_created(
        run, tmp_path, args, url, says):
    result = run(args, database_url=url)
    assert result.exit_code == 2
    line = one_line(result)
    assert line.startswith("shipflow: SHIPFLOW_DATABASE_URL: ") and says in line
    assert "database ready" not in result.output
    assert list(tmp_path.iterdir()) == []  # no SQLite files made in its place


@pytest.mark.parametrize("args", STARTING, ids=" ".join)
def test_an_unreachable_postgres_is_named_in_one_line(run, refused_port, args):
    # serve and worker check the secret keys first (tests/webhooks/test_webhooks_secret_keys)
    from shipflow.audit.signing import new_key as new_signing_key

    result = run(args, database_url=f"postgresql://postgres@127.0.0.1:{refused_port}/test",
                 database_schema="nowhere", secret_keys=json.dumps([new_key()]),
                 audit_signing_key=new_signing_key())
    assert result.exit_code == 1
    line = one_line(result)
    assert line == (f"shipflow: cannot connect to PostgreSQL at 127.0.0.1:{refused_port}, "
                    "database 'test', schema 'nowhere' as user 'postgres': Connection refused")


def test_status_before_migrations_says_to_run_db_upgrade(run, settings, tmp_path):
    env = {"database_url": settings.database_url, "database_schema": settings.database_schema}
    if settings.is_postgres:  # the schema exists (the event store's tables may be there)
        from shipflow.store import open_store

        open_store(settings).close()
    result = run(["projections", "status"], **env)
    assert result.exit_code == 1
    line = one_line(result)
    assert line.endswith("is not prepared yet: run `shipflow db upgrade`")
    assert line.startswith(f"shipflow: {settings.database_label}")

    upgraded = run(["db", "upgrade"], **env)
    assert upgraded.exit_code == 0, upgraded.output
    assert "append-only guard installed on" in upgraded.stdout
    assert f"database ready: {settings.database_label}" in upgraded.stdout
    again = run(["db", "upgrade"], **env)
    assert again.exit_code == 0 and "append-only guard" not in again.stdout  # idempotent
    status = run(["projections", "status"], **env)
    assert status.exit_code == 0, status.output
    assert "shipments" in status.stdout


def test_the_printed_database_never_shows_the_password(run, refused_port):
    result = run(["db", "upgrade"],
                 database_url=f"postgresql://app:hunter2@127.0.0.1:{refused_port}/test")
    assert result.exit_code == 1
    assert "hunter2" not in result.output
    assert "as user 'app'" in one_line(result)
