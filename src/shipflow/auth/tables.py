"""API keys: only a hash of each key is stored."""

from __future__ import annotations

from sqlalchemy import Column, Index, String, Table

from shipflow.database import UtcDateTime, metadata

api_keys = Table(
    "api_keys", metadata,
    Column("key_id", String(16), primary_key=True),  # the public part of the key
    Column("secret_hash", String(64), nullable=False),  # sha256 of the secret part
    Column("owner", String(200), nullable=False),  # becomes the actor of what the key does
    Column("role", String(20), nullable=False),
    Column("customer_id", String(100)),  # set for role "customer": the only customer it sees
    Column("description", String(500), nullable=False, default=""),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("revoked_at", UtcDateTime()),
    Column("revoked_by", String(200)),
    Index("ix_api_keys_owner", "owner"),
)
