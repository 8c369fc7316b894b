"""The PostgreSQL the tests use: skipped locally when unreachable, required when CI=true."""

from __future__ import annotations

import os

import psycopg
import pytest

PG_URL = os.environ.get("SHIPFLOW_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

_pg_reachable: bool | None = None


def postgres_reachable() -> bool:
    global _pg_reachable
    if _pg_reachable is None:
        try:
            psycopg.connect(PG_URL, connect_timeout=3).close()
            _pg_reachable = True
        except psycopg.OperationalError:
            _pg_reachable = False
    return _pg_reachable


def require_postgres() -> None:
    if postgres_reachable():
        return
    if IN_CI:
        pytest.fail(f"PostgreSQL at {PG_URL} is unreachable, and CI requires it")
    pytest.skip(f"PostgreSQL at {PG_URL} is unreachable (set CI=true to make this fail)")
