"""Contention benchmark: ``python -m benchmarks.contention`` (part of ``make bench``).

Eight writers add charges to **one** shipment at once, without ``If-Match``, each command
sent once (no client retry): what share succeeds, and is every write there exactly once?

- *one process*: eight threads share one service (as the API's thread pool does);
- *eight processes*: eight services with their own stores and caches on the same database
  (as eight API processes would), where only the version check orders the writers.

Goal: ≥ 95 % succeed without a client retry; no lost or doubled write.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import typer
from rich.progress import Progress
from rich.table import Table

from benchmarks.commands import _charge, _confirmation, _meta, _order
from benchmarks.db import DEFAULT_PG_URL, Database, console, databases, machine
from shipflow.events.common import ConcurrentWrite
from shipflow.services.shipments import ShipmentService
from shipflow.store import open_store

WRITERS = 8


@dataclass
class Run:
    db: str
    mode: str
    sent: int
    succeeded: int
    charges: int  # charge lines on the shipment afterwards
    seconds: float


def _race(services: list[ShipmentService], per_writer: int, sid: object) -> tuple[int, int]:
    barrier = threading.Barrier(len(services))
    ok = [0] * len(services)

    def write(i: int) -> None:
        barrier.wait()
        for k in range(per_writer):
            try:
                services[i].add_charge(sid, _charge("PAYABLE", f"{i}.{k:02d}", "MAEU"), None,
                                       _meta(1000 + k))
                ok[i] += 1
            except ConcurrentWrite:
                pass

    threads = [threading.Thread(target=write, args=(i,)) for i in range(len(services))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(services) * per_writer, sum(ok)


def bench(db: Database, per_writer: int, progress: Progress) -> list[Run]:
    runs = []
    task = progress.add_task(f"{db.name}: {WRITERS} writers, one shipment", total=2)
    for mode in ("one process", "eight processes"):
        main = ShipmentService.from_settings(db.settings(50))
        sid = main.request_booking(_order(1), _meta(0)).shipment_id
        main.review(sid, [], _meta(1))
        main.confirm_by_carrier(sid, _confirmation(1), _meta(2))
        services = ([main] * WRITERS if mode == "one process" else
                    [ShipmentService(open_store(db.settings(50), POSTGRES_POOL_SIZE=1,
                                                POSTGRES_MAX_OVERFLOW=1))
                     for _ in range(WRITERS)])
        started = time.perf_counter()
        sent, succeeded = _race(services, per_writer, sid)
        seconds = time.perf_counter() - started
        for svc in {id(s): s for s in services}.values():
            if svc is not main:
                svc.close()
        charges = len(main.get(sid).charges)  # caught up with the store first
        main.close()
        runs.append(Run(db.name, mode, sent, succeeded, charges, seconds))
        progress.advance(task)
    return runs


app = typer.Typer(add_completion=False, help=__doc__.split("\n\n")[0])


@app.command()
def main(per_writer: int = typer.Option(25, min=1, help="commands each writer sends"),
         only: str = typer.Option(None, help="sqlite or postgres"),
         postgres_url: str = typer.Option(DEFAULT_PG_URL)) -> None:
    with databases(only, postgres_url) as dbs:
        with Progress(console=console) as progress:
            runs = [r for db in dbs for r in bench(db, per_writer, progress)]
        info = machine(dbs)
    table = Table(title=f"{WRITERS} writers on one shipment (goal ≥ 95 % without a retry)")
    for col in ("db", "writers", "sent", "succeeded", "charges stored", "commands/s"):
        table.add_column(col)
    for r in runs:
        table.add_row(r.db, r.mode, str(r.sent), f"{r.succeeded / r.sent:.1%}", str(r.charges),
                      f"{r.succeeded / r.seconds:,.0f}")
    console.print(table)
    print("\n".join(f"- {line}" for line in info))
    print("\n| database | writers | sent | succeeded without a retry | charge lines stored "
          "(= succeeded: none lost or doubled) | commands/s |\n|---|---|--:|--:|--:|--:|")
    for r in runs:
        print(f"| {r.db} | {r.mode} | {r.sent} | {r.succeeded / r.sent:.1%} | {r.charges} "
              f"| {r.succeeded / r.seconds:,.0f} |")
        assert r.charges == r.succeeded, "a write was lost or doubled"


if __name__ == "__main__":
    app()
