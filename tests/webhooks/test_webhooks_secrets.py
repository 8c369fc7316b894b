"""Signing secrets encrypted at rest (Fernet under SHIPFLOW_SECRET_KEYS, newest first):
never stored in the clear, still signing; plaintext rows from before migration 0005 still
read until re-encrypted; key rotation: a new key first, re-encrypt, drop the old one."""

from __future__ import annotations

from contextlib import closing

import pytest
from sqlalchemy import select, update

from factories import meta, order
from shipflow.config import Settings
from shipflow.webhooks.secretbox import SecretBox, SecretUnreadable, new_key, reencrypt
from shipflow.webhooks.tables import webhook_secrets
from webhook_hub import ADMIN, Hub
from webhook_receiver import Receiver

BOOKED = ["shipment.booking_requested"]


def _stored(hub: Hub) -> list[str]:
    with hub.engine.connect() as conn:
        return list(conn.execute(select(webhook_secrets.c.secret)).scalars())


def test_secrets_are_stored_encrypted_and_sign_after_decryption(hub):
    sid, first = hub.subscribe("/enc", BOOKED)
    second, _, _ = hub.hooks.rotate_secret(sid, ADMIN, grace_s=3600)
    stored = _stored(hub)
    assert len(stored) == 2 and all(s.startswith("fernet:") for s in stored)
    for secret in (first, second):
        assert not any(secret.removeprefix("whsec_") in s for s in stored)
    assert sorted(hub.hooks.box.open(s) for s in stored) == sorted([first, second])
    hub.receiver.secrets["/enc"] = [first, second]  # both must verify (grace period)
    hub.service.request_booking(order(), meta())
    assert hub.pump() == 1
    assert len(hub.receiver.on("/enc")) == 1 and hub.receiver.unverified == []


def test_a_plaintext_secret_still_signs_until_reencrypt_seals_it(hub):
    """A row as written before 0005, or by an older process during a rolling upgrade."""
    _, secret = hub.subscribe("/old", BOOKED)
    with hub.engine.begin() as conn:
        conn.execute(update(webhook_secrets).values(secret=secret))
    hub.service.request_booking(order(), meta())
    assert hub.pump() == 1
    assert len(hub.receiver.on("/old")) == 1 and hub.receiver.unverified == []
    with hub.engine.begin() as conn:
        assert reencrypt(conn, hub.hooks.box, webhook_secrets) == (1, 1)
        assert reencrypt(conn, hub.hooks.box, webhook_secrets) == (0, 1)
    [stored] = _stored(hub)
    assert stored.startswith("fernet:") and hub.hooks.box.open(stored) == secret


def _hub(base: Settings, receiver: Receiver, *keys: str) -> Hub:
    return Hub(Settings(database_url=base.database_url, database_schema=base.database_schema,
                        webhook_allowed_networks=["127.0.0.0/8"], secret_keys=list(keys),
                        _env_file=None), receiver)


def _book_and_send(hub: Hub) -> int:
    hub.service.request_booking(order(), meta())
    return hub.pump()


def test_key_rotation_add_a_key_first_reencrypt_then_drop_the_old_one(migrated, receiver):
    old, new = new_key(), new_key()
    with closing(_hub(migrated, receiver, old)) as hub:
        sid, secret = hub.subscribe("/rot", BOOKED)
    with closing(_hub(migrated, receiver, new, old)) as hub:  # 1. the new key first
        [stored] = _stored(hub)
        assert not hub.hooks.box.is_current(stored)
        assert _book_and_send(hub) == 1  # the old key still decrypts
        with hub.engine.begin() as conn:  # 2. re-encrypt: now under the new key
            assert reencrypt(conn, hub.hooks.box, webhook_secrets) == (1, 1)
        [stored] = _stored(hub)
        assert hub.hooks.box.is_current(stored)
    with closing(_hub(migrated, receiver, new)) as hub:  # 3. the old key dropped
        assert _book_and_send(hub) == 1
    assert len(receiver.on("/rot")) == 2 and receiver.unverified == []

    with closing(_hub(migrated, receiver, old)) as hub:  # a list that lost the new key
        assert _book_and_send(hub) == 1
        [delivery] = hub.hooks.deliveries(sid, "pending", 1, None)
        [attempt] = hub.hooks.delivery(delivery["id"])["attempt_log"]
        assert attempt["outcome"] == "failure" and "cannot be decrypted" in attempt["error"]
    assert len(receiver.on("/rot")) == 2  # nothing went out unsigned or wrongly signed
    with pytest.raises(SecretUnreadable):
        SecretBox([old]).open(stored)
    assert SecretBox([new]).open(stored) == secret
