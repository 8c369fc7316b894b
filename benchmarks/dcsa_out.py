"""T&T out benchmark: ``python -m benchmarks.dcsa_out`` (part of ``make bench``).

One customer with 10,000 DCSA events (100 confirmed shipments, each with its booking,
confirmation, planned departure and arrival and 96 milestones), folded into the
``tnt_events`` view; then ``GET /dcsa/tnt/v2/events`` pages of 100 are read through the API
in-process (first page, and every page following Next-Page to the end). Beside it, in the
same run, the baseline: the same page of rows read straight from the view's table with no
filter, join or JSON answer.
"""

from __future__ import annotations

import statistics
import time
from datetime import timedelta

import typer
from fastapi.testclient import TestClient
from sqlalchemy import select

from benchmarks.db import DEFAULT_PG_URL, Database, console, databases, machine
from benchmarks.views import BASE, META, _order
from shipflow.api.app import create_app
from shipflow.auth.keys import KeyStore
from shipflow.events.shipment.aggregate import Shipment
from shipflow.events.shipment.documents import CarrierConfirmation
from shipflow.events.shipment.tracking import Milestone
from shipflow.migrations import upgrade
from shipflow.projections import tnt_events
from shipflow.projections.engine.read_models import ReadModels
from shipflow.services.shipments import ShipmentService
from shipflow.store import open_store

SHIPMENTS, MILESTONES, PAGE = 100, 96, 100
CUSTOMER = "CUST-000"


def _shipment(i: int) -> Shipment:
    s = Shipment.request(_order(i * 50).model_copy(update={"customer_id": CUSTOMER}), META)
    s.review(META, [])
    s.confirm_by_carrier(CarrierConfirmation.model_validate({
        "carrier": "MAEU", "carrier_booking_no": f"BK{i:07d}",
        "vessel_voyage": {"vessel": "MAERSK ESSEN", "voyage": "248E", "imo": "9456783"},
        "etd": BASE + timedelta(days=15), "eta": BASE + timedelta(days=45)}), META)
    for j in range(MILESTONES):
        s.record_milestone(Milestone(
            kind="TRANSPORT", code="ARRI", classifier="EST", location="NLRTM",
            event_time=BASE + timedelta(days=45, hours=j)), META.model_copy(
            update={"occurred_at": BASE + timedelta(minutes=j)}))
    return s


def bench(db: Database) -> tuple[str, int, float, float, float, int]:
    settings = db.settings(50).model_copy(update={"run_workers": False})
    svc = ShipmentService(open_store(settings))
    upgrade(settings)
    for start in range(0, SHIPMENTS, 10):
        svc.store.save(*[_shipment(i) for i in range(start, start + 10)])
    rm = ReadModels(settings, svc.store)
    rm.runner().catch_up()
    with rm.engine.connect() as conn:
        t = tnt_events.active(conn)
        total = conn.execute(select(t.events.c.seq).join(
            t.shipments, t.shipments.c.shipment_id == t.events.c.shipment_id).where(
            t.shipments.c.customer_id == CUSTOMER)).all()
        started = time.perf_counter()
        for _ in range(20):
            list(conn.execute(select(t.events.c.document).order_by(
                t.events.c.created_at, t.events.c.shipment_id, t.events.c.seq).limit(PAGE)))
        baseline = (time.perf_counter() - started) / 20 * 1000
    key, _ = KeyStore(rm.engine).create("bench-customer", "customer", "bench", CUSTOMER)
    rm.close()
    with TestClient(create_app(settings, svc),
                    headers={"Authorization": f"Bearer {key}"}) as client:
        client.get("/dcsa/tnt/v2/events", params={"limit": PAGE})  # warm-up
        started = time.perf_counter()
        for _ in range(20):
            first = client.get("/dcsa/tnt/v2/events", params={"limit": PAGE})
        first_ms = (time.perf_counter() - started) / 20 * 1000
        pages, url, seen = [], "/dcsa/tnt/v2/events?limit=100", 0
        while url:
            started = time.perf_counter()
            r = client.get(url)
            pages.append((time.perf_counter() - started) * 1000)
            seen += len(r.json())
            url = r.headers.get("Next-Page")
        assert first.status_code == 200 and seen == len(total), (seen, len(total))
    svc.close()
    return (db.name, len(total), first_ms, statistics.median(pages), max(pages), len(pages),
            ) + (baseline,)  # type: ignore[return-value]


app = typer.Typer(add_completion=False, help=__doc__.split("\n\n")[0])


@app.command()
def main(only: str = typer.Option(None, "--only", help="sqlite or postgres"),
         postgres_url: str = typer.Option(DEFAULT_PG_URL)) -> None:
    """ms per page of GET /dcsa/tnt/v2/events for a customer with 10,000 events."""
    with databases(only, postgres_url) as dbs:
        rows = [bench(db) for db in dbs]
        info = machine(dbs)
    console.print("\n".join(info))
    console.print("\n| database | customer's events | first page ms | median page ms "
                  "(all pages) | slowest page ms | pages | baseline: raw page read ms |"
                  "\n|---|--:|--:|--:|--:|--:|--:|")
    for name, n, first, median, worst, pages, baseline in rows:
        console.print(f"| {name} | {n:,} | {first:.1f} | {median:.1f} | {worst:.1f} | "
                      f"{pages} | {baseline:.1f} |")


if __name__ == "__main__":
    app()
