"""View benchmarks: ``python -m benchmarks.views`` (part of ``make bench``).

1. **Rebuild**: every view rebuilt from a log of N events (default 100,000: shipments of 10
   events each), in one pass and each view alone, in events/s; printed beside a raw read of
   the same log in the same run (the rows only, and the rows decoded into events).
2. **Lag**: a writer sends commands at a steady rate while the runner follows the log as it
   does in ``shipflow serve``; the lag is the time from a command's commit to the moment the
   views have applied it (p50 / p95 / max).

The log is written by saving many shipments' aggregates per transaction (the service's
per-command commits would take minutes and are measured by ``benchmarks.commands``).
"""

from __future__ import annotations

import statistics
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from benchmarks.db import DEFAULT_PG_URL, Database, console, databases, machine
from shipflow.events.common import EventMeta, Money
from shipflow.events.shipment.aggregate import Shipment
from shipflow.events.shipment.booking import BookingOrder
from shipflow.events.shipment.charges import ChargeLine
from shipflow.events.shipment.documents import CarrierConfirmation, ShippingInstructions
from shipflow.events.shipment.tracking import CustomerNotice, Milestone
from shipflow.migrations import upgrade
from shipflow.projections.engine.read_models import ReadModels
from shipflow.services.shipments import ShipmentService
from shipflow.store import open_store

BASE = datetime(2026, 11, 20, 8, tzinfo=UTC)
META = EventMeta(actor="bench", role="cs", occurred_at=BASE, correlation_id="bench")


def _order(i: int) -> BookingOrder:
    return BookingOrder.model_validate({
        "customer_id": f"CUST-{i % 50:03d}", "booking_party": {"name": "Bench Trading"},
        "shipper": {"name": "Bench Trading"}, "consignee": {"name": "Bench Imports"},
        "sales_owner": "sales.li", "cs_owner": f"cs.{i % 7}", "business_source": "DIRECT",
        "load_type": "FCL", "carrier": "MAEU", "carrier_nominated": False,
        "requested_sailing_date": "2026-12-05", "pol": "CNSHA", "pod": "NLRTM",
        "commodity_cn": "家具", "commodity_en": "Furniture", "packages": 100,
        "gross_weight_kg": "12000", "volume_cbm": "60",
        "equipment": [{"size_type": "45G1", "count": 1}], "freight_payment_term": "PREPAID",
        "po_numbers": [f"PO-{i:06d}"], "stuffing": {"method": "SELF"},
        "customer_signature_ref": f"SO-{i}"})


def _shipment(i: int) -> Shipment:
    """One shipment's 11 events, through the aggregate's own commands."""
    s = Shipment.request(_order(i), META)
    s.review(META, [])
    s.confirm_by_carrier(CarrierConfirmation.model_validate({
        "carrier": "MAEU", "carrier_booking_no": f"BK{i:07d}",
        "vessel_voyage": {"vessel": "MAERSK ESSEN", "voyage": "248E"},
        "etd": BASE + timedelta(days=15), "eta": BASE + timedelta(days=45),
        "cutoffs": {"si": BASE + timedelta(days=12), "vgm": BASE + timedelta(days=13),
                    "cy": BASE + timedelta(days=14)}}), META)
    s.notify_customer(CustomerNotice(kind="BOOKING_CONFIRMATION"), META)
    s.submit_shipping_instructions(ShippingInstructions.model_validate({
        "containers": [{"container_no": "MSKU1234565", "size_type": "45G1", "packages": 100,
                        "cargo_weight_kg": "12000", "vgm_kg": "15900", "seals": ["S1"]}],
        "description_of_goods": "FURNITURE"}), META)
    s.add_charge(ChargeLine(direction="RECEIVABLE", code="OFR", quantity=Decimal(1),
                            unit_price=Money(amount=Decimal(1850), currency="USD"),
                            counterparty="CUST"), None, META)
    for kind, code, days in (("EQUIPMENT", "GTIN", 14), ("TRANSPORT", "DEPA", 15)):
        s.record_milestone(Milestone(kind=kind, code=code, classifier="ACT", location="CNSHA",
                                     event_time=BASE + timedelta(days=days)), META)
    s.record_milestone(Milestone(kind="TRANSPORT", code="ARRI", classifier="EST",
                                 event_time=BASE + timedelta(days=47)), META)  # + ScheduleChanged
    return s


