"""Migrations for the read models and service tables. The event store's own tables are
created by the eventsourcing library; everything else is migrated here."""

from __future__ import annotations

from alembic import context

from shipflow.config import Settings
from shipflow.database import load_metadata, make_engine

settings: Settings = context.config.attributes.get("settings") or Settings()
metadata = load_metadata()


def _ours(name: str | None, type_: str, parent_names: dict) -> bool:
    """Compare only our tables: the event store's tables share the schema."""
    return type_ != "table" or name in metadata.tables


def run_migrations_online() -> None:
    engine = make_engine(settings)
    schema = settings.database_schema if settings.is_postgres else None
    with engine.begin() as connection:
        if schema:
            # Several API processes may start at once: one migrates, the others wait.
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(4200001)")
            connection.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        context.configure(connection=connection, target_metadata=metadata,
                          include_name=_ours, render_as_batch=not schema)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported")
run_migrations_online()
