"""Apply the Alembic migrations (read models, service tables) to the configured database, then
put the append-only guard on the event store's tables (:mod:`shipflow.append_only`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from shipflow.config import Settings

#: The repository's alembic.ini (shipflow is installed in development mode by `make`).
ALEMBIC_INI = Path(__file__).resolve().parents[2] / "alembic.ini"


def alembic_config(settings: Settings) -> Config:
    cfg = Config(str(ALEMBIC_INI))
    cfg.attributes["settings"] = settings
    return cfg


def upgrade(settings: Settings) -> list[str]:
    """Migrate (idempotent); what the append-only guard step changed, if anything."""
    from shipflow import append_only

    # "heads": migrations of separate features may branch from a common revision.
    command.upgrade(alembic_config(settings), "heads")
    return append_only.install(settings)


@dataclass(frozen=True)
class MigrationState:
    current: frozenset[str]  # the revisions the database is at (none before the first)
    heads: frozenset[str]  # the revisions this shipflow knows as the latest
    applied: frozenset[str] = frozenset()  # current and everything below it

    @property
    def up_to_date(self) -> bool:
        # A head another revision depends on is applied without being a current head.
        return self.heads <= self.applied


def migration_state(settings: Settings) -> MigrationState:
    """Where the database's migrations are, without changing anything."""
    from shipflow.database import make_engine

    script = ScriptDirectory.from_config(alembic_config(settings))
    engine = make_engine(settings)
    try:
        with engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_heads()
    finally:
        engine.dispose()
    known = set(script.revision_map._revision_map)  # noqa: SLF001 - no public "has revision"
    applied = {r.revision for r in script.revision_map.iterate_revisions(
        tuple(c for c in current if c in known), "base")}
    return MigrationState(frozenset(current), frozenset(script.get_heads()),
                          frozenset(applied))
