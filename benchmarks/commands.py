"""Benchmarks: ``python -m benchmarks.commands`` (``make bench``); docs/performance.md explains
them.

1. **Append**: N shipments × 10 commands each through :class:`ShipmentService`, then the very
   rows the store wrote inserted again, raw, into a scratch table of the same database (one
   transaction per shipment's rows, and once more with one per command's rows, as the service
   commits). The service ÷ raw ratio is the cost of the service over the database itself.
2. **Read as of**: one 1,000-event shipment read as it was when its 975th event was recorded,
   and when its 100th was (``ShipmentService.get_as_of``), with snapshots every 50 events and
   without; beside it the current state (``get``) and one more command on it; median ms.

SQLite runs in a temporary file; PostgreSQL in a temporary schema of the local server
(dropped after), skipped with a message when the server is unreachable.
"""

from __future__ import annotations

import os
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from stdnum import iso6346

from benchmarks.db import DEFAULT_PG_URL, Database, console, databases, machine
from shipflow.events.common import EventMeta
from shipflow.events.shipment.aggregate import Shipment
from shipflow.events.shipment.booking import Approval, BookingOrder
from shipflow.events.shipment.charges import ChargeLine
from shipflow.events.shipment.documents import BlIssue, CarrierConfirmation, ShippingInstructions
from shipflow.events.shipment.tracking import Milestone, ShipmentException
from shipflow.services.shipments import Recorded, ShipmentService
from shipflow.store import Shipflow, open_store

DEFAULT_SHIPMENTS = 600  # the whole run takes about a minute on 2 vCPUs
LONG_EVENTS, RECENT, EARLY, NO_SNAPSHOTS = 1000, 975, 100, 10**9
T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
CHINA = ZoneInfo("Asia/Shanghai")


# --- the workload ----------------------------------------------------------------------------

def _meta(minute: int) -> EventMeta:
    return EventMeta(actor="cs.bench", role="cs", occurred_at=T0 + timedelta(minutes=minute),
                     correlation_id="bench")


def _boxes(n: int, seed: int) -> list[str]:
    serials = [f"MSKU{(seed * 1000 + i) % 1_000_000:06d}" for i in range(n)]
    return [s + str(iso6346.calc_check_digit(s)) for s in serials]


def _order(boxes: int) -> BookingOrder:
    return BookingOrder.model_validate({
        "customer_id": "CUST-JLFN", "booking_party": {"name": "上海锦隆家具有限公司"},
        "shipper": {"name": "上海锦隆家具有限公司", "address": "上海市松江区沪亭北路 218 号"},
        "consignee": {"name": "Pacific Home Imports LLC", "address": "Long Beach, CA"},
        "sales_owner": "sales.li", "cs_owner": "cs.bench", "business_source": "DIRECT",
        "load_type": "FCL", "carrier": "MAEU", "carrier_nominated": False,
        "requested_sailing_date": "2026-11-12", "pol": "CNSHA", "pod": "USLAX",
        "place_of_delivery": "USLAX", "us_routing": "ALL_WATER", "commodity_cn": "木制家具",
        "commodity_en": "Wooden furniture", "hs_code": "940360", "packages": 120 * boxes,
        "package_type": "CARTONS", "gross_weight_kg": 12000 * boxes, "volume_cbm": 62 * boxes,
        "equipment": [{"size_type": "45G1", "count": boxes}], "freight_payment_term": "PREPAID",
        "incoterm": "CIF", "sold_rates": [{"code": "OFR", "size_type": "45G1", "unit_price": {
            "amount": "2350", "currency": "USD"}}], "stuffing": {"method": "SELF"},
        "customer_signature_ref": "SO-BENCH"})


def _confirmation(boxes: int) -> CarrierConfirmation:
    return CarrierConfirmation.model_validate({
        "carrier": "MAEU", "carrier_booking_no": "255000001",
        "vessel_voyage": {"vessel": "MAERSK ESSEN", "voyage": "245E"},
        "etd": T0 + timedelta(days=10), "eta": T0 + timedelta(days=25),
        "equipment": [{"size_type": "45G1", "count": boxes}]})


def _si(boxes: list[str]) -> ShippingInstructions:
    return ShippingInstructions.model_validate({"containers": [{
        "container_no": b, "size_type": "45G1", "seals": [f"ML{b[4:10]}"], "packages": 120,
        "cargo_weight_kg": 12000, "volume_cbm": 62, "vgm_kg": 15900, "vgm_method": "SM2"}
        for b in boxes], "description_of_goods": "WOODEN FURNITURE"})


def _charge(direction: str, amount: str, party: str, code: str = "OFR",
            reason: str | None = None) -> ChargeLine:
    return ChargeLine.model_validate({
        "direction": direction, "code": code, "quantity": "1", "counterparty": party,
        "unit_price": {"amount": amount, "currency": "USD"}, "reason": reason})


