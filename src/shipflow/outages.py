"""Database outages: which errors are one, failing fast while one lasts, and saying so.

An outage is retryable, not a bug: the API answers 503 ``database_unavailable`` (with
``Retry-After``) or 507 ``storage_full``, ``/health`` says which store is down, and the
commands print one line naming the database.

**Failing fast on PostgreSQL.** The library's connection pool (psycopg_pool) waits its whole
timeout for a connection a refused server will never give, and the library retries each read
and write ten times: one request would take ~50 s to fail, and the pool reconnects with a
growing backoff after the server is back. So the event store's datastore gets a
:class:`PostgresGate`: once a connection breaks (or none can be had), the gate is *down*;
while down, each use first tries one direct connection (a probe, a few ms when the server
refuses) and fails at once with :class:`DatabaseUnavailable` if that fails too. When a probe
succeeds the pool is replaced by a fresh one, so the service is back at once.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any, NamedTuple

import psycopg
import psycopg.errors
import sqlalchemy.exc
from eventsourcing import persistence as es
from eventsourcing.postgres import ConnectionPool, PostgresDatastore

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from shipflow.config import Settings

log = logging.getLogger("shipflow.outages")

DATABASE_UNAVAILABLE = "database_unavailable"
STORAGE_FULL = "storage_full"

# SQLite primary result codes (https://www.sqlite.org/rescode.html).
SQLITE_BUSY, SQLITE_LOCKED, SQLITE_READONLY, SQLITE_IOERR = 5, 6, 8, 10
SQLITE_FULL, SQLITE_CANTOPEN = 13, 14
_SQLITE_UNAVAILABLE = {SQLITE_BUSY, SQLITE_LOCKED, SQLITE_READONLY, SQLITE_IOERR, SQLITE_CANTOPEN}
#: When an error carries no code (one raised by hand), its message decides.
_SQLITE_MESSAGES = {"database or disk is full": SQLITE_FULL,
                    "unable to open database file": SQLITE_CANTOPEN,
                    "disk i/o error": SQLITE_IOERR,
                    "database is locked": SQLITE_BUSY,
                    "attempt to write a readonly database": SQLITE_READONLY}


class Outage(NamedTuple):
    rule: str  # database_unavailable or storage_full
    reason: str  # the driver's own words, first line


class DatabaseUnavailable(es.PersistenceError):
    """The event store's database is known to be unreachable (the gate is down).

    Not an ``OperationalError`` on purpose: the library retries those ten times, and the
    point of the gate is to answer at once."""


class DatabaseUnreachable(Exception):
    """A command's preflight could not reach the configured database (one line)."""


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0].strip() if text else type(exc).__name__


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop(0)
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        todo += [getattr(e, "orig", None), e.__cause__, e.__context__]


