"""Apply the Alembic migrations (read models, service tables) to the configured database."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from shipflow.config import Settings

#: The repository's alembic.ini (shipflow is installed in development mode by `make`).
ALEMBIC_INI = Path(__file__).resolve().parents[2] / "alembic.ini"


def alembic_config(settings: Settings) -> Config:
    cfg = Config(str(ALEMBIC_INI))
    cfg.attributes["settings"] = settings
    return cfg


def upgrade(settings: Settings) -> None:
    # "heads": migrations of separate features may branch from a common revision.
    command.upgrade(alembic_config(settings), "heads")