def ten_commands(svc: ShipmentService, order: BookingOrder, n: int) -> list[Recorded]:
    """One shipment's everyday life: request to B/L issue, ten commands (11 events)."""
    box = _boxes(1, n)
    sailed = T0 + timedelta(days=10, hours=4)
    rec = [svc.request_booking(order, _meta(0))]
    sid = rec[0].shipment_id
    rec.append(svc.review(sid, [], _meta(30)))
    rec.append(svc.confirm_by_carrier(sid, _confirmation(1), _meta(600)))
    rec.append(svc.add_charge(sid, _charge("RECEIVABLE", "2350", "CUST-JLFN"), None, _meta(610)))
    rec.append(svc.add_charge(sid, _charge("PAYABLE", "2020", "MAEU"), None, _meta(611)))
    rec.append(svc.submit_shipping_instructions(sid, _si(box), _meta(4000)))
    rec.append(svc.record_milestone(sid, Milestone(
        kind="EQUIPMENT", code="GTIN", classifier="ACT", event_time=sailed - timedelta(days=2),
        location="CNSHA", container_no=box[0]), _meta(12000)))
    rec.append(svc.approve_bl_draft(sid, Approval(by="Ms Chen", at=T0), None, _meta(13000)))
    rec.append(svc.record_milestone(sid, Milestone(  # also records ScheduleChanged
        kind="TRANSPORT", code="DEPA", classifier="ACT", event_time=sailed), _meta(14000)))
    rec.append(svc.issue_bl(sid, BlIssue(
        bl_number=f"SFLWSHA{n:08d}", shipped_on_board_date=sailed.astimezone(CHINA).date(),
        place_of_issue="CNSHA", issue_date=sailed.astimezone(CHINA).date()), _meta(14100)))
    return rec


def ten_commands_bare(app: Shipflow, order: BookingOrder, n: int) -> int:
    """The same ten commands and commits with the bare library: each command loads the
    shipment from the store (``repository.get``), calls the aggregate and saves it."""
    box = _boxes(1, n)
    sailed = T0 + timedelta(days=10, hours=4)
    s = Shipment.request(order, _meta(0))
    app.save(s)

    def do(command: Callable[[Shipment], Any]) -> None:
        shipment = app.repository.get(s.id)
        command(shipment)
        app.save(shipment)

    do(lambda x: x.review(_meta(30), []))
    do(lambda x: x.confirm_by_carrier(_confirmation(1), _meta(600)))
    do(lambda x: x.add_charge(_charge("RECEIVABLE", "2350", "CUST-JLFN"), None, _meta(610)))
    do(lambda x: x.add_charge(_charge("PAYABLE", "2020", "MAEU"), None, _meta(611)))
    do(lambda x: x.submit_shipping_instructions(_si(box), _meta(4000)))
    do(lambda x: x.record_milestone(Milestone(
        kind="EQUIPMENT", code="GTIN", classifier="ACT", event_time=sailed - timedelta(days=2),
        location="CNSHA", container_no=box[0]), _meta(12000)))
    do(lambda x: x.approve_bl_draft(Approval(by="Ms Chen", at=T0), None, _meta(13000)))
    do(lambda x: x.record_milestone(Milestone(
        kind="TRANSPORT", code="DEPA", classifier="ACT", event_time=sailed), _meta(14000)))
    do(lambda x: x.issue_bl(BlIssue(
        bl_number=f"SFLWSHA{n:08d}", shipped_on_board_date=sailed.astimezone(CHINA).date(),
        place_of_issue="CNSHA", issue_date=sailed.astimezone(CHINA).date()), _meta(14100)))
    return 10


