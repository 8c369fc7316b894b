"""Statement benchmark: ``python -m benchmarks.accounts`` (part of ``make bench``).

One customer account with N invoices (default 10,000, each from its own shipment's charge)
and N payments, each applied to one invoice: 4N ledger entries, 2N statement lines. Built
through the aggregates' own commands and saved many events per transaction (the per-command
cost is ``benchmarks.commands``'s subject). Then, as medians:

- the statement view's catch-up over the account's events (runner, once);
- **statement** of the whole period from the view's SQL rows (what ``GET /statement`` does);
- the same statement **as of** the latest moment: every event of the account folded;
- the **Excel export** of that statement (openpyxl), and its size;
- one more command on the account (load from its latest snapshot, rules, append).
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from benchmarks.db import DEFAULT_PG_URL, Database, console, databases, machine
from shipflow.events.account.aggregate import CustomerAccount
from shipflow.events.account.values import (
    AccountTerms,
    Application,
    InvoiceRequest,
    PaymentAdvice,
    PaymentMethod,
)
from shipflow.events.common import EventMeta, Money
from shipflow.events.shipment.aggregate import Shipment
from shipflow.events.shipment.booking import BookingOrder
from shipflow.events.shipment.charges import ChargeLine
from shipflow.migrations import upgrade
from shipflow.projections.engine.base import fold
from shipflow.projections.engine.read_models import ReadModels
from shipflow.projections.statements import rows
from shipflow.projections.statements import tables as statement_tables
from shipflow.projections.statements.excel import statement_xlsx
from shipflow.projections.statements.projection import StatementProjection
from shipflow.services.accounts import AccountService
from shipflow.store import open_store

CUSTOMER = "CUST-BENCH"
START = date(2025, 1, 1)
META = EventMeta(actor="bench", role="finance", occurred_at=datetime(2026, 11, 20, tzinfo=UTC),
                 correlation_id="bench")
TERMS = AccountTerms.model_validate({
    "name": "Bench Trading", "bill_to": [{"code": CUSTOMER, "party": {"name": "Bench"}}],
    "currencies": ["USD"], "credit_limits": [{"amount": "999999999", "currency": "USD"}],
    "credit_term_days": 30, "settlement_mode": "PER_SHIPMENT", "collection_owner": "ar"})


def _order(i: int) -> BookingOrder:
    return BookingOrder.model_validate({
        "customer_id": CUSTOMER, "booking_party": {"name": "Bench"}, "shipper": {"name": "B"},
        "consignee": {"name": "C"}, "sales_owner": "s", "cs_owner": "cs", "pol": "CNSHA",
        "business_source": "DIRECT", "load_type": "LCL", "packages": 1,
        "gross_weight_kg": "100", "volume_cbm": "1", "po_numbers": [f"PO-{i:06d}"],
        "requested_sailing_date": "2026-12-05", "pod": "NLRTM", "commodity_cn": "家具",
        "commodity_en": "Furniture", "carrier_nominated": False,
        "freight_payment_term": "PREPAID", "stuffing": {"method": "SELF"},
        "sold_rates": [{"code": "OFR", "unit_price": {"amount": "100", "currency": "USD"}}]})


def _amount(i: int) -> Decimal:
    return Decimal(100 + (i * 7919) % 500_000) / 100  # 1.00 … 5,000.99, cents everywhere


def build(store: Any, n: int, progress: Progress, label: str) -> int:
    """The account's 1 + N invoices + 2N payment events, and N two-event shipments."""
    task = progress.add_task(f"{label}: building the account", total=2 * n)
    account = CustomerAccount.open(CUSTOMER, TERMS, META)
    pending: list[Any] = []
    for i in range(n):
        s = Shipment.request(_order(i), META)
        s.add_charge(ChargeLine(direction="RECEIVABLE", code="OFR", quantity=Decimal(1),
                                unit_price=Money(amount=_amount(i), currency="USD"),
                                counterparty=CUSTOMER), None, META)
        issued = START + timedelta(days=i * 700 // n)
        invoice = account.issue_invoice(s, InvoiceRequest(
            shipment_id=s.id, bill_to=CUSTOMER, currency="USD", issue_date=issued), META)
        s.record_invoiced(invoice.number, CUSTOMER, [1], META)
        pending.append(s)
        if len(pending) == 250:
            store.save(account, *pending)
            pending = []
            progress.advance(task, 250)
    store.save(account, *pending)
    for i in range(n):
        issued = START + timedelta(days=i * 700 // n)
        p = account.receive_payment(PaymentAdvice(
            amount=Money(amount=_amount(i), currency="USD"), bank_reference=f"BANK-{i}",
            value_date=issued + timedelta(days=20), payer="Bench",
            method=PaymentMethod.TRANSFER), META)
        paid = Application(invoice_number=f"INV-{CUSTOMER}-{i + 1:05d}", amount=p.amount)
        account.apply_payment(p.number, [paid], None, META)
        if i % 500 == 499:
            store.save(account)
    store.save(account)
    progress.advance(task, n)
    return account.version


@dataclass
class Result:
    db: str
    invoices: int
    events: int
    catch_up_s: float
    statement_ms: float
    as_of_ms: float
    excel_ms: float
    excel_kb: float
    lines: int
    command_ms: float


def _median_ms(fn: Any, runs: int) -> float:
    fn()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def bench(db: Database, n: int, runs: int, progress: Progress) -> Result:
    settings = db.settings(50)
    store = open_store(settings)
    upgrade(settings)
    events = build(store, n, progress, db.name)
    rm = ReadModels(settings, store, [StatementProjection()])
    started = time.perf_counter()
    rm.runner(batch_size=2_000).catch_up()
    catch_up = time.perf_counter() - started
    end = START + timedelta(days=800)

    def from_sql() -> Any:
        with rm.engine.connect() as conn:
            t = statement_tables.active(conn)
            account = rows.account_row(conn, t, CUSTOMER)
            assert account is not None
            return rows.statement(conn, t, account, START, end)

    svc = AccountService(store)
    st = from_sql()
    usd = st.currencies[0]
    assert usd.closing_balance == 0 and len(usd.lines) == 2 * n, "the bench account is wrong"
    assert usd.invoices == usd.payments == sum((_amount(i) for i in range(n)), Decimal(0))
    statement_ms = _median_ms(from_sql, runs)
    def as_of() -> Any:
        view: Any = fold(StatementProjection(), svc.history(CUSTOMER))[1]
        return view.statement(START, end)

    as_of_ms = _median_ms(as_of, max(3, runs // 3))
    excel = statement_xlsx(st)
    excel_ms = _median_ms(lambda: statement_xlsx(st), max(3, runs // 3))
    command_ms = _median_ms(lambda: svc.place_hold(CUSTOMER, "bench", META) and
                            svc.release_hold(CUSTOMER, "bench", META), max(3, runs // 3)) / 2
    rm.close()
    store.close()
    return Result(db.name, n, events, catch_up, statement_ms, as_of_ms, excel_ms,
                  len(excel) / 1024, len(usd.lines), command_ms)


app = typer.Typer(add_completion=False, help=__doc__.split("\n\n")[0])


@app.command()
def main(
    invoices: int = typer.Option(10_000, "--invoices", "-n", min=10,
                                 help="invoices (and as many payments) on the account"),
    only: str = typer.Option(None, "--only", help="run one database: sqlite or postgres"),
    runs: int = typer.Option(9, min=1, help="timed repetitions per median"),
    postgres_url: str = typer.Option(DEFAULT_PG_URL, help="server for the PostgreSQL figures"),
) -> None:
    """Statement of account, as-of fold and Excel export for one very large account."""
    with databases(only, postgres_url) as dbs:
        if not dbs:
            raise typer.Exit(1)
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=console) as progress:
            results = [bench(db, invoices, runs, progress) for db in dbs]
        info = machine(dbs)
    table = Table(title=f"statement of account: {invoices:,} invoices + {invoices:,} payments")
    cols = ("database", "account events", "view catch-up", "statement (SQL)", "as-of fold",
            "Excel export", "Excel size", "one more command")
    for col in cols:
        table.add_column(col, justify="right")
    md = ["| " + " | ".join(cols) + " |", "|---|" + "--:|" * (len(cols) - 1)]
    for r in results:
        cells = (r.db, f"{r.events:,}", f"{r.catch_up_s:.1f} s", f"{r.statement_ms:.0f} ms",
                 f"{r.as_of_ms:.0f} ms", f"{r.excel_ms:.0f} ms", f"{r.excel_kb:,.0f} KB",
                 f"{r.command_ms:.1f} ms")
        table.add_row(*cells)
        md.append("| " + " | ".join(cells) + " |")
    console.print(table)
    console.print("\n".join(info))
    console.print(f"\n{results[0].lines:,} statement lines per run.\n\n" + "\n".join(md))


if __name__ == "__main__":
    app()
