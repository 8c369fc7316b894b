"""The read-model database: SQLAlchemy engine for the configured SQLite file or PostgreSQL.

On SQLite the read models live in the configured file (``var/shipflow.db``), apart from the
event store's own file; on PostgreSQL, in the configured schema of the same database.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from shipflow.config import Settings


def read_model_url(settings: Settings) -> str:
    if not settings.is_postgres:
        settings.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{settings.sqlite_path}"
    url = make_url(settings.database_url).set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def make_engine(settings: Settings, **kwargs: Any) -> Engine:
    url = read_model_url(settings)
    if not settings.is_postgres:
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            # WAL lets the API read while the runner writes; NORMAL sync is safe under WAL.
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, connect_args={
        "options": f"-csearch_path={settings.database_schema}"}, **kwargs)
