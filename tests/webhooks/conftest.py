"""Fixtures of the webhook tests (the harness is in ``webhook_hub``)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from shipflow.webhooks.secretbox import new_key
from webhook_hub import Hub, loopback
from webhook_receiver import Receiver


@pytest.fixture(autouse=True)
def secret_keys(request, monkeypatch) -> None:
    """PostgreSQL needs SHIPFLOW_SECRET_KEYS, as in production; SQLite tests use the key
    file made beside their database (the ``make run`` default)."""
    if request.node.get_closest_marker("postgres"):
        monkeypatch.setenv("SHIPFLOW_SECRET_KEYS", json.dumps([new_key()]))


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


@pytest.fixture
def hub(migrated, receiver) -> Iterator[Hub]:
    h = Hub(loopback(migrated), receiver)
    yield h
    h.close()
