"""Webhook secrets encrypted at rest: widen ``webhook_secrets.secret`` (a Fernet token is
longer than the secret) and encrypt the plaintext secrets already there.

The key comes from the settings (``SHIPFLOW_SECRET_KEYS``, or on SQLite the local key file;
see ``shipflow.webhooks.secretbox``). With no secret stored yet no key is needed, so a new
database migrates without one. Downgrading decrypts them again.

Revision ID: 0005
Revises: 0004 (and needs 0002, which made the table)
Create Date: 2026-11-24
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

from shipflow.config import Settings
from shipflow.webhooks.secretbox import SecretBox, reencrypt

revision = "0005"
down_revision = "0004"
branch_labels = None
# 0004 does not descend from 0002 (the webhook tables): without this a new database could
# run this migration before the table exists.
depends_on = ("0002",)

# The table as this migration knows it, not as the application's metadata may later be.
_secrets = sa.table("webhook_secrets", sa.column("id", sa.String), sa.column("secret", sa.Text))


def _box() -> SecretBox:
    return SecretBox.for_settings(context.config.attributes.get("settings") or Settings())


def upgrade() -> None:
    with op.batch_alter_table("webhook_secrets") as batch:
        batch.alter_column("secret", type_=sa.Text, existing_type=sa.String(100),
                           existing_nullable=False)
    conn = op.get_bind()
    if conn.execute(sa.select(sa.func.count()).select_from(_secrets)).scalar():
        reencrypt(conn, _box(), _secrets)


def downgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.select(_secrets.c.id, _secrets.c.secret)).all()
    if rows:
        box = _box()
        for row in rows:
            conn.execute(sa.update(_secrets).where(_secrets.c.id == row.id)
                         .values(secret=box.open(row.secret)))
    with op.batch_alter_table("webhook_secrets") as batch:
        batch.alter_column("secret", type_=sa.String(100), existing_type=sa.Text,
                           existing_nullable=False)