def _sqlite_code(e: sqlite3.Error) -> int | None:
    code = getattr(e, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF  # the primary code of an extended one
    message = str(e).lower()
    return next((c for m, c in _SQLITE_MESSAGES.items() if m in message), None)


def _is_full(e: BaseException) -> bool:
    if isinstance(e, sqlite3.Error):
        return _sqlite_code(e) == SQLITE_FULL
    return isinstance(e, psycopg.errors.DiskFull)


def _is_unavailable(e: BaseException) -> bool:
    if isinstance(e, DatabaseUnavailable):
        return True
    if isinstance(e, sqlite3.Error):
        return _sqlite_code(e) in _SQLITE_UNAVAILABLE
    if isinstance(e, psycopg.OperationalError | psycopg.InterfaceError):
        return True  # includes the pool's PoolTimeout and PoolClosed
    if isinstance(e, sqlalchemy.exc.DBAPIError) and e.connection_invalidated:
        return True
    return isinstance(e, sqlalchemy.exc.TimeoutError | sqlalchemy.exc.DisconnectionError)


def classify(exc: BaseException) -> Outage | None:
    """The outage this error is (or wraps), or None for anything else (a bug, a refusal)."""
    chain = list(_chain(exc))
    for e in chain:
        if _is_full(e):
            return Outage(STORAGE_FULL, first_line(e))
    for e in chain:
        if _is_unavailable(e):
            return Outage(DATABASE_UNAVAILABLE, first_line(e))
    drivers = (sqlite3.Error, psycopg.Error, sqlalchemy.exc.SQLAlchemyError)
    if isinstance(exc, es.OperationalError | es.InterfaceError) and not any(
            isinstance(e, drivers) for e in chain):
        return Outage(DATABASE_UNAVAILABLE, first_line(exc))  # the library's own words
    return None


# --- failing fast on PostgreSQL ----------------------------------------------------------


class PostgresGate:
    """Down once a connection of the event store's pool breaks; up again when a direct
    connection succeeds, with a fresh pool. See the module's docstring."""

    def __init__(self, datastore: PostgresDatastore, probe_timeout_s: int = 3) -> None:
        self.datastore = datastore
        self.probe_timeout_s = probe_timeout_s
        #: Why the database is unreachable, while it is known to be.
        self.down: str | None = None
        self._probing = threading.Lock()
        self.renewals = 0  # how often the pool was replaced (for tests and logs)

    @contextmanager
    def connection(self, inner: Callable[[], AbstractContextManager[Any]]) -> Iterator[Any]:
        if self.down is not None:
            self._probe()
        pool = self.datastore.pool
        conn = None
        try:
            with inner() as conn:
                yield conn
        except (es.OperationalError, es.InterfaceError) as e:
            # No connection to be had, or it broke: is the server gone? (A statement's own
            # failure, a lock timeout say, leaves the connection usable.) A failure in a pool
            # already replaced says nothing about the new one.
            broken = conn is not None and (conn.broken or conn.closed)
            if (conn is None or broken) and self.datastore.pool is pool:
                self._failed(e, broken)
            raise

    def _failed(self, e: Exception, broken: bool) -> None:
        if not self._probing.acquire(blocking=False):  # someone is finding out already
            return
        try:
            reason = self._unreachable()
            if reason is not None:
                if self.down is None:
                    log.warning("event store unreachable: %s (%s)", reason, first_line(e))
                self.down = reason
            elif broken:  # the server is up: a restart, say; its other connections died too
                self._renew_pool()
            # else: reachable and nothing broke, so the pool was only busy (a timeout)
        finally:
            self._probing.release()

    def _probe(self) -> None:
        if not self._probing.acquire(blocking=False):  # another request is probing
            raise DatabaseUnavailable(f"PostgreSQL unavailable: {self.down}")
        try:
            if self.down is None:  # it came back while we waited
                return
            reason = self._unreachable()
            if reason is not None:
                self.down = reason
                raise DatabaseUnavailable(f"PostgreSQL unavailable: {reason}")
            self._renew_pool()
            log.warning("event store reachable again; its connection pool was renewed")
            self.down = None
        finally:
            self._probing.release()

    def _unreachable(self) -> str | None:
        """None if one direct connection answers, else why not."""
        pool_kwargs: dict[str, Any] = self.datastore.pool.kwargs  # type: ignore[assignment]
        kwargs = {k: v for k, v in pool_kwargs.items()
                  if k not in ("row_factory", "connect_timeout")}
        try:
            with psycopg.connect(**kwargs, connect_timeout=self.probe_timeout_s,
                                 autocommit=True) as conn:
                conn.execute("SELECT 1")
        except psycopg.Error as e:
            return first_line(e)
        return None

    def _renew_pool(self) -> None:
        """A fresh pool like the library's own (see PostgresDatastore.__init__): the old one
        would reconnect on a backoff of minutes."""
        ds, old = self.datastore, self.datastore.pool
        ds.pool = type(old)(
            get_password_func=old.get_password_func, connection_class=old.connection_class,
            kwargs=old.kwargs, min_size=old.min_size, max_size=old.max_size, open=False,
            configure=ds.after_connect_func(), timeout=old.timeout,
            max_waiting=old.max_waiting, max_lifetime=old.max_lifetime,
            check=ConnectionPool.check_connection if ds.pre_ping else None)
        self.renewals += 1
        with contextlib.suppress(Exception):
            old.close(timeout=1.0)  # connections in use close when they are returned


class GatedPostgresDatastore(PostgresDatastore):
    gate: PostgresGate

    @contextmanager
    def get_connection(self) -> Iterator[Any]:
        with self.gate.connection(super().get_connection) as conn:
            yield conn


def gate_postgres(datastore: PostgresDatastore, connect_timeout_s: int = 5) -> PostgresGate:
    """Put a gate on the library's datastore (it builds the datastore itself, by name, so
    the instance is given the subclass)."""
    datastore.__class__ = GatedPostgresDatastore
    gate = datastore.gate = PostgresGate(datastore)  # type: ignore[attr-defined]
    # Without it, a pool worker connecting to a host that drops packets waits for minutes.
    kwargs = datastore.pool.kwargs
    if isinstance(kwargs, dict):
        kwargs.setdefault("connect_timeout", connect_timeout_s)
    return gate


# --- preflight and health ------------------------------------------------------------------


def check_reachable(settings: Settings, timeout_s: int = 5) -> None:
    """Connect once to the configured database, or raise :class:`DatabaseUnreachable` with one
    line naming host, port and database (or the SQLite file)."""
    if not settings.is_postgres:
        for path in (settings.sqlite_path, settings.event_store_path):
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise DatabaseUnreachable(f"cannot use {settings.database_label}: "
                                          f"{e.strerror}: {e.filename}") from None
        return
    env = settings.event_store_env()
    try:
        psycopg.connect(dbname=env["POSTGRES_DBNAME"], host=env["POSTGRES_HOST"],
                        port=env["POSTGRES_PORT"], user=env["POSTGRES_USER"],
                        password=env["POSTGRES_PASSWORD"] or None,
                        connect_timeout=timeout_s).close()
    except psycopg.Error as e:
        raise DatabaseUnreachable(f"cannot connect to {settings.database_label} as user "
                                  f"{env['POSTGRES_USER']!r}: {_reason(e)}") from None


def _reason(e: psycopg.Error) -> str:
    """libpq's message without the host and port it repeats: 'Connection refused'."""
    line = first_line(e)
    return line.rpartition(" failed: ")[2] or line


def event_store_problem(store: Any) -> str | None:
    """None when the event store answers a trivial query, else why not."""
    datastore = getattr(store.recorder, "datastore", None)
    try:
        if isinstance(datastore, PostgresDatastore):
            with datastore.get_connection() as conn:
                conn.execute("SELECT 1")
        elif datastore is not None:  # SQLite: read the file's schema, so the file is touched
            with datastore.transaction(commit=False) as cursor:
                cursor.execute("SELECT count(*) FROM sqlite_master")
    except Exception as e:
        return _problem("event store", e)
    return None


def read_models_problem(engine: Engine) -> str | None:
    from sqlalchemy import text

    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as e:
        return _problem("read-model database", e)
    return None


def _problem(what: str, e: Exception) -> str:
    outage = classify(e)
    log.warning("health: the %s is down: %s", what, first_line(e))
    return outage.rule if outage else "error"
