"""The statement of account as an Excel workbook (.xlsx, openpyxl), ready to send to the
customer: one sheet per currency with the account's header, the period's summary, every
line with its running balance and totals, the open items and the aging buckets.

Amounts are written as exact decimal numbers (never through float) with the currency's
minor units as the number format. The layout is fixed (see ``LAYOUT``) so a reader, or a
test, finds each block where it expects it.
"""

from __future__ import annotations

from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill

from shipflow.events.common import minor_units
from shipflow.projections.statements.statement import BUCKETS, CurrencyStatement, Statement

LINE_HEADERS = ("Date", "Type", "Number", "Reference", "Due date", "Debit", "Credit",
                "Balance")
ITEM_HEADERS = ("Number", "Type", "Date", "Due date", "Days overdue", "Aging", "Amount",
                "Open amount")
AGING_HEADERS = ("Current", "1-30", "31-60", "61-90", "90+", "Unapplied cash", "Total")
SUMMARY = (("Opening balance", "opening_balance"), ("Invoices", "invoices"),
           ("Credit notes", "credit_notes"), ("Payments", "payments"),
           ("Bounced cheques", "bounced_cheques"), ("Closing balance", "closing_balance"))
KIND_LABELS = {"INVOICE": "Invoice", "CREDIT_NOTE": "Credit note", "PAYMENT": "Payment",
               "BOUNCED_CHEQUE": "Bounced cheque"}

#: Rows (1-based) of each block on a sheet: header rows 1-6, summary 8-13, lines from 15.
LAYOUT = {"title": 1, "summary": 8, "lines_header": 15}

_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=14)
_HEAD_FILL = PatternFill("solid", fgColor="DDE4EE")


def statement_xlsx(statement: Statement) -> bytes:
    wb = Workbook(write_only=True)
    for section in statement.currencies or []:
        _sheet(wb, statement, section)
    if not statement.currencies:
        ws = wb.create_sheet("Statement")
        ws.append(["No movements"])
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


def _sheet(wb: Workbook, st: Statement, cs: CurrencyStatement) -> None:
    ws = wb.create_sheet(cs.currency)
    for col, width in zip("ABCDEFGH", (14, 16, 24, 28, 14, 16, 16, 16), strict=True):
        ws.column_dimensions[col].width = width
    fmt = "#,##0" + ("." + "0" * minor_units(cs.currency) if minor_units(cs.currency) else "")

    def cell(value: Any, *, bold: bool = False, money: bool = False, head: bool = False,
             font: Font | None = None) -> WriteOnlyCell:
        c = WriteOnlyCell(ws, value=value)
        if bold or head:
            c.font = _BOLD
        if font is not None:
            c.font = font
        if head:
            c.fill = _HEAD_FILL
            c.alignment = Alignment(horizontal="center")
        if money:
            c.number_format = fmt
        elif hasattr(value, "isoformat"):
            c.number_format = "yyyy-mm-dd"
        return c

    hold = "ON CREDIT HOLD: " + ", ".join(st.hold_reasons) if st.on_hold else ""
    ws.append([cell("Statement of account", font=_TITLE), None, None, cell(hold, bold=True)])
    ws.append([cell("Customer", bold=True), f"{st.name} ({st.customer_id})"])
    ws.append([cell("Statement date", bold=True), cell(st.statement_date),
               cell("Period", bold=True), f"{st.period_from} – {st.period_to}"])
    ws.append([cell("Currency", bold=True), cs.currency, cell("Terms", bold=True),
               f"{st.settlement_mode}, {st.credit_term_days} days"])
    ws.append([cell("Credit limit", bold=True), cell(cs.credit_limit, money=True),
               cell("Exposure", bold=True), cell(cs.exposure, money=True),
               cell("Available credit", bold=True), cell(cs.available_credit, money=True)])
    ws.append([cell("Known as of", bold=True),
               st.as_of.isoformat() if st.as_of else "now (latest recorded)"])
    ws.append([])
    for label, attr in SUMMARY:  # rows 8-13
        last = attr == "closing_balance"
        ws.append([cell(label, bold=last), cell(getattr(cs, attr), money=True, bold=last)])
    ws.append([])
    ws.append([cell(h, head=True) for h in LINE_HEADERS])  # row 15
    for ln in cs.lines:
        ws.append([cell(ln.on), KIND_LABELS.get(ln.kind, ln.kind), ln.number, ln.reference,
                   cell(ln.due_date) if ln.due_date else None, cell(ln.debit, money=True),
                   cell(ln.credit, money=True), cell(ln.balance, money=True)])
    debit = sum((ln.debit for ln in cs.lines), cs.opening_balance * 0)
    credit = sum((ln.credit for ln in cs.lines), cs.opening_balance * 0)
    ws.append([cell("Totals", bold=True), None, None, None, None,
               cell(debit, money=True, bold=True), cell(credit, money=True, bold=True),
               cell(cs.closing_balance, money=True, bold=True)])
    ws.append([])
    ws.append([cell(f"Open items at {st.statement_date}", bold=True)])
    ws.append([cell(h, head=True) for h in ITEM_HEADERS])
    for o in cs.open_items:
        ws.append([o.number, "Invoice" if o.kind == "INVOICE" else "Unapplied payment",
                   cell(o.on), cell(o.due_date) if o.due_date else None,
                   o.days_overdue if o.kind == "INVOICE" else None,
                   o.bucket + (" (disputed)" if o.disputed else ""),
                   cell(o.amount, money=True), cell(o.open_amount, money=True)])
    ws.append([])
    ws.append([cell("Aging (days overdue)", bold=True)])
    ws.append([cell(h, head=True) for h in AGING_HEADERS])
    ws.append([*(cell(cs.aging[b], money=True) for b in BUCKETS),
               cell(-cs.unapplied_cash, money=True),  # a credit: the row adds up
               cell(cs.closing_balance, money=True, bold=True)])
