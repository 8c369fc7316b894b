"""The audit log: Merkle leaves and nodes of the event log, signed checkpoints, its state.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-10
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from shipflow.database import UtcDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_leaves",
        sa.Column("leaf_index", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("position", sa.BigInteger, nullable=False, unique=True),
        sa.Column("originator_id", sa.String(36), nullable=False),
        sa.Column("originator_version", sa.BigInteger, nullable=False),
        sa.Column("event_hash", sa.String(64), nullable=False),
        sa.Column("chained", sa.Integer, nullable=False),
    )
    op.create_index("ix_audit_leaves_stream", "audit_leaves",
                    ["originator_id", "originator_version"], unique=True)
    op.create_table(
        "audit_nodes",
        sa.Column("level", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
    )
    op.create_table(
        "audit_checkpoints",
        sa.Column("number", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("tree_size", sa.BigInteger, nullable=False),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("root", sa.String(64), nullable=False),
        sa.Column("heads_count", sa.BigInteger, nullable=False),
        sa.Column("heads_root", sa.String(64), nullable=False),
        sa.Column("chained_from", sa.BigInteger),
        sa.Column("timestamp", sa.String(40), nullable=False),
        sa.Column("key_id", sa.String(16), nullable=False),
        sa.Column("public_key", sa.String(64), nullable=False),
        sa.Column("signature", sa.String(128), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "audit_state",
        sa.Column("name", sa.String(20), primary_key=True),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("tree_size", sa.BigInteger, nullable=False),
        sa.Column("chained_from", sa.BigInteger),
        sa.Column("halted_at", sa.BigInteger),
        sa.Column("halt_reason", sa.Text),
    )


def downgrade() -> None:
    for table in ("audit_state", "audit_checkpoints", "audit_nodes", "audit_leaves"):
        op.drop_table(table)
