"""The settings refuse a database URL shipflow cannot serve, in one line (README,
Configuration, lists the accepted forms)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from shipflow.config import Settings, describe_error, redact


def settings(**kw) -> Settings:
    return Settings(_env_file=None, **kw)


def refusal(**kw) -> str:
    with pytest.raises(ValidationError) as refused:
        settings(**kw)
    line = describe_error(refused.value)
    assert "\n" not in line
    return line


@pytest.mark.parametrize(("url", "path"), [
    ("sqlite:///./var/shipflow.db", Path("var/shipflow.db")),  # the default
    ("sqlite:///./x.db", Path("x.db")),
    ("sqlite:///../data/x.db", Path("../data/x.db")),
    ("sqlite:////srv/shipflow/x.db", Path("/srv/shipflow/x.db")),
    ("sqlite:////srv/ship%20flow/x.db", Path("/srv/ship flow/x.db")),
])
def test_the_sqlite_forms_served(url, path):
    s = settings(database_url=url)
    assert not s.is_postgres
    assert s.sqlite_path == path
    assert s.event_store_path == path.with_name(f"{path.stem}-events.db")


@pytest.mark.parametrize(("url", "says"), [
    ("mysql://root@db/shipflow", "'mysql' databases are not supported"),
    ("postgresql+psycopg://u@h/db", "'postgresql+psycopg' databases are not supported"),
    ("var/shipflow.db", "is not supported"),
    ("", "is not supported"),
    ("sqlite:/var/x.db", "is not a SQLite file URL"),
    ("sqlite://var/x.db", "is not a SQLite file URL"),
    ("sqlite:///var/x.db", "ambiguous"),  # SQLAlchemy would open ./var/x.db
    ("sqlite:///:memory:", "in-memory"),
    ("sqlite:////srv/", "names no database file"),
    ("sqlite:////srv/x.db?mode=ro", "query parameters are not supported"),
])
def test_other_database_urls_are_refused(url, says):
    line = refusal(database_url=url)
    assert line.startswith("SHIPFLOW_DATABASE_URL: ")
    assert says in line


def test_the_ambiguous_sqlite_form_says_what_to_write():
    line = refusal(database_url="sqlite:///var/x.db")
    assert "sqlite:///./var/x.db" in line and "sqlite:////var/x.db" in line


def test_postgres_urls_are_completed_so_every_connection_agrees():
    s = settings(database_url="postgresql://10.0.0.5/shipflow")
    assert s.is_postgres
    assert s.database_url == "postgresql://postgres@10.0.0.5:5432/shipflow"
    env = s.event_store_env()
    assert (env["POSTGRES_HOST"], env["POSTGRES_PORT"], env["POSTGRES_DBNAME"],
            env["POSTGRES_USER"]) == ("10.0.0.5", "5432", "shipflow", "postgres")
    assert settings(database_url="postgres://app:s%40cret@db:6432/sf").database_url == (
        "postgresql://app:s%40cret@db:6432/sf")
    assert settings(database_url="postgres://app:s%40cret@db/sf").event_store_env()[
        "POSTGRES_PASSWORD"] == "s@cret"


@pytest.mark.parametrize(("url", "says"), [
    ("postgresql://db:54x2/sf", "port"),
    ("postgresql://db/sf?sslmode=require", "PGSSLMODE"),
    ("postgresql:///sf", "name the server's host"),
    ("postgresql://db", "name one database"),
    ("postgresql://db/", "name one database"),
])
def test_postgres_urls_shipflow_would_half_honour_are_refused(url, says):
    assert says in refusal(database_url=url)


def test_a_refusal_never_shows_the_password():
    line = refusal(database_url="postgresql://app:hunter2@db:54x2/sf")
    assert "hunter2" not in line and "app:***@db" in line
    with pytest.raises(ValidationError) as refused:
        settings(database_url="mysql://app:hunter2@db/sf")
    assert "hunter2" not in str(refused.value)
    assert redact("postgresql://app:hunter2@db:5432/sf") == "postgresql://app:***@db:5432/sf"
    label = settings(database_url="postgresql://app:hunter2@db/sf").database_label
    assert "hunter2" not in label and "db:5432" in label and "'sf'" in label


@pytest.mark.parametrize("schema", ["public", "test_0a1b2c", "Shipflow_2"])
def test_schema_names(schema):
    assert settings(database_schema=schema).database_schema == schema


@pytest.mark.parametrize("schema", ["", "1abc", 'a"b', "a.b", "x" * 64])
def test_a_schema_name_shipflow_cannot_quote_safely_is_refused(schema):
    assert refusal(database_schema=schema).startswith("SHIPFLOW_DATABASE_SCHEMA: ")


def test_the_environment_is_read_and_refused_alike(monkeypatch):
    monkeypatch.setenv("SHIPFLOW_DATABASE_URL", "mysql://db/x")
    with pytest.raises(ValidationError):
        Settings(_env_file=None)