def long_shipment(svc: ShipmentService, advance: Callable[[int], None]) -> UUID:
    """A 50-container job with a 1,000-event history: container milestones, carrier ETA
    updates (each also a ScheduleChanged), storage charges and exceptions."""
    boxes = _boxes(50, 999)
    sid = svc.request_booking(_order(50), _meta(0)).shipment_id
    svc.review(sid, [], _meta(1))
    svc.confirm_by_carrier(sid, _confirmation(50), _meta(2))
    version = svc.submit_shipping_instructions(sid, _si(boxes), _meta(3)).version
    codes, i = ("PICK", "GTIN", "LOAD", "DISC", "GTOT", "DROP"), 0
    open_exc: int | None = None
    advance(version)
    while version < LONG_EVENTS:
        m = _meta(10 + i)
        if i % 5 == 4 and LONG_EVENTS - version >= 2:
            rec = svc.record_milestone(sid, Milestone(
                kind="TRANSPORT", code="ARRI", classifier="EST",
                event_time=T0 + timedelta(days=25, minutes=i)), m)
        elif i % 7 == 6:
            rec = svc.add_charge(sid, _charge("RECEIVABLE", "85", "CUST-JLFN", "STORAGE",
                                              "terminal storage"), None, m)
        elif i % 11 == 10:
            if open_exc is None:
                rec = svc.raise_exception(sid, ShipmentException(
                    kind="HELD_BACK", description="held for documents check"), m)
                open_exc = rec.result
            else:
                rec, open_exc = svc.resolve_exception(sid, open_exc, "released", m), None
        else:
            rec = svc.record_milestone(sid, Milestone(
                kind="EQUIPMENT", code=codes[(i // 50) % 6], classifier="ACT",
                event_time=T0 + timedelta(minutes=i), location="CNSHA",
                container_no=boxes[i % 50]), m)
        advance(rec.version - version)
        version, i = rec.version, i + 1
    return sid


# --- the databases ---------------------------------------------------------------------------

@dataclass
class Append:
    db: str
    shipments: int
    commands: int
    events: int
    seconds: float
    cpu_seconds: float  # this process's CPU during the service run (SQLite: the DB's too)
    bare_seconds: float  # the same commands and commits through the bare library
    raw_per_shipment: float  # seconds, one transaction per shipment's rows
    raw_per_command: float  # seconds, one transaction per command's rows (as the service)


@dataclass
class Reads:
    db: str
    ms: dict[str, dict[str, float]]  # median ms: read -> "snapshots" / "none" -> ms


def bench_append(db: Database, shipments: int, progress: Progress) -> Append:
    svc = ShipmentService.from_settings(db.settings(50))
    order = _order(1)
    try:
        for n in range(3):  # warm-up: connections, prepared statements, imports
            ten_commands(svc, order, 900_000 + n)
        task = progress.add_task(f"{db.name}: {shipments} shipments × 10 cmds",
                                 total=shipments)
        done: list[list[Recorded]] = []
        started, cpu = time.perf_counter(), time.process_time()
        for n in range(shipments):
            done.append(ten_commands(svc, order, n))
            progress.advance(task)
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    finally:
        svc.close()
    bare = open_store(db.settings(50))  # the library alone, same database and commits
    try:
        for n in range(3):
            ten_commands_bare(bare, order, 800_000 + n)
        task = progress.add_task(f"{db.name}: bare library, same commands", total=shipments)
        started = time.perf_counter()
        for n in range(shipments):
            ten_commands_bare(bare, order, 700_000 + n)
            progress.advance(task)
        bare_seconds = time.perf_counter() - started
    finally:
        bare.close()
    rows = db.stored_rows([recs[0].shipment_id for recs in done])
    per_shipment, per_command = [], []
    for recs in done:
        sid, new_id, first = recs[0].shipment_id, uuid.uuid4(), 0
        per_shipment.append([(new_id, *row) for row in rows[sid]])
        for rec in recs:  # the rows each command wrote: versions first+1 .. rec.version
            per_command.append([(new_id, *row) for row in rows[sid][first:rec.version]])
            first = rec.version
    task = progress.add_task(f"{db.name}: raw insert, same rows", total=2)
    raw_shipment = db.raw_insert(per_shipment)
    progress.advance(task)
    raw_command = db.raw_insert(per_command)
    progress.advance(task)
    return Append(db.name, shipments, sum(len(r) for r in done),
                  sum(len(r) for r in rows.values()), seconds, cpu_seconds, bare_seconds,
                  raw_shipment, raw_command)


def _median_ms(fn: Callable[[], Any], runs: int, advance: Callable[[], None]) -> float:
    fn()  # warm-up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
        advance()
    return statistics.median(times)


def bench_reads(db: Database, runs: int, progress: Progress) -> Reads:
    ms: dict[str, dict[str, float]] = {}
    for label, interval in (("snapshots", 50), ("none", NO_SNAPSHOTS)):
        settings = db.settings(interval)
        task = progress.add_task(f"{db.name}: {LONG_EVENTS:,} events, "
                                 f"{'snapshots/50' if interval == 50 else 'no snapshots'}",
                                 total=LONG_EVENTS)
        # Built through the service with the library's aggregate cache (no copy), so building
        # takes seconds instead of replaying on every command; reads use a fresh service.
        builder = ShipmentService(open_store(settings, AGGREGATE_CACHE_MAXSIZE=10,
                                             DEEPCOPY_FROM_AGGREGATE_CACHE="n"))
        try:
            sid = long_shipment(builder, partial(progress.advance, task))
        finally:
            builder.close()
        svc = ShipmentService.from_settings(settings)
        try:
            history = svc.history(sid)
            moments = {v: history[v - 1].timestamp for v in (RECENT, EARLY)}
            assert all(svc.get_as_of(sid, at).version == v for v, at in moments.items())
            task = progress.add_task(f"{db.name}: reads × {runs}", total=4 * runs)
            step = partial(progress.advance, task)
            charge = _charge("RECEIVABLE", "85", "CUST-JLFN", "STORAGE", "terminal storage")
            reads: list[tuple[str, Callable[[], Any]]] = [
                (f"`get_as_of` event {RECENT}", partial(svc.get_as_of, sid, moments[RECENT])),
                (f"`get_as_of` event {EARLY}", partial(svc.get_as_of, sid, moments[EARLY])),
                ("`get` (current state)", partial(svc.get, sid)),
                ("one more command (`add_charge`)",
                 partial(svc.add_charge, sid, charge, None, _meta(5000)))]
            for what, fn in reads:
                ms.setdefault(what, {})[label] = _median_ms(fn, runs, step)
        finally:
            svc.close()
    return Reads(db.name, ms)


# --- the report ------------------------------------------------------------------------------

def _rate(n: float, seconds: float) -> str:
    return f"{n / seconds:,.0f}"


def markdown(appends: list[Append], reads: list[Reads], info: list[str]) -> str:
    out = [f"- {line}" for line in info] + ["", "| database | workload | service: commands/s "
           "| bare library: commands/s | **service ÷ library** (goal ≥ 1.0) "
           "| CPU ms per command (goal ≤ 0.45, SQLite) | raw rows/s, 1 tx per command "
           "| service ÷ raw, same commits |", "|---|---|--:|--:|--:|--:|--:|--:|"]
    for a in appends:
        out.append(f"| {a.db} | {a.shipments} shipments × 10 commands = {a.events:,} events "
                   f"| {_rate(a.commands, a.seconds)} | {_rate(a.commands, a.bare_seconds)} "
                   f"| **{a.bare_seconds / a.seconds:.2f}** "
                   f"| {a.cpu_seconds / a.commands * 1000:.2f} "
                   f"| {_rate(a.events, a.raw_per_command)} "
                   f"| {a.raw_per_command / a.seconds:.1%} |")
    out += ["", f"| database | on one {LONG_EVENTS:,}-event shipment | snapshots every 50 "
            "| no snapshots |", "|---|---|--:|--:|"]
    for r in reads:
        for what, figures in r.ms.items():
            out.append(f"| {r.db} | {what} | {figures['snapshots']:.1f} ms "
                       f"| {figures['none']:.1f} ms |")
    return "\n".join(out)


app = typer.Typer(add_completion=False, help=__doc__.split("\n\n")[0])


@app.command()
def main(
    shipments: int = typer.Option(DEFAULT_SHIPMENTS, "--shipments", "-n", min=1,
                                  help="shipments in the append benchmark (10 commands each)"),
    only: str = typer.Option(None, "--only", help="run one database: sqlite or postgres"),
    runs: int = typer.Option(15, min=1, help="reads per median"),
    postgres_url: str = typer.Option(
        os.environ.get("SHIPFLOW_BENCH_POSTGRES_URL")
        or os.environ.get("SHIPFLOW_TEST_POSTGRES_URL") or DEFAULT_PG_URL,
        help="server for the PostgreSQL figures (a temporary schema is used and dropped)"),
) -> None:
    """Append throughput and as-of read latency, on SQLite and PostgreSQL."""
    if only not in (None, "sqlite", "postgres"):
        raise typer.BadParameter("--only takes sqlite or postgres")
    started = time.perf_counter()
    with databases(only, postgres_url) as dbs:
        if not dbs:
            raise typer.Exit(1)
        appends, reads = [], []
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=console) as progress:
            for db in dbs:
                appends.append(bench_append(db, shipments, progress))
                reads.append(bench_reads(db, runs, progress))
        info = machine(dbs)  # after the runs: the store sets SQLite's journal mode
    table = Table(title="shipflow benchmarks")
    for col in ("db", "commands/s", "library cmd/s", "service÷library (≥1.0)",
                "CPU ms/cmd (≤0.45)", f"as-of {RECENT}, snap.", "no snap."):
        table.add_column(col, justify="left" if col == "db" else "right")
    for a, r in zip(appends, reads, strict=True):
        as_of = r.ms[f"`get_as_of` event {RECENT}"]
        table.add_row(a.db, _rate(a.commands, a.seconds), _rate(a.commands, a.bare_seconds),
                      f"{a.bare_seconds / a.seconds:.2f}",
                      f"{a.cpu_seconds / a.commands * 1000:.2f}",
                      f"{as_of['snapshots']:.0f} ms", f"{as_of['none']:.0f} ms")
    console.print(table)
    console.print(f"whole run: {time.perf_counter() - started:.0f} s. Markdown for "
                  "docs/performance.md:\n")
    print(markdown(appends, reads, info))


if __name__ == "__main__":
    app()
