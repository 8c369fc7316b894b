"""Accounts receivable: the statement view (accounts, ledger entries, documents,
collection commitments), in slots a and b for blue/green rebuilds.

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-23
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from shipflow.database import UtcDateTime
from shipflow.projections.statements.tables import Amount

revision = "0003"
down_revision = "0001"
branch_labels = ("accounts",)
depends_on = None

SLOTS = ("a", "b")


def upgrade() -> None:
    for s in SLOTS:
        op.create_table(
            f"ar_accounts_{s}",
            sa.Column("account_id", sa.String(36), primary_key=True),
            sa.Column("customer_id", sa.String(100), nullable=False),
            sa.Column("name", sa.String(500), nullable=False),
            sa.Column("settlement_mode", sa.String(20), nullable=False),
            sa.Column("credit_term_days", sa.Integer, nullable=False),
            sa.Column("collection_owner", sa.String(200), nullable=False),
            sa.Column("on_hold", sa.Boolean, nullable=False),
            sa.Column("hold", sa.JSON),
            sa.Column("release", sa.JSON),
            sa.Column("terms", sa.JSON, nullable=False),
            sa.Column("version", sa.Integer, nullable=False),
            sa.Column("updated_at", UtcDateTime(), nullable=False),
        )
        op.create_index(f"ix_ar_accounts_{s}_customer", f"ar_accounts_{s}", ["customer_id"],
                        unique=True)
        op.create_table(
            f"ar_entries_{s}",
            sa.Column("account_id", sa.String(36), primary_key=True),
            sa.Column("seq", sa.Integer, primary_key=True),
            sa.Column("currency", sa.String(3), nullable=False),
            sa.Column("entry_date", sa.Date, nullable=False),
            sa.Column("kind", sa.String(20), nullable=False),
            sa.Column("number", sa.String(120), nullable=False),
            sa.Column("item", sa.String(120), nullable=False),
            sa.Column("amount", Amount(), nullable=False),
            sa.Column("reference", sa.String(500), nullable=False),
        )
        op.create_table(
            f"ar_documents_{s}",
            sa.Column("account_id", sa.String(36), primary_key=True),
            sa.Column("number", sa.String(120), primary_key=True),
            sa.Column("customer_id", sa.String(100), nullable=False),
            sa.Column("kind", sa.String(20), nullable=False),
            sa.Column("currency", sa.String(3)),
            sa.Column("doc_date", sa.Date, nullable=False),
            sa.Column("due_date", sa.Date),
            sa.Column("amount", Amount()),
            sa.Column("open_amount", Amount()),
            sa.Column("status", sa.String(20), nullable=False),
            sa.Column("shipment_id", sa.String(36)),
            sa.Column("reference", sa.String(500), nullable=False),
            sa.Column("disputed", sa.Boolean, nullable=False),
            sa.Column("dunning_level", sa.String(20)),
            sa.Column("duplicate_of", sa.String(120)),
            sa.Column("document", sa.JSON, nullable=False),
        )
        op.create_index(f"ix_ar_documents_{s}_overdue", f"ar_documents_{s}",
                        ["kind", "due_date"])
        op.create_index(f"ix_ar_documents_{s}_status", f"ar_documents_{s}", ["kind", "status"])
        op.create_table(
            f"ar_commitments_{s}",
            sa.Column("account_id", sa.String(36), primary_key=True),
            sa.Column("number", sa.Integer, primary_key=True),
            sa.Column("customer_id", sa.String(100), nullable=False),
            sa.Column("currency", sa.String(3), nullable=False),
            sa.Column("amount", Amount(), nullable=False),
            sa.Column("promised_date", sa.Date, nullable=False),
            sa.Column("outcome", sa.String(20)),
            sa.Column("outcome_on", sa.Date),
            sa.Column("document", sa.JSON, nullable=False),
        )
        op.create_index(f"ix_ar_commitments_{s}_due", f"ar_commitments_{s}",
                        ["outcome", "promised_date"])


def downgrade() -> None:
    for s in SLOTS:
        for name in ("ar_commitments", "ar_documents", "ar_entries", "ar_accounts"):
            op.drop_table(f"{name}_{s}")
