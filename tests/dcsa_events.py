"""DCSA Track & Trace 2.2 events as a carrier sends them, valid against the specification:
for tests and benchmarks. ``label`` names an event readably; its ``eventID`` is the UUID the
label stands for (:func:`eid`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

KIND = {"DEPA": "TRANSPORT", "ARRI": "TRANSPORT"}
SHIPMENT_CODES = {"RECE", "DRFT", "PENA", "PENU", "REJE", "APPR", "ISSU", "SURR", "SUBM",
                  "VOID", "CONF", "REQS", "CMPL", "HOLD", "RELS"}


def eid(label: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"shipflow-test-event:{label}"))


def tnt_event(label: str, code: str, classifier: str, at: datetime, created: datetime,
              ref: tuple[str, str] | None = ("BKG", "BK1"), location: str = "CNSHA",
              empty: str = "LADEN", **extra: Any) -> dict[str, Any]:
    kind = KIND.get(code, "SHIPMENT" if code in SHIPMENT_CODES else "EQUIPMENT")
    body: dict[str, Any] = {
        "eventID": eid(label), "eventType": kind, "eventClassifierCode": classifier,
        f"{kind.lower()}EventTypeCode": code, "eventDateTime": at.isoformat(),
        "eventCreatedDateTime": created.isoformat()}
    call = {"transportCallID": f"{location}-248E", "modeOfTransport": "VESSEL",
            "UNLocationCode": location, "exportVoyageNumber": "248E",
            "vessel": {"vesselIMONumber": "9456783", "vesselName": "MAERSK ESSEN"}}
    if kind == "TRANSPORT":
        body["transportCall"] = call
    elif kind == "EQUIPMENT":
        body.update(emptyIndicatorCode=empty, eventLocation={"UNLocationCode": location},
                    transportCall=call)
    else:
        body.update(documentTypeCode=ref[0] if ref else "BKG",
                    documentID=ref[1] if ref else "UNKNOWN")
    if ref and kind != "SHIPMENT":
        body["documentReferences"] = [{"documentReferenceType": ref[0],
                                       "documentReferenceValue": ref[1]}]
    body.update(extra)
    return body
