"""Milestones from a spreadsheet (CSV), read into the DCSA event shape so they are matched
and recorded exactly as a carrier feed is.

Columns (header row required; order free; extra columns ignored):

| column | required | meaning |
|---|---|---|
| event_id | yes | your unique id for the row (a repeat is reported as duplicate) |
| event_type | yes | EQUIPMENT, TRANSPORT or SHIPMENT |
| event_code | yes | DCSA code: GTIN, LOAD, DEPA, ARRI, DISC, GTOT, ... |
| classifier | yes | PLN, EST or ACT |
| event_time | yes | ISO 8601 with offset, e.g. 2026-12-05T18:00:00+08:00 |
| created_at | yes | when the row's information was produced (orders estimates) |
| location | no | UN/LOCODE |
| booking_reference | one of | the carrier booking number |
| transport_document_reference | these | the B/L number |
| container | three | the container number (EQUIPMENT rows) |
| vessel, voyage | no | the vessel name and voyage |
"""

from __future__ import annotations

import csv
import io
from typing import Any

REQUIRED = ("event_id", "event_type", "event_code", "classifier", "event_time", "created_at")
COLUMNS = (*REQUIRED, "location", "booking_reference", "transport_document_reference",
           "container", "vessel", "voyage")
_CODE_FIELD = {"SHIPMENT": "shipmentEventTypeCode", "TRANSPORT": "transportEventTypeCode",
               "EQUIPMENT": "equipmentEventTypeCode"}


class CsvError(ValueError):
    def __init__(self, rule: str, detail: str) -> None:
        super().__init__(detail)
        self.rule = rule
        self.detail = detail


def _dcsa(row: dict[str, str]) -> dict[str, Any]:
    v = {k: (row.get(k) or "").strip() for k in COLUMNS}
    event_type = v["event_type"].upper()
    refs = [{"documentReferenceType": kind, "documentReferenceValue": v[col]}
            for kind, col in (("BKG", "booking_reference"),
                              ("TRD", "transport_document_reference")) if v[col]]
    call: dict[str, Any] = {"UNLocationCode": v["location"] or None}
    if v["vessel"]:
        call["vessel"] = {"vesselName": v["vessel"]}
        call["carrierVoyageNumber"] = v["voyage"]
    return {
        "eventID": v["event_id"] or None, "eventType": event_type,
        _CODE_FIELD.get(event_type, "eventTypeCode"): v["event_code"].upper(),
        "eventClassifierCode": v["classifier"].upper(), "eventDateTime": v["event_time"],
        "eventCreatedDateTime": v["created_at"], "transportCall": call,
        "documentReferences": refs, "equipmentReference": v["container"] or None,
    }


def read_csv(text: str, max_rows: int) -> list[dict[str, Any]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))  # Excel writes a BOM
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise CsvError("csv_columns", f"the header lacks {', '.join(missing)} "
                       f"(columns: {', '.join(COLUMNS)})")
    reader.fieldnames = header
    rows = [_dcsa(row) for row in reader]
    if len(rows) > max_rows:
        raise CsvError("batch_too_large", f"{len(rows)} rows; send at most {max_rows}")
    return rows
