"""Standard Webhooks signatures (https://www.standardwebhooks.com), with the
``standardwebhooks`` package's own signer: ``v1,<base64 HMAC-SHA256 of "id.timestamp.body">``.

During a secret's rotation grace period the old and the new secret both sign: the
``webhook-signature`` header lists one ``v1,…`` per secret, separated by spaces, and a
verifier accepts the message if any of them matches its secret.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook

PREFIX = "whsec_"


def new_secret() -> str:
    """A fresh secret: ``whsec_`` + base64 of 32 random bytes."""
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def signature(secret: str, msg_id: str, timestamp: int, body: str) -> str:
    return Webhook(secret).sign(msg_id, datetime.fromtimestamp(timestamp, UTC), body)


def headers(secrets_: Iterable[str], msg_id: str, timestamp: int, body: str) -> dict[str, str]:
    sigs = " ".join(signature(s, msg_id, timestamp, body) for s in secrets_)
    return {"webhook-id": msg_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": sigs, "content-type": "application/json",
            "user-agent": "shipflow-webhooks/1"}
