"""The statement view's tables (slots ``a`` and ``b`` like every view), on the shared
``metadata`` so Alembic (``alembic/versions/0003_accounts.py``) manages them.

Amounts are stored exactly as integers of 1/10,000 of the currency unit (``Amount``), so
sums in SQL are exact on SQLite as on PostgreSQL, and read back as ``Decimal``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Connection,
    Date,
    Index,
    Integer,
    String,
    Table,
    TypeDecorator,
)

from shipflow.database import UtcDateTime, metadata
from shipflow.projections.engine import slots

SCALE = Decimal(10_000)


class Amount(TypeDecorator[Decimal]):
    """An exact Decimal with up to 4 decimal places, stored as a scaled BIGINT."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Any) -> int | None:
        if value is None:
            return None
        scaled = Decimal(value) * SCALE
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{value} has more than 4 decimal places")
        return int(scaled)

    def process_result_value(self, value: Any, dialect: Any) -> Decimal | None:
        return None if value is None else Decimal(int(value)) / SCALE


def _accounts(slot: str) -> Table:
    return Table(
        f"ar_accounts_{slot}", metadata,
        Column("account_id", String(36), primary_key=True),
        Column("customer_id", String(100), nullable=False),
        Column("name", String(500), nullable=False),
        Column("settlement_mode", String(20), nullable=False),
        Column("credit_term_days", Integer, nullable=False),
        Column("collection_owner", String(200), nullable=False),
        Column("on_hold", Boolean, nullable=False),
        Column("hold", JSON),
        Column("release", JSON),
        Column("terms", JSON, nullable=False),
        Column("version", Integer, nullable=False),
        Column("updated_at", UtcDateTime(), nullable=False),
        Index(f"ix_ar_accounts_{slot}_customer", "customer_id", unique=True),
    )


def _entries(slot: str) -> Table:
    return Table(
        f"ar_entries_{slot}", metadata,
        Column("account_id", String(36), primary_key=True),
        Column("seq", Integer, primary_key=True),
        Column("currency", String(3), nullable=False),
        Column("entry_date", Date, nullable=False),
        Column("kind", String(20), nullable=False),
        Column("number", String(120), nullable=False),
        Column("item", String(120), nullable=False),
        Column("amount", Amount(), nullable=False),
        Column("reference", String(500), nullable=False),
    )


def _documents(slot: str) -> Table:
    """Invoices, credit notes, payments and dunning notices as they stand now."""
    return Table(
        f"ar_documents_{slot}", metadata,
        Column("account_id", String(36), primary_key=True),
        Column("number", String(120), primary_key=True),
        Column("customer_id", String(100), nullable=False),
        Column("kind", String(20), nullable=False),  # INVOICE, CREDIT_NOTE, PAYMENT, DUNNING
        Column("currency", String(3)),
        Column("doc_date", Date, nullable=False),
        Column("due_date", Date),
        Column("amount", Amount()),
        Column("open_amount", Amount()),  # invoice: still owed; payment: unapplied
        Column("status", String(20), nullable=False),
        Column("shipment_id", String(36)),
        Column("reference", String(500), nullable=False),
        Column("disputed", Boolean, nullable=False),
        Column("dunning_level", String(20)),
        Column("duplicate_of", String(120)),
        Column("document", JSON, nullable=False),
        Index(f"ix_ar_documents_{slot}_overdue", "kind", "due_date"),
        Index(f"ix_ar_documents_{slot}_status", "kind", "status"),
    )


def _commitments(slot: str) -> Table:
    return Table(
        f"ar_commitments_{slot}", metadata,
        Column("account_id", String(36), primary_key=True),
        Column("number", Integer, primary_key=True),
        Column("customer_id", String(100), nullable=False),
        Column("currency", String(3), nullable=False),
        Column("amount", Amount(), nullable=False),
        Column("promised_date", Date, nullable=False),
        Column("outcome", String(20)),
        Column("outcome_on", Date),
        Column("document", JSON, nullable=False),
        Index(f"ix_ar_commitments_{slot}_due", "outcome", "promised_date"),
    )


@dataclass(frozen=True)
class AccountTables:
    slot: str
    accounts: Table
    entries: Table
    documents: Table
    commitments: Table


NAME = "statements"

TABLES = slots.by_slot(lambda slot: AccountTables(slot, _accounts(slot), _entries(slot),
                                                  _documents(slot), _commitments(slot)))


def active(conn: Connection) -> AccountTables:
    """The live slot's tables, read on the caller's connection."""
    return TABLES[slots.active_slot(conn, NAME)]
