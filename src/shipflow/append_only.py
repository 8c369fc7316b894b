"""The event store is append-only, and the database itself enforces it.

The ``eventsourcing`` library (9.5) writes the event table and the snapshot table with
``INSERT`` only: a snapshot is a new row at the aggregate's version, never an update of an
older one, and nothing is ever deleted (checked in ``eventsourcing/postgres.py`` and
``sqlite.py``: ``PostgresAggregateRecorder`` and ``SQLiteAggregateRecorder`` serve both
tables). So triggers refuse everything else:

- PostgreSQL: ``shipflow_append_only`` on ``<schema>.shipflow_events`` and
  ``<schema>.shipflow_snapshots``, ``BEFORE UPDATE OR DELETE OR TRUNCATE ... FOR EACH
  STATEMENT``, raising SQLSTATE 42501 (insufficient_privilege) with a hint on how to repair
  data knowingly. An upsert (``INSERT ... ON CONFLICT DO UPDATE``) fires the UPDATE trigger
  too, so it is refused as well.
- SQLite (``var/<name>-events.db``): ``RAISE(ABORT, ...)`` on UPDATE and DELETE of
  ``stored_events`` and ``stored_snapshots``, and on an INSERT over an existing key (``INSERT
  OR REPLACE`` deletes the old row without firing DELETE triggers).

:func:`install` is idempotent and runs at the end of every migration (``shipflow db
upgrade``, and each API start): it creates what is missing and enables a trigger an operator
left disabled. How to lift the guard knowingly: README, "Append-only storage".
"""

from __future__ import annotations

import sqlite3
from contextlib import closing

from shipflow.config import Settings

TRIGGER = "shipflow_append_only"
FUNCTION = "shipflow_refuse_change"
#: The library names PostgreSQL tables after the application (``Shipflow.name``).
POSTGRES_TABLES = ("shipflow_events", "shipflow_snapshots")
#: The library's SQLite tables have fixed names (one file per application).
SQLITE_TABLES = ("stored_events", "stored_snapshots")
#: Several API processes may start at once: one installs, the others wait (alembic: 4200001).
LOCK_KEY = 4200002

_FUNCTION_SQL = """
CREATE OR REPLACE FUNCTION {schema}.{function}() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
    RAISE EXCEPTION 'shipflow: %.% is append-only; % refused',
        TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = format('Events and snapshots are never changed. To repair data knowingly,'
                            ' as the table owner: ALTER TABLE %I.%I DISABLE TRIGGER %I, then'
                            ' ENABLE it (shipflow db upgrade enables it again).',
                            TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_NAME);
END
$body$
"""
_TRIGGER_SQL = ("CREATE TRIGGER {trigger} BEFORE UPDATE OR DELETE OR TRUNCATE ON "
                "{schema}.{table} FOR EACH STATEMENT EXECUTE FUNCTION {schema}.{function}()")


def install(settings: Settings) -> list[str]:
    """Put the guard on the event store's tables (creating them first if no store was ever
    opened on this database); what it changed, for the operator."""
    if settings.is_postgres:
        return _install_postgres(settings)
    return _install_sqlite(settings)


def _open_store(settings: Settings) -> None:
    from shipflow.store import open_store

    open_store(settings).close()


# --- PostgreSQL --------------------------------------------------------------------------


def _connect_postgres(settings: Settings):  # noqa: ANN202 - a psycopg connection
    import psycopg

    env = settings.event_store_env()
    return psycopg.connect(dbname=env["POSTGRES_DBNAME"], host=env["POSTGRES_HOST"],
                           port=env["POSTGRES_PORT"], user=env["POSTGRES_USER"],
                           password=env["POSTGRES_PASSWORD"] or None, connect_timeout=5)


def _install_postgres(settings: Settings) -> list[str]:
    from psycopg import sql

    schema = settings.database_schema
    ident = {"schema": sql.Identifier(schema), "function": sql.Identifier(FUNCTION),
             "trigger": sql.Identifier(TRIGGER)}
    done: list[str] = []
    with _connect_postgres(settings) as conn:
        if any(conn.execute("SELECT to_regclass(%s)", [f'"{schema}"."{t}"']).fetchone()
               == (None,) for t in POSTGRES_TABLES):
            conn.rollback()
            _open_store(settings)
        conn.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
        conn.execute(sql.SQL(_FUNCTION_SQL).format(**ident))
        for table in POSTGRES_TABLES:
            qualified = f'"{schema}"."{table}"'
            row = conn.execute("SELECT tgenabled FROM pg_trigger WHERE tgrelid = "
                               "to_regclass(%s) AND tgname = %s", [qualified, TRIGGER]).fetchone()
            if row is None:
                conn.execute(sql.SQL(_TRIGGER_SQL).format(table=sql.Identifier(table), **ident))
                done.append(f"append-only guard installed on {schema}.{table}")
            elif row[0] == "D":
                conn.execute(sql.SQL("ALTER TABLE {schema}.{table} ENABLE TRIGGER {trigger}")
                             .format(table=sql.Identifier(table), **ident))
                done.append(f"append-only guard on {schema}.{table} was disabled; enabled "
                            "again")
        conn.commit()
    return done


def postgres_status(settings: Settings) -> dict[str, str]:
    """Each table's guard: ``on``, ``off`` (disabled) or ``missing``."""
    schema = settings.database_schema
    with _connect_postgres(settings) as conn:
        rows = dict(conn.execute(
            "SELECT c.relname, t.tgenabled FROM pg_trigger t JOIN pg_class c ON c.oid = "
            "t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s "
            "AND t.tgname = %s", [schema, TRIGGER]).fetchall())
    return {t: "missing" if t not in rows else "off" if rows[t] == "D" else "on"
            for t in POSTGRES_TABLES}


# --- SQLite ------------------------------------------------------------------------------


def _sqlite_triggers(table: str) -> dict[str, str]:
    refuse = "BEGIN SELECT RAISE(ABORT, '{t} is append-only: {what} refused (shipflow)'); END"
    return {
        f"{TRIGGER}_{table}_update":
            f"BEFORE UPDATE ON {table} " + refuse.format(t=table, what="UPDATE"),
        f"{TRIGGER}_{table}_delete":
            f"BEFORE DELETE ON {table} " + refuse.format(t=table, what="DELETE"),
        f"{TRIGGER}_{table}_replace":
            f"BEFORE INSERT ON {table} WHEN EXISTS (SELECT 1 FROM {table} WHERE "  # noqa: S608 - our table
            "originator_id = NEW.originator_id AND originator_version = "
            "NEW.originator_version) " + refuse.format(t=table, what="replacing a row"),
    }


def _install_sqlite(settings: Settings) -> list[str]:
    path = settings.event_store_path
    path.parent.mkdir(parents=True, exist_ok=True)
    done: list[str] = []
    for attempt in (1, 2):
        with closing(sqlite3.connect(path, timeout=10, isolation_level=None)) as conn:
            tables = {r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not set(SQLITE_TABLES) <= tables:
                if attempt == 2:
                    raise RuntimeError(f"the event store in {path} has no "
                                       f"{', '.join(SQLITE_TABLES)} tables")
                conn.close()
                _open_store(settings)
                continue
            conn.execute("BEGIN IMMEDIATE")
            have = {r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger'")}
            for table in SQLITE_TABLES:
                missing = {n: b for n, b in _sqlite_triggers(table).items() if n not in have}
                for name, body in missing.items():
                    conn.execute(f"CREATE TRIGGER {name} {body}")
                if missing:
                    done.append(f"append-only guard installed on {table} in {path}")
            conn.execute("COMMIT")
            return done
    return done
