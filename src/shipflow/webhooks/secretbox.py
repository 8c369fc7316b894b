"""Webhook signing secrets encrypted at rest, with keys that rotate.

A secret signs every message, so the sender needs it in the clear: it cannot be hashed like
an API key. It is stored encrypted with Fernet (``cryptography``: AES-128-CBC + HMAC-SHA256,
authenticated) under the keys of ``SHIPFLOW_SECRET_KEYS``, newest first, through
``MultiFernet``: the newest key encrypts, every listed key decrypts. A stored value is
``fernet:<token>``; a value that still starts with ``whsec_`` is a plaintext secret from
before migration ``0005`` (or written by an older process during a rolling upgrade) and is
read as it is until ``shipflow webhooks reencrypt`` (or the next migration) seals it.

Where the keys come from (:func:`load_keys`):

- ``SHIPFLOW_SECRET_KEYS`` when set (a JSON list of Fernet keys; ``shipflow webhooks
  new-key`` prints one).
- Otherwise, on the embedded SQLite database, a key file beside it (``var/secret-keys``, one
  key a line, newest first), created with a fresh key on first use, so ``make run`` works
  with no configuration. Whoever can read ``var/`` can read both the key and the database,
  so locally this protects copies of the database file, not the machine.
- Otherwise (PostgreSQL) :class:`SecretKeyMissing`: production never makes up a key.
  ``shipflow serve`` and ``shipflow worker`` check this before they start.

Rotation: put a new key first in the list (restart), run ``shipflow webhooks reencrypt``
(:func:`reencrypt`: every secret not yet under the newest key is re-encrypted with it),
then drop the old key.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Connection, Table, select, update

from shipflow.config import Settings

PREFIX = "fernet:"
PLAINTEXT_PREFIX = "whsec_"
KEY_FILE = "secret-keys"
MISSING = ("SHIPFLOW_SECRET_KEYS is not set: on PostgreSQL it is required to encrypt "
           "webhook secrets (a key: `shipflow webhooks new-key`)")


class SecretKeyMissing(RuntimeError):
    """No key and no way to make one (PostgreSQL); the message is one line."""


class SecretKeyInvalid(ValueError):
    pass


class SecretUnreadable(Exception):
    """A stored secret none of the keys decrypts (its key was dropped too early)."""


def new_key() -> str:
    return Fernet.generate_key().decode()


def key_file(settings: Settings) -> Path:
    return settings.sqlite_path.with_name(KEY_FILE)


def _local_keys(path: Path) -> list[str]:
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: two processes starting at once agree on one key (the loser reads the file).
    with contextlib.suppress(FileExistsError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(new_key() + "\n")
    keys = [line.strip() for line in path.read_text().splitlines() if line.strip()]
    if not keys:
        raise SecretKeyInvalid(f"{path} holds no key (one Fernet key a line, newest first)")
    return keys


def load_keys(settings: Settings) -> list[str]:
    """The keys, newest first (see the module's docstring for where they come from)."""
    configured = [k.get_secret_value().strip() for k in settings.secret_keys]
    if configured:
        return configured
    if settings.is_postgres:
        raise SecretKeyMissing(MISSING)
    return _local_keys(key_file(settings))


def _fernet(key: str, where: str) -> Fernet:
    try:
        return Fernet(key)
    except (ValueError, TypeError):
        raise SecretKeyInvalid(f"{where} is not a Fernet key (32 url-safe base64-encoded "
                               "bytes; `shipflow webhooks new-key` makes one)") from None


class SecretBox:
    """Seals and opens stored secrets. The keys are resolved on first use (so building a
    sender or a service never fails for want of a key; using it does), then kept."""

    def __init__(self, keys: Sequence[str] | Callable[[], Sequence[str]]) -> None:
        self._source = keys
        self._lock = threading.Lock()
        self._keys: tuple[Fernet, ...] | None = None

    @classmethod
    def for_settings(cls, settings: Settings) -> SecretBox:
        return cls(lambda: load_keys(settings))

    def _resolve(self) -> tuple[Fernet, ...]:
        with self._lock:
            if self._keys is None:
                keys = self._source() if callable(self._source) else self._source
                if not keys:
                    raise SecretKeyMissing("no key to encrypt webhook secrets with")
                self._keys = tuple(_fernet(k, f"secret key #{i + 1}")
                                   for i, k in enumerate(keys))
            return self._keys

    def check(self) -> None:
        """Resolve the keys now (start-up): :class:`SecretKeyMissing` / ``Invalid``."""
        self._resolve()

    @property
    def _multi(self) -> MultiFernet:
        return MultiFernet(list(self._resolve()))

    def seal(self, secret: str) -> str:
        return PREFIX + self._multi.encrypt(secret.encode()).decode()

    def open(self, stored: str) -> str:
        if stored.startswith(PLAINTEXT_PREFIX):
            return stored  # from before encryption; `webhooks reencrypt` seals it
        try:
            return self._multi.decrypt(stored.removeprefix(PREFIX).encode()).decode()
        except InvalidToken:
            raise SecretUnreadable("a webhook secret cannot be decrypted with any key of "
                                   "SHIPFLOW_SECRET_KEYS (was its key dropped?)") from None

    def is_current(self, stored: str) -> bool:
        """Sealed under the newest key (nothing to re-encrypt)?"""
        if not stored.startswith(PREFIX):
            return False
        try:
            self._resolve()[0].decrypt(stored.removeprefix(PREFIX).encode())
        except InvalidToken:
            return False
        return True

    def reseal(self, stored: str) -> str:
        """The same secret, sealed under the newest key."""
        return self.seal(self.open(stored))


def reencrypt(conn: Connection, box: SecretBox, table: Any) -> tuple[int, int]:
    """Seal every secret of ``table`` (``webhook_secrets``, or the migration's own view of
    it) that is plaintext or under an older key; returns (re-encrypted, total). Raises
    :class:`SecretUnreadable` (and changes nothing, the caller's transaction rolls back)
    when a secret's key is no longer listed."""
    t: Table = table
    rows = conn.execute(select(t.c.id, t.c.secret)).all()
    changed = 0
    for row in rows:
        if not box.is_current(row.secret):
            conn.execute(update(t).where(t.c.id == row.id).values(
                secret=box.reseal(row.secret)))
            changed += 1
    return changed, len(rows)
