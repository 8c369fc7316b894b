"""The databases the benchmarks run on: a temporary SQLite file, a temporary schema of the
local PostgreSQL (dropped afterwards), and a description of the machine for the figures."""

from __future__ import annotations

import os
import platform
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path
from uuid import UUID

from rich.console import Console

from shipflow.config import Settings

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
console = Console()


class Database:
    name = ""

    def settings(self, snapshot_interval: int) -> Settings:
        raise NotImplementedError

    def stored_rows(self, ids: list[UUID]) -> dict[UUID, list[tuple]]:
        """(version, topic, state) of every event the store wrote for these shipments."""
        raise NotImplementedError

    def raw_insert(self, transactions: list[list[tuple]]) -> float:
        """Insert rows into a fresh scratch table, one transaction per list; seconds taken."""
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError


class SqliteDatabase(Database):
    name = "SQLite"

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.base = Settings(database_url=f"sqlite:///{directory}/bench.db", _env_file=None)
        self.path = self.base.event_store_path

    def settings(self, snapshot_interval: int) -> Settings:
        return self.base.model_copy(update={"snapshot_interval": snapshot_interval})

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, isolation_level=None)

    def stored_rows(self, ids: list[UUID]) -> dict[UUID, list[tuple]]:
        with self._connect() as c:
            return {i: c.execute("SELECT originator_version, topic, state FROM stored_events "
                                 "WHERE originator_id = ? ORDER BY originator_version",
                                 (i.hex,)).fetchall() for i in ids}

    def raw_insert(self, transactions: list[list[tuple]]) -> float:
        c = self._connect()
        try:
            c.execute("DROP TABLE IF EXISTS bench_raw")
            c.execute("CREATE TABLE bench_raw (originator_id TEXT, originator_version INTEGER, "
                      "topic TEXT, state BLOB, PRIMARY KEY (originator_id, originator_version))")
            started = time.perf_counter()
            for rows in transactions:
                c.execute("BEGIN")
                c.executemany("INSERT INTO bench_raw VALUES (?, ?, ?, ?)",
                              [(r[0].hex, *r[1:]) for r in rows])
                c.execute("COMMIT")
            return time.perf_counter() - started
        finally:
            c.close()

    def describe(self) -> str:
        with self._connect() as c:
            mode = c.execute("PRAGMA journal_mode").fetchone()[0]
            sync = c.execute("PRAGMA synchronous").fetchone()[0]
        names = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}
        return f"SQLite {sqlite3.sqlite_version}, journal_mode={mode}, synchronous={names[sync]}"


class PostgresDatabase(Database):
    name = "PostgreSQL"

    def __init__(self, url: str) -> None:
        import psycopg

        self.url, self.schema = url, f"bench_{uuid.uuid4().hex[:10]}"
        self.conn = psycopg.connect(url, autocommit=True, connect_timeout=3)

    def settings(self, snapshot_interval: int) -> Settings:
        return Settings(database_url=self.url, database_schema=self.schema,
                        snapshot_interval=snapshot_interval, _env_file=None)

    def stored_rows(self, ids: list[UUID]) -> dict[UUID, list[tuple]]:
        q = (f'SELECT originator_version, topic, state FROM "{self.schema}".shipflow_events '
             "WHERE originator_id = %s ORDER BY originator_version")
        return {i: self.conn.execute(q, (i,)).fetchall() for i in ids}

    def raw_insert(self, transactions: list[list[tuple]]) -> float:
        import psycopg

        table = f'"{self.schema}".bench_raw'
        with psycopg.connect(self.url) as c:
            c.execute(f"DROP TABLE IF EXISTS {table}")
            c.execute(f"CREATE TABLE {table} (originator_id uuid NOT NULL, originator_version "
                      "bigint NOT NULL, topic text, state bytea, notification_id bigserial, "
                      "PRIMARY KEY (originator_id, originator_version))")
            c.execute(f"CREATE UNIQUE INDEX ON {table} (notification_id)")
            c.commit()
            started = time.perf_counter()
            with c.cursor() as cur:
                for rows in transactions:
                    with c.transaction():
                        cur.executemany(f"INSERT INTO {table} (originator_id, "
                                        "originator_version, topic, state) VALUES (%s, %s, %s, "
                                        "%s)", rows)
            return time.perf_counter() - started

    def describe(self) -> str:
        show = {k: str((self.conn.execute(f"SHOW {k}").fetchone() or ("?",))[0])
                for k in ("server_version", "fsync", "synchronous_commit")}
        return (f"PostgreSQL {show['server_version'].split()[0]}, fsync={show['fsync']}, "
                f"synchronous_commit={show['synchronous_commit']}")

    def drop(self) -> None:
        self.conn.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')
        self.conn.close()


# --- the measurements ------------------------------------------------------------------------

def machine(dbs: list[Database]) -> list[str]:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text()
                  .splitlines() if line.startswith("model name")), platform.processor()) \
        if Path("/proc/cpuinfo").exists() else platform.processor()
    nproc = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return [f"{platform.system()} {platform.release()} {platform.machine()}, {model}, "
            f"nproc={nproc}", f"Python {platform.python_version()}, eventsourcing "
            f"{version('eventsourcing')}, psycopg {version('psycopg')}",
            *(db.describe() for db in dbs)]


@contextmanager
def databases(only: str | None, postgres_url: str) -> Iterator[list[Database]]:
    dbs: list[Database] = []
    with tempfile.TemporaryDirectory(prefix="shipflow-bench-") as tmp:
        if only in (None, "sqlite"):
            dbs.append(SqliteDatabase(Path(tmp)))
        if only in (None, "postgres"):
            import psycopg

            try:
                dbs.append(PostgresDatabase(postgres_url))
            except psycopg.OperationalError as e:
                reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
                console.print(f"[yellow]PostgreSQL at {postgres_url} is unreachable "
                              f"({reason}): skipping its figures.[/]")
        try:
            yield dbs
        finally:
            for db in dbs:
                if isinstance(db, PostgresDatabase):
                    db.drop()
