"""Which errors are outages (``shipflow.outages.classify``) and how the API answers them: 503
``database_unavailable`` with Retry-After, 507 ``storage_full``; anything else stays a 500.
The errors are real ones from the drivers where they can be had without a broken server."""

from __future__ import annotations

import socket
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing

import psycopg
import psycopg.errors
import pytest
import sqlalchemy
import sqlalchemy.exc
from eventsourcing import persistence as es
from fastapi import FastAPI
from fastapi.testclient import TestClient

from shipflow.api import errors
from shipflow.outages import DATABASE_UNAVAILABLE, STORAGE_FULL, DatabaseUnavailable, classify


@pytest.fixture(scope="module")
def refused_port() -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield s.getsockname()[1]


def caught(make: Callable[[], object]) -> BaseException:
    try:
        make()
    except BaseException as e:  # noqa: BLE001 - the sample is the error itself
        return e
    raise AssertionError("no error")


def wrapped(cls: type[Exception], make: Callable[[], object]) -> BaseException:
    """As the library raises it: its own class, from the driver's error."""
    def again() -> None:
        try:
            make()
        except Exception as e:
            raise cls(str(e)) from e
    return caught(again)


def sqlite_full(tmp_path) -> None:
    with closing(sqlite3.connect(tmp_path / f"full-{len(list(tmp_path.iterdir()))}.db")) as conn:
        conn.execute("CREATE TABLE t (v BLOB)")
        conn.execute("PRAGMA max_page_count = 1")  # no bigger than it is now
        conn.execute("INSERT INTO t VALUES (?)", [b"x" * 20000])


def no_such_table(tmp_path) -> None:
    with closing(sqlite3.connect(tmp_path / "empty.db")) as conn:
        conn.execute("SELECT * FROM stored_events")


class SqlalchemyOperational(sqlalchemy.exc.OperationalError):
    """SQLAlchemy's wrapper as it builds one (statement, params, the driver's error)."""

    def __init__(self, message: str) -> None:
        super().__init__("INSERT", {}, sqlite3.OperationalError(message))


def samples(tmp_path, port: int) -> dict[str, tuple[BaseException, str | None]]:
    pg = f"postgresql+psycopg://postgres@127.0.0.1:{port}/test"
    return {
        "psycopg refused": (caught(lambda: psycopg.connect(
            host="127.0.0.1", port=port, connect_timeout=2)), DATABASE_UNAVAILABLE),
        "library over psycopg": (wrapped(es.OperationalError, lambda: psycopg.connect(
            host="127.0.0.1", port=port, connect_timeout=2)), DATABASE_UNAVAILABLE),
        "library, its own words": (es.InterfaceError("connection pool closed"),
                                   DATABASE_UNAVAILABLE),
        "sqlalchemy over psycopg": (caught(lambda: sqlalchemy.create_engine(pg).connect()),
                                    DATABASE_UNAVAILABLE),
        "sqlalchemy invalidated": (sqlalchemy.exc.DBAPIError(
            "SELECT 1", {}, Exception("server closed the connection"),
            connection_invalidated=True), DATABASE_UNAVAILABLE),
        "sqlalchemy pool timeout": (sqlalchemy.exc.TimeoutError("QueuePool limit"),
                                    DATABASE_UNAVAILABLE),
        "gate down": (DatabaseUnavailable("PostgreSQL unavailable"), DATABASE_UNAVAILABLE),
        "sqlite full": (caught(lambda: sqlite_full(tmp_path)), STORAGE_FULL),
        "library over sqlite full": (wrapped(es.OperationalError,
                                             lambda: sqlite_full(tmp_path)), STORAGE_FULL),
        "sqlalchemy over sqlite full": (wrapped(SqlalchemyOperational,
                                                lambda: sqlite_full(tmp_path)), STORAGE_FULL),
        "postgres disk full": (psycopg.errors.DiskFull("could not extend file"), STORAGE_FULL),
        "sqlite cannot open": (caught(lambda: sqlite3.connect(tmp_path / "no" / "x.db")),
                               DATABASE_UNAVAILABLE),
        "sqlite disk I/O error": (sqlite3.OperationalError("disk I/O error"),
                                  DATABASE_UNAVAILABLE),
        "sqlite locked": (sqlite3.OperationalError("database is locked"), DATABASE_UNAVAILABLE),
        # not outages: bugs and refusals stay what they are
        "sqlite no such table": (caught(lambda: no_such_table(tmp_path)), None),
        "library over no such table": (wrapped(es.OperationalError,
                                               lambda: no_such_table(tmp_path)), None),
        "conflict": (es.IntegrityError("duplicate key"), None),
        "unique violation": (psycopg.errors.UniqueViolation("duplicate key"), None),
        "a bug": (ValueError("no"), None),
    }


@pytest.fixture(scope="module")
def all_samples(tmp_path_factory, refused_port):
    return samples(tmp_path_factory.mktemp("outages"), refused_port)


NAMES = ["psycopg refused", "library over psycopg", "library, its own words",
         "sqlalchemy over psycopg", "sqlalchemy invalidated", "sqlalchemy pool timeout",
         "gate down", "sqlite full", "library over sqlite full", "sqlalchemy over sqlite full",
         "postgres disk full", "sqlite cannot open", "sqlite disk I/O error", "sqlite locked",
         "sqlite no such table", "library over no such table", "conflict", "unique violation",
         "a bug"]


def test_every_sample_is_named(all_samples):
    assert list(all_samples) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_which_errors_are_outages(all_samples, name):
    exc, rule = all_samples[name]
    outage = classify(exc)
    assert (outage.rule if outage else None) == rule
    if outage:
        assert outage.reason and "\n" not in outage.reason


@pytest.fixture(scope="module")
def client(all_samples):
    app = FastAPI()
    errors.install(app)

    @app.get("/boom/{n}")
    def boom(n: int) -> None:
        raise all_samples[NAMES[n]][0]

    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.mark.parametrize("name", NAMES)
def test_the_api_answers_an_outage_as_retryable(client, all_samples, name):
    rule = all_samples[name][1]
    r = client.get(f"/boom/{NAMES.index(name)}")
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    if rule is None:
        assert (r.status_code, body["type"]) == (500, "urn:shipflow:problem:internal_error")
        return
    assert body["type"] == f"urn:shipflow:problem:{rule}"
    assert body["violations"][0]["rule"] == rule
    if rule == DATABASE_UNAVAILABLE:
        assert r.status_code == 503
        assert int(r.headers["retry-after"]) > 0
    else:
        assert r.status_code == 507
        assert "nothing of this request was recorded" in body["detail"]
