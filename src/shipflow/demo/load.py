"""Loading the demo: the planned commands of every shipment run in the order they happened,
with progress, then a summary of what the log now holds."""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime
from uuid import UUID

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from shipflow.config import Settings
from shipflow.demo.planner import DEMO_BASE, NO_ID, Job, Step, _Planner, _scenarios
from shipflow.events.common import DomainError, EventMeta
from shipflow.events.shipment.aggregate import Shipment
from shipflow.services.shipments import ShipmentService

__all__ = ["DEMO_BASE", "load_demo"]


def _run(svc: ShipmentService, j: Job, step: Step, at: datetime) -> None:
    meta = EventMeta(actor=step.actor, role=step.role, source=step.source, occurred_at=at,
                     correlation_id=j.ref)
    try:
        recorded = step.run(svc, j, meta)
    except DomainError as e:
        raise RuntimeError(f"demo shipment {j.ref} ({j.scenario.name}) refused: {e}") from e
    if j.sid == NO_ID:
        j.sid = recorded.shipment_id
    if step.key:
        j.results[step.key] = recorded.result


def load_demo(settings: Settings, shipments: int = 50, seed: int = 7, *,
              base: datetime = DEMO_BASE, console: Console | None = None) -> list[UUID]:
    """Load ``shipments`` demo shipments through the application service; their ids."""
    console = console or Console()
    rng = random.Random(seed)
    jobs = [_Planner(i, sc, rng, base).plan() for i, sc in enumerate(_scenarios(shipments, rng))]
    steps = sorted(((j.at(s.day), i, k, s) for i, j in enumerate(jobs)
                    for k, s in enumerate(j.steps)), key=lambda t: t[:3])
    svc = ShipmentService.from_settings(settings)
    try:
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TextColumn("commands"), TimeElapsedColumn(), console=console) as progress:
            task = progress.add_task(f"{shipments} demo shipments", total=len(steps))
            for at, i, _, step in steps:
                _run(svc, jobs[i], step, at)
                progress.advance(task)
        states = [svc.get(j.sid) for j in jobs]
        kinds = Counter(type(e).__name__ for j in jobs for e in svc.history(j.sid))
    finally:
        svc.close()
    _summary(console, jobs, states, kinds)
    return [j.sid for j in jobs]


def _summary(console: Console, jobs: list[Job], states: list[Shipment], kinds: Counter) -> None:
    table = Table(title=f"demo: {len(jobs)} shipments, {sum(kinds.values())} events")
    table.add_column("status")
    table.add_column("shipments", justify="right")
    table.add_column("stage reached")
    by_status: dict[str, Counter] = {}
    for j, s in zip(jobs, states, strict=True):
        by_status.setdefault(str(s.status), Counter())[j.scenario.stage.name.lower()] += 1
    for status, stages in sorted(by_status.items()):
        table.add_row(status, str(sum(stages.values())),
                      ", ".join(f"{n} {st}" for st, n in sorted(stages.items())))
    console.print(table)
    currencies = Counter(c.line.unit_price.currency for s in states for c in s.charges)
    console.print(
        f"rollovers {kinds['RolledOver']} · amendments {kinds['AmendmentRequested']} · reefers "
        f"{sum(1 for s in states if s.order.equipment[0].reefer)} · exceptions "
        f"{kinds['ExceptionRaised']} ({kinds['ExceptionResolved']} resolved) · B/Ls issued "
        f"{kinds['BlIssued']} · charge lines "
        + ", ".join(f"{n} {c}" for c, n in sorted(currencies.items())))
