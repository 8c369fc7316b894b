"""Settings from ``SHIPFLOW_*`` environment variables (or a ``.env`` file).

The settings refuse what shipflow cannot serve: a database URL of another kind, a SQLite path
that reads one way and opens another, PostgreSQL URL parts the event store would drop. Each
refusal is one line (:func:`describe_error`), raised when the settings are read.
"""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit, urlunsplit

from pydantic import SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: The accepted forms, as the README's configuration table lists them.
URL_FORMS = ("sqlite:////absolute/path.db, sqlite:///./relative/path.db (or ../), or "
             "postgresql://user[:password]@host[:port]/database")
SCHEMA_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rpartition("@")[2]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc}"))


def _sqlite_url(url: str) -> str:
    rest = url.removeprefix("sqlite:///")
    if not url.startswith("sqlite:///"):
        raise ValueError(f"{url!r} is not a SQLite file URL; use {URL_FORMS}")
    if "?" in rest or "#" in rest:
        raise ValueError(f"{url!r}: query parameters are not supported in a SQLite URL")
    if ":memory:" in rest:
        raise ValueError(f"{url!r}: an in-memory database would lose every event; name a file")
    if not rest.startswith(("/", "./", "../")):
        raise ValueError(f"{url!r} is ambiguous (it reads as /{rest} but would open "
                         f"./{rest}); write sqlite:///./{rest} for a path relative to the "
                         f"working directory or sqlite:////{rest} for an absolute one")
    path = unquote(rest)
    if path.endswith("/") or Path(path).name in ("", ".", ".."):
        raise ValueError(f"{url!r} names no database file; use {URL_FORMS}")
    return url


def _postgres_url(url: str) -> str:
    parts = urlsplit(url)
    shown = redact(url)
    try:
        port = parts.port or 5432
    except ValueError:
        raise ValueError(f"{shown}: the port is not a number from 1 to 65535") from None
    if parts.query or parts.fragment:
        raise ValueError(f"{shown}: query parameters are not supported (the event store would "
                         "ignore them); set libpq variables such as PGSSLMODE in the "
                         "environment instead")
    if not parts.hostname or "%" in parts.hostname:
        raise ValueError(f"{shown}: name the server's host (a name or an IP address; Unix "
                         "sockets are not supported): postgresql://user@host:5432/database")
    database = unquote(parts.path.removeprefix("/"))
    if not database or "/" in database:
        raise ValueError(f"{shown}: name one database, as in postgresql://user@host:5432/"
                         "database")
    # Defaults made explicit, so the event store and the views connect alike.
    user = parts.username or "postgres"
    auth = user if parts.password is None else f"{user}:{parts.password}"
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return urlunsplit(("postgresql", f"{auth}@{host}:{port}", parts.path, "", ""))


