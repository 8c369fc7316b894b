"""Shared fixtures: settings for each real database, the application service, factories.

PostgreSQL tests run against the server in ``SHIPFLOW_TEST_POSTGRES_URL`` (default: the local
server at 127.0.0.1:5432, database ``test``), each test in a schema of its own. When it is
unreachable they are skipped locally, and **fail** when ``CI=true``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from pg import PG_URL, require_postgres
from shipflow.config import Settings
from shipflow.services.shipments import ShipmentService
from shipflow.store import Shipflow


def drop_schema(schema: str) -> None:
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture
def sqlite_settings(tmp_path) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path}/shipflow.db", _env_file=None)


@pytest.fixture
def postgres_settings() -> Iterator[Settings]:
    require_postgres()
    schema = f"test_{uuid.uuid4().hex[:12]}"
    yield Settings(database_url=PG_URL, database_schema=schema, _env_file=None)
    drop_schema(schema)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def settings(request) -> Settings:
    """Run the test once on SQLite and once on the real PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_settings")


@pytest.fixture
def service(settings) -> Iterator[ShipmentService]:
    svc = ShipmentService.from_settings(settings)
    yield svc
    svc.close()


@pytest.fixture
def memory_service() -> Iterator[ShipmentService]:
    """The library's in-memory store: for unit tests of the domain through the service."""
    svc = ShipmentService(Shipflow(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}))
    yield svc
    svc.close()


@pytest.fixture
def migrated(settings) -> Settings:
    """The settings' database with the read-model migrations applied."""
    from shipflow.migrations import upgrade

    ShipmentService.from_settings(settings).close()  # creates the PostgreSQL schema
    upgrade(settings)
    return settings

