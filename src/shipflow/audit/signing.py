"""The Ed25519 key that signs checkpoints (``cryptography``).

Where it comes from (:func:`load_signer`), as the webhook secret keys do
(:mod:`shipflow.webhooks.secretbox`):

- ``SHIPFLOW_AUDIT_SIGNING_KEY`` when set: the 32-byte private key as 64 hex digits
  (``shipflow audit new-key`` prints one);
- otherwise, on the embedded SQLite database, a key file beside it (``var/audit-signing-key``),
  created on first use, so ``make run`` signs with no configuration;
- otherwise (PostgreSQL) :class:`SigningKeyMissing`: production never makes up a key, and
  ``shipflow serve`` / ``shipflow worker`` refuse to start without one.

An auditor needs only the public key (``shipflow audit public-key``, or ``public_key`` in
``GET /audit/checkpoints``), which they should take from the operator out of band.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from shipflow.audit.evidence import key_id
from shipflow.config import Settings

KEY_FILE = "audit-signing-key"
MISSING = ("SHIPFLOW_AUDIT_SIGNING_KEY is not set: on PostgreSQL it is required to sign audit "
           "checkpoints (a key: `shipflow audit new-key`)")


class SigningKeyMissing(RuntimeError):
    """No key and no way to make one (PostgreSQL); the message is one line."""


class SigningKeyInvalid(ValueError):
    pass


def new_key() -> str:
    from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

    return Ed25519PrivateKey.generate().private_bytes(
        Encoding.Raw, PrivateFormat.Raw, NoEncryption()).hex()


class Signer:
    def __init__(self, private_hex: str, where: str = "SHIPFLOW_AUDIT_SIGNING_KEY") -> None:
        try:
            raw = bytes.fromhex(private_hex.strip())
            if len(raw) != 32:
                raise ValueError
            self._key = Ed25519PrivateKey.from_private_bytes(raw)
        except ValueError:
            raise SigningKeyInvalid(f"{where} is not an Ed25519 private key (64 hex digits; "
                                    "`shipflow audit new-key` makes one)") from None
        self.public_key = self._key.public_key().public_bytes(Encoding.Raw,
                                                              PublicFormat.Raw).hex()
        self.key_id = key_id(self.public_key)

    def sign(self, message: bytes) -> str:
        return self._key.sign(message).hex()


def _local_key(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: two processes starting at once agree on one key (the loser reads the file).
    with contextlib.suppress(FileExistsError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(new_key() + "\n")
    return path.read_text().strip()


def load_signer(settings: Settings) -> Signer:
    if settings.audit_signing_key is not None:
        return Signer(settings.audit_signing_key.get_secret_value())
    if settings.is_postgres:
        raise SigningKeyMissing(MISSING)
    path = settings.sqlite_path.with_name(KEY_FILE)
    return Signer(_local_key(path), str(path))
