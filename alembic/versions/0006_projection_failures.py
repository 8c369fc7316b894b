"""A view that cannot apply an event: the failure it stopped on (``projection_failures``) and
the events an operator skipped for it, with who and why (``projection_skips``, the dead
letters). See ``shipflow.projections.engine.failures``.

It also joins 0002 back into one line: 0005 only *depends on* 0002, which left 0002 a head
that a migrated database never records, so the commands' "migrations up to date" check (heads
0002, 0003, 0005 against the database's 0003, 0005) refused every migrated database.

Revision ID: 0006
Revises: 0005, 0002
Create Date: 2026-12-03
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from shipflow.database import UtcDateTime

revision = "0006"
down_revision = ("0005", "0002")
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "projection_failures",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("slot", sa.String(1), primary_key=True),
        sa.Column("position", sa.BigInteger, primary_key=True),
        sa.Column("stopped_at", sa.BigInteger, nullable=False),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("aggregate_id", sa.String(36), nullable=False),
        sa.Column("aggregate_version", sa.Integer, nullable=False),
        sa.Column("stage", sa.String(10), nullable=False),
        sa.Column("error_class", sa.String(200), nullable=False),
        sa.Column("error_message", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("first_failed_at", UtcDateTime(), nullable=False),
        sa.Column("failed_at", UtcDateTime(), nullable=False),
        sa.Column("retry_requested_at", UtcDateTime()),
        sa.Column("retry_requested_by", sa.String(200)),
        sa.Column("resolved_at", UtcDateTime()),
        sa.Column("resolution", sa.String(10)),
        sa.Column("resolved_by", sa.String(200)),
    )
    op.create_table(
        "projection_skips",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("position", sa.BigInteger, primary_key=True),
        sa.Column("slot", sa.String(1), nullable=False),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("aggregate_id", sa.String(36), nullable=False),
        sa.Column("aggregate_version", sa.Integer, nullable=False),
        sa.Column("error_class", sa.String(200), nullable=False),
        sa.Column("error_message", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("skipped_by", sa.String(200), nullable=False),
        sa.Column("skipped_at", UtcDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("projection_skips")
    op.drop_table("projection_failures")
