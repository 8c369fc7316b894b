"""The read side as one object: its database, its projections, their status and rebuilds."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from shipflow.config import Settings
from shipflow.database import make_engine
from shipflow.projections.engine import slots
from shipflow.projections.engine.base import Projection
from shipflow.projections.engine.runner import Runner
from shipflow.projections.registry import default_projections
from shipflow.store import Shipflow


@dataclass(frozen=True)
class ViewStatus:
    name: str
    active_slot: str
    position: int
    head: int

    @property
    def lag(self) -> int:
        return max(self.head - self.position, 0)


class ReadModels:
    def __init__(self, settings: Settings, store: Shipflow,
                 projections: Iterable[Projection[Any]] | None = None,
                 engine: Engine | None = None) -> None:
        self.settings = settings
        self.store = store
        self.engine = engine or make_engine(settings)
        if projections is None:
            projections = default_projections(settings)
        self.projections = {p.name: p for p in projections}

    def get(self, name: str) -> Projection[Any]:
        try:
            return self.projections[name]
        except KeyError:
            known = ", ".join(self.projections)
            raise KeyError(f"no projection {name!r}; known: {known}") from None

    def runner(self, names: Iterable[str] | None = None, **kwargs: Any) -> Runner:
        chosen = [self.get(n) for n in names] if names else list(self.projections.values())
        return Runner(self.store, self.engine, chosen, **kwargs)

    def status(self) -> list[ViewStatus]:
        head = self.store.recorder.max_notification_id() or 0
        with self.engine.begin() as conn:
            result = []
            for name in self.projections:
                slots.ensure_registered(conn, name)
                slot = slots.active_slot(conn, name)
                result.append(ViewStatus(name, slot, slots.position(conn, name, slot), head))
            return result

    def wait_for(self, position: int, names: Iterable[str], timeout_s: float) -> bool:
        """Block until every named view has applied the log up to ``position``."""
        deadline = time.monotonic() + timeout_s
        wanted = set(names)
        while True:
            behind = [s for s in self.status() if s.name in wanted and s.position < position]
            if not behind:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)

    def rebuild(self, names: str | Iterable[str], progress: Callable[[int], None] | None = None,
                batch_size: int = 2_000) -> tuple[dict[str, str], int]:
        """Build fresh copies in the inactive slots, then make them live (blue/green).

        Several views are rebuilt in one pass over the log: one read, one decode and one
        shipment fold per event, whatever the number of views."""
        chosen = [self.get(n) for n in ([names] if isinstance(names, str) else names)]
        with self.engine.begin() as conn:
            targets = {}
            for p in chosen:
                slots.ensure_registered(conn, p.name)
                targets[p.name] = slots.other_slot(slots.active_slot(conn, p.name))
                p.clear(conn, targets[p.name])
                slots.reset(conn, p.name, targets[p.name])
        runner = Runner(self.store, self.engine, chosen, target_slots=targets,
                        batch_size=batch_size)
        consumed = runner.catch_up(progress)
        with self.engine.begin() as conn:
            for name, slot in targets.items():
                slots.switch(conn, name, slot)
        return targets, consumed

    def close(self) -> None:
        self.engine.dispose()
