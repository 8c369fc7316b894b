"""Where the keys that encrypt webhook secrets come from: SHIPFLOW_SECRET_KEYS, else on
SQLite a key file made beside the database, else (PostgreSQL) a one-line start-up error;
``shipflow webhooks new-key`` / ``reencrypt``; migration 0005 over plaintext rows."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from cryptography.fernet import Fernet
from sqlalchemy import insert, select
from typer.testing import CliRunner

from shipflow.cli import app
from shipflow.config import Settings
from shipflow.database import make_engine
from shipflow.migrations import alembic_config, upgrade
from shipflow.webhooks.secretbox import (
    MISSING,
    SecretBox,
    SecretKeyInvalid,
    SecretKeyMissing,
    key_file,
    load_keys,
    new_key,
)
from shipflow.webhooks.tables import webhook_secrets

NOWHERE = "postgresql://postgres@127.0.0.1:1/nowhere"  # never reached: the check comes first
PLAIN = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPFLOW_")}
    return {**env, **extra}


def test_sqlite_without_a_key_makes_one_beside_the_database(tmp_path, monkeypatch):
    monkeypatch.delenv("SHIPFLOW_SECRET_KEYS", raising=False)
    settings = Settings(database_url=f"sqlite:///{tmp_path}/var/shipflow.db", _env_file=None)
    sealed = SecretBox.for_settings(settings).seal(PLAIN)
    path = key_file(settings)
    assert path == tmp_path / "var" / "secret-keys"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # another process (a new box) finds the same key
    assert SecretBox.for_settings(settings).open(sealed) == PLAIN
    # rotation in the file: a new key first, the old one still decrypts
    path.write_text(f"{new_key()}\n{path.read_text()}")
    box = SecretBox.for_settings(settings)
    assert box.open(sealed) == PLAIN and not box.is_current(sealed)


def test_postgres_without_a_key_has_no_made_up_key():
    with pytest.raises(SecretKeyMissing) as missing:
        load_keys(Settings(database_url=NOWHERE, secret_keys=[], _env_file=None))
    assert "\n" not in str(missing.value) and "SHIPFLOW_SECRET_KEYS" in str(missing.value)
    box = SecretBox.for_settings(Settings(database_url=NOWHERE, secret_keys=[],
                                          _env_file=None))  # building one does not fail
    with pytest.raises(SecretKeyMissing):
        box.seal(PLAIN)


@pytest.mark.parametrize("command_", [["serve"], ["worker"]])
def test_postgres_without_a_key_is_a_one_line_start_up_error(command_, tmp_path):
    entry = Path(sys.executable).with_name("shipflow")
    done = subprocess.run([str(entry), *command_], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60, env=_env(SHIPFLOW_DATABASE_URL=NOWHERE))
    assert done.returncode == 2
    assert done.stderr.strip() == f"shipflow: {MISSING}"


def test_a_malformed_key_is_a_start_up_error_that_names_it(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path}/shipflow.db",
                        secret_keys=[new_key(), "not-a-key"], _env_file=None)
    with pytest.raises(SecretKeyInvalid, match="secret key #2 is not a Fernet key"):
        SecretBox.for_settings(settings).check()
    done = CliRunner().invoke(app, ["worker"], env={
        "SHIPFLOW_DATABASE_URL": settings.database_url,
        "SHIPFLOW_SECRET_KEYS": json.dumps(["not-a-key"])})
    assert done.exit_code == 2 and "secret key #1 is not a Fernet key" in done.output


def test_the_key_setting_is_a_json_list_and_never_printed(monkeypatch):
    key = new_key()
    monkeypatch.setenv("SHIPFLOW_SECRET_KEYS", json.dumps([key]))
    settings = Settings(_env_file=None)
    assert load_keys(settings) == [key] and key not in repr(settings)


def test_new_key_prints_a_fernet_key():
    done = CliRunner().invoke(app, ["webhooks", "new-key"])
    assert done.exit_code == 0
    Fernet(done.output.strip())


def _insert_plaintext(settings: Settings, secret: str) -> str:
    engine = make_engine(settings)
    secret_id = str(uuid.uuid4())
    try:
        with engine.begin() as conn:
            conn.execute(insert(webhook_secrets).values(
                id=secret_id, subscription_id=str(uuid.uuid4()), secret=secret,
                created_at=datetime.now(UTC), expires_at=None))
    finally:
        engine.dispose()
    return secret_id


def _secrets(settings: Settings) -> list[str]:
    engine = make_engine(settings)
    try:
        with engine.connect() as conn:
            return list(conn.execute(select(webhook_secrets.c.secret)).scalars())
    finally:
        engine.dispose()


def test_migration_0005_encrypts_plaintext_secrets_and_downgrade_decrypts(settings):
    """On SQLite with no key set (the local key file is made), on PostgreSQL with one."""
    from shipflow.services.shipments import ShipmentService

    ShipmentService.from_settings(settings).close()  # the PostgreSQL schema
    cfg = alembic_config(settings)
    command.upgrade(cfg, "0002")
    command.upgrade(cfg, "0004")  # everything before 0005
    _insert_plaintext(settings, PLAIN)
    if settings.is_postgres:  # no key: the migration stops, and changes nothing
        keyless = settings.model_copy(update={"secret_keys": []})
        with pytest.raises(SecretKeyMissing):
            upgrade(keyless)
        assert _secrets(settings) == [PLAIN]
    upgrade(settings)
    [sealed] = _secrets(settings)
    assert sealed.startswith("fernet:") and len(sealed) > 100  # wider than String(100)
    assert SecretBox.for_settings(settings).open(sealed) == PLAIN
    command.downgrade(cfg, "0004")
    assert _secrets(settings) == [PLAIN]
    upgrade(settings)
    assert SecretBox.for_settings(settings).open(_secrets(settings)[0]) == PLAIN


def test_cli_reencrypt_moves_every_secret_to_the_newest_key(migrated):
    old, new = new_key(), new_key()
    _insert_plaintext(migrated, PLAIN)  # one the migration did not see
    where = {"SHIPFLOW_DATABASE_URL": migrated.database_url,
             "SHIPFLOW_DATABASE_SCHEMA": migrated.database_schema}
    runner = CliRunner()

    def run(*keys: str) -> tuple[int, str]:
        done = runner.invoke(app, ["webhooks", "reencrypt"],
                             env={**where, "SHIPFLOW_SECRET_KEYS": json.dumps(list(keys))})
        return done.exit_code, done.output

    assert run(old) == (0, "re-encrypted 1 of 1 webhook secrets under the newest key\n")
    assert run(new, old)[1].startswith("re-encrypted 1 of 1")
    assert run(new)[1].startswith("re-encrypted 0 of 1")
    code, output = run(new_key())  # a list that lost the key
    assert code == 1 and "cannot be decrypted" in output and "nothing was changed" in output
    assert SecretBox([new]).open(_secrets(migrated)[0]) == PLAIN
