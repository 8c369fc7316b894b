"""Following the event log: the loop every consumer (view runner, webhook dispatcher) runs."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("shipflow.follow")


def follow(run_batch: Callable[[], int], stop: threading.Event, wake: threading.Event,
           what: str, idle_wait_s: float = 1.0, error_wait_s: float = 5.0) -> None:
    """Call ``run_batch`` until ``stop``; when it finds nothing new, sleep on ``wake`` (set
    when events are saved) for at most ``idle_wait_s``. A failing batch is logged and tried
    again after ``error_wait_s``: its transaction rolled back, so nothing is lost."""
    while not stop.is_set():
        try:
            consumed = run_batch()
        except Exception:
            log.exception("%s failed; retrying in %ss", what, error_wait_s)
            stop.wait(error_wait_s)
            continue
        if not consumed:
            wake.wait(idle_wait_s)
            wake.clear()
