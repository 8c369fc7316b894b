"""Benchmarks of the audit evidence: ``python -m benchmarks.audit`` (``make bench``);
docs/performance.md ("Audit") explains them.

1. **Chaining at save**: shipments saved through the store with the hash chain, and the same
   through the library's own event store (no chain), in the same run and database.
2. **Checkpoint at 100,000 events**: fold the whole log into the Merkle tree, then sign a
   checkpoint over it (heads tree, root, signature); then 1,000 more events and one more
   checkpoint, as the worker does in steady state.
3. **Verify the whole log** (``shipflow audit verify --all``): events/s, beside reading the
   same rows raw (parsed JSON, no hashing).
4. **Verify a 1,000-event shipment** (``GET /shipments/{id}/audit/verify``): median ms,
   beside reading its raw rows and loading the shipment.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import typer
from eventsourcing.application import Application
from pydantic import SecretStr
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from benchmarks.commands import long_shipment
from benchmarks.db import DEFAULT_PG_URL, Database, console, databases, machine
from benchmarks.views import _shipment, write_log
from shipflow.audit.raw import log_rows, stream_rows
from shipflow.audit.service import Audit
from shipflow.audit.signing import new_key
from shipflow.database import make_engine
from shipflow.migrations import upgrade
from shipflow.services.shipments import ShipmentService
from shipflow.store import Shipflow, open_store

app = typer.Typer(add_completion=False)


class Unchained(Shipflow):
    """The store without the chain: the library's own mapper and event store (baseline)."""

    def construct_mapper(self) -> Any:
        return Application.construct_mapper(self)

    def construct_event_store(self) -> Any:
        return Application.construct_event_store(self)


@dataclass
class Figures:
    db: str
    save_chained: float = 0  # events/s
    save_plain: float = 0
    events: int = 0
    fold_s: float = 0
    sign_ms: float = 0
    step_ms: float = 0  # 1,000 more events folded and one more checkpoint
    verify_all: float = 0  # events/s
    read_raw: float = 0  # events/s
    verify_one_ms: float = 0
    read_one_ms: float = 0
    load_one_ms: float = 0


def _rate(store: Shipflow, shipments: int) -> float:
    started = time.perf_counter()
    events = 0
    for start in range(0, shipments, 50):
        batch = [_shipment(100_000 + i) for i in range(start, min(start + 50, shipments))]
        events += sum(len(s.pending_events) for s in batch)
        store.save(*batch)
    return events / (time.perf_counter() - started)


def _median_ms(fn: Callable[[], Any], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def bench(db: Database, events: int, runs: int, progress: Progress) -> Figures:
    settings = db.settings(50).model_copy(update={"audit_signing_key": SecretStr(new_key())})
    svc = ShipmentService(open_store(settings))
    upgrade(settings)
    engine = make_engine(settings)
    audit = Audit(settings, svc.store, engine)
    f = Figures(db.name)
    task = progress.add_task(f"{db.name}: chaining at save", total=2)
    plain = Unchained(env=settings.event_store_env())
    f.save_plain = _rate(plain, 400)
    plain.close()
    progress.advance(task)
    f.save_chained = _rate(svc.store, 400)
    progress.advance(task)
    f.events = write_log(svc, events, progress)
    task = progress.add_task(f"{db.name}: checkpoint", total=3)
    started = time.perf_counter()
    audit.log.catch_up(batch=5000)
    f.fold_s = time.perf_counter() - started
    progress.advance(task)
    started = time.perf_counter()
    audit.checkpoint()
    f.sign_ms = (time.perf_counter() - started) * 1000
    progress.advance(task)
    svc.store.save(*[_shipment(200_000 + i) for i in range(91)])  # 1,001 events
    started = time.perf_counter()
    audit.checkpoint()
    f.step_ms = (time.perf_counter() - started) * 1000
    progress.advance(task)
    task = progress.add_task(f"{db.name}: verify the log", total=2)
    started = time.perf_counter()
    n = sum(1 for _ in log_rows(svc.store))
    f.read_raw = n / (time.perf_counter() - started)
    progress.advance(task)
    started = time.perf_counter()
    report = audit.verify_all()
    f.verify_all = report.events / (time.perf_counter() - started)
    assert report.verified, report
    progress.advance(task)
    task = progress.add_task(f"{db.name}: a 1,000-event shipment", total=1000 + 3 * runs)
    sid = long_shipment(svc, lambda k: progress.advance(task, k))
    audit.checkpoint()
    assert audit.verify(sid)["verified"]
    fresh = ShipmentService(open_store(settings))  # no warm aggregate cache
    f.verify_one_ms = _median_ms(lambda: audit.verify(sid), runs)
    progress.advance(task, runs)
    f.read_one_ms = _median_ms(lambda: stream_rows(svc.store, sid), runs)
    progress.advance(task, runs)
    f.load_one_ms = _median_ms(lambda: fresh.history(sid), runs)
    progress.advance(task, runs)
    fresh.close()
    engine.dispose()
    svc.close()
    return f


def markdown(figures: list[Figures], info: list[str]) -> str:
    lines = [
        "| database | save, chained (events/s) | save, library alone (events/s) | fold "
        "the log into the tree | sign a checkpoint | +1,000 events and sign | verify the "
        "whole log (events/s) | read it raw (events/s) | verify a 1,000-event shipment | "
        "read its raw rows | load its history |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"]
    for f in figures:
        lines.append(
            f"| {f.db} | {f.save_chained:,.0f} | {f.save_plain:,.0f} | {f.fold_s:.1f} s for "
            f"{f.events:,} ({f.events / f.fold_s:,.0f}/s) | {f.sign_ms:,.0f} ms | "
            f"{f.step_ms:,.0f} ms | {f.verify_all:,.0f} | {f.read_raw:,.0f} | "
            f"{f.verify_one_ms:,.0f} ms | {f.read_one_ms:,.1f} ms | {f.load_one_ms:,.0f} ms |")
    return "\n".join([*lines, "", *info])


@app.command()
def main(events: int = typer.Option(100_000, "--events", "-n", min=1000,
                                    help="size of the log to checkpoint and verify"),
         runs: int = typer.Option(9, help="repetitions behind each median"),
         only: str = typer.Option(None, "--only", help="run one database: sqlite or postgres"),
         postgres_url: str = typer.Option(DEFAULT_PG_URL)) -> None:
    """Chaining, checkpoints and verification, on SQLite and PostgreSQL."""
    with databases(only, postgres_url) as dbs:
        if not dbs:
            raise typer.Exit(1)
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=console) as progress:
            figures = [bench(db, events, runs, progress) for db in dbs]
        info = machine(dbs)
    console.print(markdown(figures, info), highlight=False, soft_wrap=True)


if __name__ == "__main__":
    app()