class Settings(BaseSettings):
    # No input in errors: a refused URL may carry a password.
    model_config = SettingsConfigDict(env_prefix="SHIPFLOW_", env_file=".env", extra="ignore",
                                      hide_input_in_errors=True)

    #: ``sqlite:////abs/file.db`` or ``sqlite:///./relative/file.db`` (embedded default), or
    #: ``postgresql://user@host:port/db``; anything else is refused (see :data:`URL_FORMS`).
    database_url: str = "sqlite:///./var/shipflow.db"
    #: PostgreSQL schema for every table shipflow creates (tests use one schema each).
    database_schema: str = "public"
    host: str = "127.0.0.1"
    port: int = 8000
    #: JSON file with the SLA offices (calendars, hours, holidays) and timer durations;
    #: built-in defaults when unset (see docs/sla.md).
    sla_config_path: Path | None = None
    #: JSON file with each office's issuing party, document contact and terms and conditions
    #: for DCSA transport documents (docs/dcsa.md); unset: the DCSA document is refused.
    documents_config_path: Path | None = None
    #: How long an Idempotency-Key's first response is kept (seconds).
    idempotency_ttl_s: float = 24 * 3600
    #: Apply pending migrations when the API starts (no-op when up to date).
    migrate_on_start: bool = True
    #: Run the projection runner and SLA ticker inside `shipflow serve` (off: `shipflow worker`).
    run_workers: bool = True
    #: How often the SLA ticker looks for due timers (0: never).
    sla_tick_seconds: float = 30.0
    #: How long an idle runner waits before looking for events saved by other processes.
    projection_idle_wait_s: float = 1.0
    #: Take a snapshot of a shipment every N events, so long streams load fast.
    snapshot_interval: int = 50
    #: Aggregates kept in memory as last saved, for the next command on them (per process).
    aggregate_cache_size: int = 5_000
    #: Log lines of ``serve`` and ``worker``: ``json`` (one object a line) or ``text``.
    log_format: Literal["json", "text"] = "json"
    log_level: str = "INFO"
    #: Webhooks (docs/webhooks.md): run the dispatcher and sender with the other workers.
    webhook_workers: bool = True
    #: A delivery succeeds on a 2xx within this many seconds.
    webhook_timeout_s: float = 15.0
    #: Delay before each attempt (the first: 0 = at once); after the last, the delivery is dead.
    webhook_retry_schedule_s: list[float] = [0, 5, 300, 1800, 7200, 18000, 36000, 36000]
    #: Each retry delay is moved by up to ± this fraction, at random.
    webhook_retry_jitter: float = 0.2
    #: A subscription whose deliveries failed without a success for this long is disabled.
    webhook_disable_after_s: float = 5 * 24 * 3600
    #: Concurrent POSTs per sender process, and per subscription (its connection pool).
    webhook_max_concurrency: int = 64
    webhook_max_per_subscription: int = 8
    #: Networks subscription URLs may resolve into despite the SSRF guard, e.g.
    #: ``["127.0.0.0/8"]``; private, loopback and link-local addresses are refused otherwise.
    webhook_allowed_networks: list[str] = []
    #: How long a rotated-out secret keeps signing beside the new one (seconds).
    webhook_secret_grace_s: float = 24 * 3600
    #: Fernet keys that encrypt webhook secrets at rest, newest first, as a JSON list
    #: (``shipflow webhooks new-key``). Required on PostgreSQL; on SQLite, when unset, a
    #: key file is made beside the database (``var/secret-keys``). See docs/webhooks.md.
    secret_keys: list[SecretStr] = []
    #: Ed25519 private key (64 hex digits; ``shipflow audit new-key``) that signs the audit
    #: log's checkpoints. Required on PostgreSQL; on SQLite, when unset, a key file is made
    #: beside the database (``var/audit-signing-key``). See docs/audit.md.
    audit_signing_key: SecretStr | None = None
    #: Sign a checkpoint of the log after this many new events …
    audit_checkpoint_events: int = 1000
    #: … or this many seconds after the last one, when there is anything new.
    audit_checkpoint_seconds: float = 600.0
    #: Run the audit log (Merkle tree and checkpoints) with the other workers.
    audit_workers: bool = True

    @field_validator("database_url")
    @classmethod
    def _served_database(cls, url: str) -> str:
        url = url.strip()
        if url.startswith("sqlite:"):
            return _sqlite_url(url)
        if url.startswith(("postgresql://", "postgres://")):
            return _postgres_url(url)
        kind = f"{url.partition(':')[0]!r} databases are" if ":" in url else f"{url!r} is"
        raise ValueError(f"{kind} not supported; use {URL_FORMS}")

    @field_validator("database_schema")
    @classmethod
    def _schema_name(cls, schema: str) -> str:
        if not SCHEMA_NAME.fullmatch(schema):
            raise ValueError(f"{schema!r} is not a schema name shipflow uses: letters, digits "
                             "and _, not starting with a digit, at most 63")
        return schema

    @cached_property
    def is_postgres(self) -> bool:
        return self.database_url.startswith("postgresql://")

    @cached_property
    def sqlite_path(self) -> Path:
        return Path(unquote(self.database_url.removeprefix("sqlite:///")))

    @cached_property
    def database_label(self) -> str:
        """Where the data lives, for people: no password."""
        if not self.is_postgres:
            return f"SQLite {self.sqlite_path} (events in {self.event_store_path})"
        env = self.event_store_env()
        return (f"PostgreSQL at {env['POSTGRES_HOST']}:{env['POSTGRES_PORT']}, database "
                f"{env['POSTGRES_DBNAME']!r}, schema {self.database_schema!r}")

    @cached_property
    def event_store_path(self) -> Path:
        """The library's SQLite store has fixed table names, so it gets its own file."""
        p = self.sqlite_path
        return p.with_name(f"{p.stem}-events{p.suffix or '.db'}")

    def event_store_env(self) -> dict[str, str]:
        """The ``eventsourcing`` library's settings for the configured database."""
        if not self.is_postgres:
            self.event_store_path.parent.mkdir(parents=True, exist_ok=True)
            return {"PERSISTENCE_MODULE": "eventsourcing.sqlite",
                    "SQLITE_DBNAME": str(self.event_store_path),
                    "SQLITE_LOCK_TIMEOUT": "10"}
        url = urlsplit(self.database_url)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": unquote(url.path.lstrip("/")),
            "POSTGRES_HOST": url.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(url.port or 5432),
            "POSTGRES_USER": unquote(url.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(url.password or ""),
            "POSTGRES_SCHEMA": self.database_schema,
            "POSTGRES_POOL_SIZE": "10",
            "POSTGRES_CONNECT_TIMEOUT": "5",
        }


def describe_error(exc: ValidationError) -> str:
    """A settings refusal in one line: ``SHIPFLOW_DATABASE_URL: <why>``."""
    lines = []
    for error in exc.errors():
        name = "SHIPFLOW_" + "_".join(str(p) for p in error["loc"]).upper()
        lines.append(f"{name}: {error['msg'].removeprefix('Value error, ')}")
    return "; ".join(lines)
