"""The webhook threads of ``shipflow serve`` / ``shipflow worker``: dispatcher and sender.

The dispatcher sleeps on its own waker from the store, set by every save in this process
and by the PostgreSQL LISTEN thread's wake-up.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import Engine

from shipflow.config import Settings
from shipflow.store import Shipflow
from shipflow.webhooks.dispatcher import Dispatcher
from shipflow.webhooks.policy import Policy
from shipflow.webhooks.sender import Sender


def webhook_threads(settings: Settings, store: Shipflow, engine: Engine,
                    stop: threading.Event) -> list[tuple[str, Any, tuple[Any, ...]]]:
    """(name, target, args) of each thread to start."""
    sender = Sender(store, engine, Policy.from_settings(settings))
    dispatcher = Dispatcher(store, engine, on_deliveries=sender.notify)
    wake = store.waker()
    return [("webhook-dispatcher", dispatcher.run,
             (stop, wake, settings.projection_idle_wait_s)),
            ("webhook-sender", sender.run, (stop,))]
