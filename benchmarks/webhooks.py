"""Webhook benchmark: ``python -m benchmarks.webhooks`` (part of ``make bench``).

From commit to delivered: 10 subscriptions (each to ``shipment.customer_notified``, so every
event is one message to each of them) and 10,000 events written through the application
service at a steady offered rate (default 40 events/s = 400 deliveries/s), while the
dispatcher and a sender run in threads as in ``shipflow serve``, and (``--senders``) more
sender processes as more ``shipflow worker`` processes would. A local receiver (uvicorn,
its own process) answers 200 and notes, per delivery, the time from the event's commit (its
recorded ``timestamp``) to its arrival.
Reported: p50 / p95 / max of that latency, and deliveries/s from the first commit to the
last delivery.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime

import httpx
import typer
from rich.table import Table

from benchmarks.db import DEFAULT_PG_URL, Database, console, databases, machine
from shipflow.config import Settings
from shipflow.database import make_engine
from shipflow.events.common import EventMeta
from shipflow.events.shipment.tracking import CustomerNotice
from shipflow.migrations import upgrade
from shipflow.services.shipments import ShipmentService
from shipflow.webhooks.examples import order
from shipflow.webhooks.service import WebhookService
from shipflow.webhooks.workers import webhook_threads

META = EventMeta(actor="bench", role="cs", occurred_at=datetime(2026, 11, 20, tzinfo=UTC),
                 correlation_id="bench")
ADMIN = EventMeta(actor="bench", role="admin", occurred_at=datetime(2026, 11, 20, tzinfo=UTC),
                  correlation_id="bench")


# --- the receiver (run in its own process: python -m benchmarks.webhooks receive PORT) --


def receiver_app():  # noqa: ANN201 - a raw ASGI app, as light as a receiver can be
    latencies: list[float] = []

    async def app(scope, receive, send):  # noqa: ANN001, ANN202
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if scope["method"] == "GET":  # the figures
            out = json.dumps({"latencies": latencies}).encode()
        else:
            recorded = datetime.fromisoformat(json.loads(body)["recorded_at"])
            latencies.append(time.time() - recorded.timestamp())
            out = b"ok"
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": out})

    return app


def _start_receiver(port: int) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "benchmarks.webhooks", "receive",
                             str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
            return proc
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the bench receiver did not start")


# --- the run -------------------------------------------------------------------------------


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_sender(settings: Settings) -> subprocess.Popen:
    """Another sender process (as another ``shipflow worker`` would run)."""
    env = {**os.environ, "SHIPFLOW_DATABASE_URL": settings.database_url,
           "SHIPFLOW_DATABASE_SCHEMA": settings.database_schema,
           "SHIPFLOW_WEBHOOK_ALLOWED_NETWORKS": '["127.0.0.0/8"]'}
    return subprocess.Popen([sys.executable, "-m", "benchmarks.webhooks", "send"], env=env)


def _send_forever() -> None:
    from shipflow.store import open_store
    from shipflow.webhooks.policy import Policy
    from shipflow.webhooks.sender import Sender

    settings = Settings()
    stop = threading.Event()
    Sender(open_store(settings), make_engine(settings),
           Policy.from_settings(settings, poll_s=0.05)).run(stop)


def bench(db: Database, events: int, subscriptions: int, rate: float,
          shipments: int = 100, senders: int = 1) -> dict[str, float | int | str]:
    base = db.settings(50)
    settings = Settings(database_url=base.database_url, database_schema=base.database_schema,
                        webhook_allowed_networks=["127.0.0.0/8"], _env_file=None)
    svc = ShipmentService.from_settings(settings)
    upgrade(settings)
    engine = make_engine(settings)
    port = _free_port()
    receiver = _start_receiver(port)
    stop = threading.Event()
    try:
        ids = [svc.request_booking(order(f"CUST-{i % 10}", f"PO-{i}"), META).shipment_id
               for i in range(shipments)]
        hooks = WebhookService(settings, svc.store, engine)
        for i in range(subscriptions):
            hooks.create(ADMIN, f"http://127.0.0.1:{port}/hook/{i}", "bench",
                         ["shipment.customer_notified"], None, True)
        others = [_start_sender(settings) for _ in range(senders - 1)]
        threads = [threading.Thread(target=t, args=a, name=n, daemon=True)
                   for n, t, a in webhook_threads(settings, svc.store, engine, stop)]
        for t in threads:
            t.start()
        expected = events * subscriptions
        notice = CustomerNotice(kind="STATUS_UPDATE")
        started = time.perf_counter()
        for i in range(events):
            if rate > 0:
                ahead = started + i / rate - time.perf_counter()
                if ahead > 0:
                    time.sleep(ahead)
            svc.notify_customer(ids[i % shipments], notice, META)
        written = time.perf_counter() - started
        deadline = time.monotonic() + 600
        latencies: list[float] = []
        while time.monotonic() < deadline:
            latencies = httpx.get(f"http://127.0.0.1:{port}/", timeout=30).json()["latencies"]
            if len(latencies) >= expected:
                break
            time.sleep(0.2)
        elapsed = time.perf_counter() - started
    finally:
        stop.set()
        for proc in locals().get("others", []):
            proc.terminate()
        receiver.terminate()
        receiver.wait(10)
        engine.dispose()
        svc.close()
    latencies.sort()
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return {"database": db.name, "events": events, "subscriptions": subscriptions,
            "deliveries": len(latencies), "expected": expected,
            "offered": f"{rate:g} events/s" if rate > 0 else "as fast as written",
            "write_s": written, "elapsed_s": elapsed, "per_s": len(latencies) / elapsed,
            "p50_ms": q[49] * 1000, "p95_ms": q[94] * 1000,
            "max_ms": (latencies[-1] if latencies else 0.0) * 1000}


def markdown(results: list[dict], info: list[str]) -> str:
    lines = [*(f"- {line}" for line in info), "",
             "| database | events × subscriptions | offered | deliveries | deliveries/s | "
             "p50 | p95 | max |", "|---|---|---|--:|--:|--:|--:|--:|"]
    for r in results:
        lines.append(f"| {r['database']} | {r['events']:,} × {r['subscriptions']} | "
                     f"{r['offered']} | {r['deliveries']:,} / {r['expected']:,} | "
                     f"{r['per_s']:,.0f} | {r['p50_ms']:,.0f} ms | {r['p95_ms']:,.0f} ms | "
                     f"{r['max_ms']:,.0f} ms |")
    return "\n".join(lines)


app = typer.Typer(add_completion=False, help=__doc__.split("\n\n")[0])


@app.command()
def main(
    events: int = typer.Option(10_000, "--events", "-n", min=1),
    subscriptions: int = typer.Option(10, "--subscriptions", "-s", min=1),
    rate: float = typer.Option(40.0, help="events/s offered (0: as fast as they are written)"),
    only: str = typer.Option(None, "--only", help="run one database: sqlite or postgres"),
    senders: int = typer.Option(2, min=1, help="sender processes: the in-process one and "
                                "N-1 more, as more `shipflow worker` processes would run"),
    postgres_url: str = typer.Option(
        os.environ.get("SHIPFLOW_BENCH_POSTGRES_URL")
        or os.environ.get("SHIPFLOW_TEST_POSTGRES_URL") or DEFAULT_PG_URL),
) -> None:
    """Webhook latency (commit → delivered) and throughput, on SQLite and PostgreSQL."""
    results = []
    with databases(only, postgres_url) as dbs:
        for db in dbs:
            console.print(f"{db.name}: {events:,} events × {subscriptions} subscriptions …")
            results.append(bench(db, events, subscriptions, rate, senders=senders))
        info = machine(dbs)
    table = Table("database", "deliveries", "deliveries/s", "p50", "p95", "max")
    for r in results:
        table.add_row(str(r["database"]), f"{r['deliveries']:,}/{r['expected']:,}",
                      f"{r['per_s']:,.0f}", f"{r['p50_ms']:,.0f} ms",
                      f"{r['p95_ms']:,.0f} ms", f"{r['max_ms']:,.0f} ms")
    console.print(table)
    console.print(markdown(results, info))


if __name__ == "__main__":
    if sys.argv[1:] == ["send"]:
        _send_forever()
    elif len(sys.argv) == 3 and sys.argv[1] == "receive":
        import uvicorn

        uvicorn.run(receiver_app(), host="127.0.0.1", port=int(sys.argv[2]),
                    log_level="warning", access_log=False, lifespan="off")
    else:
        app()
