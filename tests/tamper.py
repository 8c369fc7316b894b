"""For tests that tamper with stored events on purpose (to prove an audit check catches it):
the event store refuses UPDATE, DELETE and TRUNCATE (``shipflow.append_only``), so such a
test lifts the guard the way an operator repairing data would, and puts it back."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager

import psycopg
from psycopg import sql

from shipflow import append_only
from shipflow.config import Settings


@contextmanager
def guard_lifted(settings: Settings) -> Iterator[None]:
    """PostgreSQL: ``ALTER TABLE … DISABLE TRIGGER shipflow_append_only`` as the table owner,
    ``ENABLE`` after. SQLite (no DISABLE TRIGGER): drop the triggers, install them again."""
    if settings.is_postgres:
        _set_postgres_triggers(settings, "DISABLE")
        try:
            yield
        finally:
            _set_postgres_triggers(settings, "ENABLE")
        return
    with closing(sqlite3.connect(settings.event_store_path, isolation_level=None)) as conn:
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND "
                                    "name LIKE ?", [append_only.TRIGGER + "%"]).fetchall():
            conn.execute(f"DROP TRIGGER {name}")
    try:
        yield
    finally:
        append_only.install(settings)


def _set_postgres_triggers(settings: Settings, action: str) -> None:
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        for table in append_only.POSTGRES_TABLES:
            conn.execute(sql.SQL("ALTER TABLE {}.{} " + action + " TRIGGER {}").format(
                sql.Identifier(settings.database_schema), sql.Identifier(table),
                sql.Identifier(append_only.TRIGGER)))