def write_log(svc: ShipmentService, events: int, progress: Progress) -> int:
    per_shipment = len(_shipment(0).collect_events())
    shipments = max(events // per_shipment, 1)
    task = progress.add_task("writing the event log", total=shipments)
    for start in range(0, shipments, 200):
        batch = [_shipment(i) for i in range(start, min(start + 200, shipments))]
        svc.store.save(*batch)
        progress.advance(task, len(batch))
    return svc.store.recorder.max_notification_id() or 0


@dataclass
class Rebuild:
    db: str
    events: int
    raw_rows: float  # rows/s
    raw_decoded: float  # events/s
    views: dict[str, float]  # events/s; "all" = every view in one pass


@dataclass
class Lag:
    db: str
    rate: float  # commands/s offered
    p50_ms: float
    p95_ms: float
    max_ms: float


def raw_read(svc: ShipmentService, decode: bool) -> float:
    started, start, n = time.perf_counter(), 0, 0
    while batch := svc.store.recorder.select_notifications(start, 5_000,
                                                           inclusive_of_start=False):
        if decode:
            for notification in batch:
                svc.store.mapper.to_domain_event(notification)
        n, start = n + len(batch), batch[-1].id
    return n / (time.perf_counter() - started)


def bench_rebuild(db: Database, events: int, progress: Progress) -> Rebuild:
    settings = db.settings(50)
    svc = ShipmentService(open_store(settings))
    upgrade(settings)
    head = write_log(svc, events, progress)
    rm = ReadModels(settings, svc.store)
    rows, decoded = raw_read(svc, False), raw_read(svc, True)
    rates = {}
    for names in (list(rm.projections), *[[n] for n in rm.projections]):
        label = "all" if len(names) > 1 else names[0]
        task = progress.add_task(f"{db.name}: rebuilding {label}", total=head)
        started = time.perf_counter()
        rm.rebuild(names, lambda n, t=task: progress.advance(t, n), batch_size=5_000)
        rates[label] = head / (time.perf_counter() - started)
    rm.close()
    svc.close()
    return Rebuild(db.name, head, rows, decoded, rates)


def bench_lag(db: Database, rate: float, seconds: float, progress: Progress) -> Lag:
    """Commands at ``rate``/s for ``seconds``; lag from commit to every view having it."""
    settings = db.settings(50)
    svc = ShipmentService(open_store(settings))
    rm = ReadModels(settings, svc.store)
    stop, commits, seen = threading.Event(), [], []
    runner = rm.runner()
    runner_thread = threading.Thread(target=runner.run, args=(stop, svc.store.waker(), 0.2))
    runner_thread.start()

    def watch() -> None:
        while not stop.is_set():
            seen.append((time.perf_counter(), min(s.position for s in rm.status())))
            time.sleep(0.002)

    watcher = threading.Thread(target=watch)
    watcher.start()
    task = progress.add_task(f"{db.name}: lag at {rate:.0f} commands/s", total=seconds)
    started, i = time.perf_counter(), 0
    while (elapsed := time.perf_counter() - started) < seconds:
        recorded = svc.request_booking(_order(10_000_000 + i), META)
        commits.append((time.perf_counter(), recorded.position))
        i += 1
        progress.update(task, completed=min(elapsed, seconds))
        time.sleep(max(0.0, started + i / rate - time.perf_counter()))
    deadline = time.perf_counter() + 30
    while seen[-1][1] < commits[-1][1] and time.perf_counter() < deadline:
        time.sleep(0.01)
    stop.set()
    runner_thread.join()
    watcher.join()
    lags = [1000 * (next(t for t, pos in seen if pos >= p and t >= at) - at)
            for at, p in commits]
    rm.close()
    svc.close()
    q = statistics.quantiles(lags, n=20)
    return Lag(db.name, rate, statistics.median(lags), q[18], max(lags))


app = typer.Typer(add_completion=False, help=__doc__.split("\n\n")[0])


@app.command()
def main(
    events: int = typer.Option(100_000, "--events", "-n", min=100, help="log size to rebuild"),
    rate: float = typer.Option(50.0, help="commands/s offered in the lag benchmark"),
    seconds: float = typer.Option(10.0, help="how long the lag benchmark runs"),
    only: str = typer.Option(None, "--only", help="run one database: sqlite or postgres"),
    postgres_url: str = typer.Option(DEFAULT_PG_URL, help="server for the PostgreSQL figures"),
) -> None:
    """Rebuild throughput and commit-to-view lag, on SQLite and PostgreSQL."""
    with databases(only, postgres_url) as dbs:
        if not dbs:
            raise typer.Exit(1)
        rebuilds, lags = [], []
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=console) as progress:
            for db in dbs:
                rebuilds.append(bench_rebuild(db, events, progress))
                lags.append(bench_lag(db, rate, seconds, progress))
        info = machine(dbs)
    names = list(rebuilds[0].views)
    table = Table(title=f"views: rebuild from {rebuilds[0].events:,} events, and lag")
    for col in ("database", "raw rows/s", "raw events/s", *(f"rebuild {n}" for n in names),
                "lag p50 / p95 / max"):
        table.add_column(col, justify="right")
    for r, lag in zip(rebuilds, lags, strict=True):
        table.add_row(r.db, f"{r.raw_rows:,.0f}", f"{r.raw_decoded:,.0f}",
                      *(f"{r.views[n]:,.0f}" for n in names),
                      f"{lag.p50_ms:.0f} / {lag.p95_ms:.0f} / {lag.max_ms:.0f} ms "
                      f"at {lag.rate:.0f}/s")
    console.print(table)
    console.print("\n".join(info))
    console.print(f"\n| database | raw rows/s | raw events/s | "
                  f"{' | '.join(f'rebuild {n} (events/s)' for n in names)} | lag p50 / p95 / "
                  f"max |\n|---|{'--:|' * (len(names) + 3)}")
    for r, lag in zip(rebuilds, lags, strict=True):
        rates = " | ".join(f"{r.views[n]:,.0f}" for n in names)
        console.print(f"| {r.db} | {r.raw_rows:,.0f} | {r.raw_decoded:,.0f} | {rates} | "
                      f"{lag.p50_ms:.0f} / {lag.p95_ms:.0f} / {lag.max_ms:.0f} ms at "
                      f"{lag.rate:.0f} commands/s |")


if __name__ == "__main__":
    app()
