"""The SQL database of everything derived and every service table: the views' tables, the
projections' bookkeeping, webhooks, API keys. (The event store is the library's own, see
:mod:`shipflow.store`.)

On SQLite it is the configured file (``var/shipflow.db``), apart from the event store's own
file; on PostgreSQL, the configured schema of the same database. Every table is defined on
:data:`metadata` by the module that owns it; :func:`load_metadata` imports them all so that
Alembic (``alembic/``) sees every table.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, DateTime, Engine, MetaData, Table, TypeDecorator, event
from sqlalchemy import create_engine as sa_create_engine
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url

from shipflow.config import Settings

metadata = MetaData()

#: Modules that define tables on :data:`metadata`: the views (through their registry) and
#: the service tables.
TABLE_MODULES = (
    "shipflow.projections.registry",
    "shipflow.webhooks.tables",
    "shipflow.auth.tables",
    "shipflow.audit.tables",
)


def load_metadata() -> MetaData:
    for name in TABLE_MODULES:
        importlib.import_module(name)
    return metadata


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out, on SQLite (which stores naive text) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime written to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# --- the engine ----------------------------------------------------------------------------


def database_url(settings: Settings) -> str:
    if not settings.is_postgres:
        settings.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{settings.sqlite_path}"
    url = make_url(settings.database_url).set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def make_engine(settings: Settings, **kwargs: Any) -> Engine:
    url = database_url(settings)
    if not settings.is_postgres:
        engine = sa_create_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            # WAL lets the API read while the runner writes; NORMAL sync is safe under WAL.
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    return sa_create_engine(url, pool_pre_ping=True, connect_args={
        "options": f"-csearch_path={settings.database_schema}"}, **kwargs)


# --- writing -------------------------------------------------------------------------------


def insert(conn: Connection, table: Table) -> Any:
    """An INSERT of this dialect, which knows ``on_conflict_do_…``."""
    return (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(table)


def upsert(conn: Connection, table: Table, keys: Sequence[str],
           rows: list[dict[str, Any]]) -> None:
    """Insert the rows, or update those whose key exists, in one executemany."""
    if not rows:
        return
    stmt = insert(conn, table)
    stmt = stmt.on_conflict_do_update(index_elements=list(keys), set_={
        c.name: stmt.excluded[c.name] for c in table.columns if c.name not in keys})
    conn.execute(stmt, rows)
