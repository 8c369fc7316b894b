"""Fixtures of the webhook tests (the harness is in ``webhook_hub``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from webhook_hub import Hub, loopback
from webhook_receiver import Receiver


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
