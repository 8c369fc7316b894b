"""Settings from ``SHIPFLOW_*`` environment variables (or a ``.env`` file)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from urllib.parse import unquote, urlsplit

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SHIPFLOW_", env_file=".env", extra="ignore")

    #: ``sqlite:///path/to/file.db`` (embedded default) or ``postgresql://user@host:port/db``.
    database_url: str = "sqlite:///./var/shipflow.db"
    #: PostgreSQL schema for every table shipflow creates (tests use one schema each).
    database_schema: str = "public"
    host: str = "127.0.0.1"
    port: int = 8000
    #: JSON file with the SLA offices (calendars, hours, holidays) and timer durations;
    #: built-in defaults when unset (see docs/sla.md).
    sla_config_path: Path | None = None
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

    @cached_property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgresql", "postgres://"))

    @cached_property
    def sqlite_path(self) -> Path:
        return Path(unquote(urlsplit(self.database_url).path.removeprefix("/")))

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
            "POSTGRES_DBNAME": url.path.lstrip("/") or "postgres",
            "POSTGRES_HOST": url.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(url.port or 5432),
            "POSTGRES_USER": unquote(url.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(url.password or ""),
            "POSTGRES_SCHEMA": self.database_schema,
            "POSTGRES_POOL_SIZE": "10",
            "POSTGRES_CONNECT_TIMEOUT": "5",
        }
