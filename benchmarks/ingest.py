"""Ingest benchmark: ``python -m benchmarks.ingest`` (part of ``make bench``).

A real ``shipflow serve`` (with its view runner, as in production) receives batches of 1,000
DCSA Track & Trace events over HTTP, each batch 10 estimates for each of 100 confirmed
shipments matched by carrier booking reference; every event is validated against the T&T
2.2 schema first, as always. The figure is events/s through HTTP, from the first byte sent
to the last outcome received; beside it, in the same run, the schema validation of one
batch alone (in this process), so its share of the cost is seen.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from benchmarks.db import DEFAULT_PG_URL, Database, console, databases, machine
from benchmarks.views import _shipment
from shipflow.auth.keys import KeyStore
from shipflow.database import make_engine
from shipflow.migrations import upgrade
from shipflow.services.shipments import ShipmentService
from shipflow.store import open_store

SHIPMENTS, BATCH = 100, 1_000
BASE = datetime(2026, 12, 20, 8, tzinfo=UTC)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(db: Database, workdir: Path) -> tuple[subprocess.Popen, str]:
    settings = db.settings(50)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPFLOW_")}
    env.update(SHIPFLOW_DATABASE_URL=settings.database_url,
               SHIPFLOW_DATABASE_SCHEMA=settings.database_schema,
               SHIPFLOW_SLA_TICK_SECONDS="0", SHIPFLOW_WEBHOOK_WORKERS="false")
    port = _free_port()
    proc = subprocess.Popen([str(Path(sys.executable).with_name("shipflow")), "serve", "--port",
                             str(port)], cwd=workdir, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return proc, base
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the server did not start")


def _batch(n: int) -> list[dict]:
    created = BASE + timedelta(minutes=n)
    return [{
        "eventID": str(uuid.uuid4()), "eventType": "TRANSPORT", "eventClassifierCode": "EST",
        "transportEventTypeCode": "ARRI", "eventCreatedDateTime": created.isoformat(),
        "eventDateTime": (BASE + timedelta(days=25, minutes=n * 10 + j)).isoformat(),
        "transportCall": {"transportCallID": "NLRTM-248E", "modeOfTransport": "VESSEL",
                          "UNLocationCode": "NLRTM", "exportVoyageNumber": "248E",
                          "vessel": {"vesselIMONumber": "9456783",
                                     "vesselName": "MAERSK ESSEN"}},
        "documentReferences": [{"documentReferenceType": "BKG",
                                "documentReferenceValue": f"BK{i:07d}"}]}
        for i in range(SHIPMENTS) for j in range(BATCH // SHIPMENTS)]


def bench_ingest(db: Database, batches: int, progress: Progress, workdir: Path) -> tuple:
    settings = db.settings(50)
    svc = ShipmentService(open_store(settings))
    upgrade(settings)
    svc.store.save(*[_shipment(i) for i in range(SHIPMENTS)])  # confirmed, booking BK{i}
    engine = make_engine(settings)
    key, _ = KeyStore(engine).create("bench-feed", "integration", "bench")
    proc, base = _serve(db, workdir)
    task = progress.add_task(f"{db.name}: {batches} batches of {BATCH} events", total=batches)
    counts: dict[str, int] = {}
    try:
        with httpx.Client(base_url=base, timeout=300,
                          headers={"Authorization": f"Bearer {key}"}) as client:
            client.post("/integrations/dcsa/tnt/events", json=_batch(-1))  # warm-up
            started = time.perf_counter()
            for n in range(batches):
                r = client.post("/integrations/dcsa/tnt/events", json=_batch(n))
                r.raise_for_status()
                for status, k in r.json()["counts"].items():
                    counts[status] = counts.get(status, 0) + k
                progress.advance(task)
            elapsed = time.perf_counter() - started
    finally:
        proc.terminate()
        proc.wait(30)
        engine.dispose()
        svc.close()
    return db.name, batches * BATCH / elapsed, elapsed / batches * 1000, counts


def validation_ms(batches: int) -> float:
    """The T&T schema check of one 1,000-event batch, alone (the same-run baseline)."""
    from shipflow.integrations.dcsa import schema_problem

    events = _batch(0)
    assert all(schema_problem(e) is None for e in events)  # warm-up and a check
    started = time.perf_counter()
    for n in range(batches):
        for e in _batch(n):
            schema_problem(e)
    return (time.perf_counter() - started) / batches * 1000


app = typer.Typer(add_completion=False, help=__doc__.split("\n\n")[0])


@app.command()
def main(batches: int = typer.Option(10, min=1, help="batches of 1,000 events"),
         only: str = typer.Option(None, "--only", help="sqlite or postgres"),
         postgres_url: str = typer.Option(DEFAULT_PG_URL)) -> None:
    """Events/s through HTTP for 1,000-event DCSA batches, on SQLite and PostgreSQL."""
    import tempfile

    rows = []
    with databases(only, postgres_url) as dbs, tempfile.TemporaryDirectory() as workdir:
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=console) as progress:
            rows = [bench_ingest(db, batches, progress, Path(workdir)) for db in dbs]
        info = machine(dbs)
    check_ms = validation_ms(min(batches, 5))
    table = Table(title="DCSA ingest through HTTP (1,000-event batches, schema-validated)")
    for col in ("database", "events/s", "ms per batch", "outcomes"):
        table.add_column(col, justify="right")
    for name, rate, ms, counts in rows:
        table.add_row(name, f"{rate:,.0f}", f"{ms:,.0f}",
                      ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items())))
    console.print(table)
    console.print("\n".join(info))
    console.print(f"schema validation alone: {check_ms:,.0f} ms per 1,000 events")
    console.print("\n| database | events/s | ms per batch | of which schema validation |"
                  "\n|---|--:|--:|--:|")
    for name, rate, ms, _ in rows:
        console.print(f"| {name} | {rate:,.0f} | {ms:,.0f} | {check_ms:,.0f} ms |")


if __name__ == "__main__":
    app()
