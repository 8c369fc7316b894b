"""API keys: created (shown once), looked up by their public id, verified against a stored
hash, revoked. A key is ``sfk_<key_id>_<secret>``; keys are random, so a plain SHA-256 of
the secret is enough (no password stretching needed)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, select, update

from shipflow.auth.tables import api_keys

ROLES = ("admin", "cs", "finance", "integration", "customer", "manager", "tracking", "sales",
         "monitoring", "auditor")
PREFIX = "sfk_"


@dataclass(frozen=True)
class Principal:
    """Who a request acts for: the key's owner, role and (for customers) customer."""

    key_id: str
    owner: str
    role: str
    customer_id: str | None = None

    @property
    def is_customer(self) -> bool:
        return self.role == "customer"


@dataclass(frozen=True)
class KeyInfo:
    key_id: str
    owner: str
    role: str
    customer_id: str | None
    description: str
    created_at: datetime
    created_by: str
    revoked_at: datetime | None


class ApiKeyError(ValueError):
    def __init__(self, rule: str, detail: str) -> None:
        super().__init__(detail)
        self.rule = rule
        self.detail = detail


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class KeyStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(self, owner: str, role: str, created_by: str, customer_id: str | None = None,
               description: str = "") -> tuple[str, KeyInfo]:
        """A new key; returns the key itself (shown once, never stored) and its record."""
        if role not in ROLES:
            raise ApiKeyError("role_unknown", f"role must be one of {', '.join(ROLES)}")
        if (role == "customer") != bool(customer_id):
            raise ApiKeyError("customer_scope", "a customer key names exactly one customer; "
                            "other roles name none")
        key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(24)
        info = KeyInfo(key_id, owner, role, customer_id, description, datetime.now(UTC),
                       created_by, None)
        with self.engine.begin() as conn:
            conn.execute(api_keys.insert().values(
                key_id=key_id, secret_hash=_hash(secret), owner=owner, role=role,
                customer_id=customer_id, description=description, created_at=info.created_at,
                created_by=created_by))
        return f"{PREFIX}{key_id}_{secret}", info

    def authenticate(self, key: str) -> Principal | None:
        """The principal of a valid, unrevoked key; None for anything else."""
        if not key.startswith(PREFIX) or key.count("_") < 2:
            return None
        key_id, _, secret = key[len(PREFIX):].partition("_")
        with self.engine.connect() as conn:
            row = conn.execute(select(api_keys).where(api_keys.c.key_id == key_id)).first()
        if row is None or row.revoked_at is not None:
            return None
        if not hmac.compare_digest(row.secret_hash, _hash(secret)):
            return None
        return Principal(row.key_id, row.owner, row.role, row.customer_id)

    def revoke(self, key_id: str, revoked_by: str) -> bool:
        """Revoke an active key (False: no such active key). The last active admin key is
        never revoked (``last_admin_key``): nobody could manage keys over HTTP any more."""
        t = api_keys
        with self.engine.begin() as conn:
            # Lock the active admin keys first, so two admins revoking each other at once
            # cannot both pass the count (PostgreSQL re-reads locked rows after waiting;
            # SQLite serialises writers).
            admins = conn.execute(select(t.c.key_id).where(
                t.c.role == "admin", t.c.revoked_at.is_(None)).with_for_update()).scalars().all()
            if list(admins) == [key_id]:
                raise ApiKeyError("last_admin_key", "this is the last active admin key: create "
                                  "another admin key before revoking it")
            result = conn.execute(update(t).where(
                t.c.key_id == key_id, t.c.revoked_at.is_(None)).values(
                revoked_at=datetime.now(UTC), revoked_by=revoked_by))
        return result.rowcount == 1

    def list(self, include_revoked: bool = False) -> list[KeyInfo]:
        query = select(api_keys).order_by(api_keys.c.created_at)
        if not include_revoked:
            query = query.where(api_keys.c.revoked_at.is_(None))
        with self.engine.connect() as conn:
            return [KeyInfo(r.key_id, r.owner, r.role, r.customer_id, r.description,
                            r.created_at, r.created_by, r.revoked_at)
                    for r in conn.execute(query)]
