"""shipflow's DCSA code lists and spec copies are the specifications' own, and what it accepts
and emits validates against the official YAMLs in ../shared/standards/dcsa (required in CI)."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from dcsa_bookings import create_booking
from dcsa_events import tnt_event
from dcsa_specs import assert_valid, shared_spec
from factories import NOW
from shipflow.demo import load_demo
from shipflow.events.shipment.tracking import CODES, EmptyIndicator, MilestoneKind, ReferenceType
from shipflow.integrations.dcsa_ebl import DcsaDocumentRefused, context_of, transport_document
from shipflow.integrations.dcsa_schema import EBL, SPECS, TNT, load_spec, spec_path
from shipflow.integrations.documents_config import load_documents_config
from shipflow.projections import bl_draft
from shipflow.projections.sla.config import DEFAULT_CONFIG
from shipflow.services.shipments import ShipmentService

ROOT = Path(__file__).resolve().parents[2]
DOCS_CONFIG = ROOT / "docs" / "examples" / "documents.json"


def test_the_packaged_specifications_are_the_shared_ones():
    for name in SPECS:
        assert spec_path(name).read_bytes() == shared_spec(name).read_bytes(), name


def test_every_code_list_is_the_specifications():
    schemas = load_spec(shared_spec(TNT))["components"]["schemas"]
    for kind, schema in ((MilestoneKind.SHIPMENT, "shipmentEventTypeCode"),
                         (MilestoneKind.TRANSPORT, "transportEventTypeCode"),
                         (MilestoneKind.EQUIPMENT, "equipmentEventTypeCode")):
        assert list(CODES[kind]) == schemas[schema]["enum"], schema
    assert [e.value for e in EmptyIndicator] == schemas["emptyIndicatorCode"]["enum"]
    assert [r.value for r in ReferenceType] == schemas["referenceType"]["enum"]


def test_the_events_the_tests_send_are_valid_tnt_events():
    for code in ("DEPA", "ARRI", "GTIN", "INSP", "RSEA", "RMVD", "PICK", "REQS", "CMPL"):
        e = tnt_event(f"spec-{code}", code, "ACT", NOW, NOW, ("BKG", "BK1"))
        assert_valid(TNT, f"{e['eventType'].lower()}Event", e, code)


def test_the_booking_the_tests_send_is_a_valid_create_booking():
    assert_valid("BKG_v2.0.5.yaml", "CreateBooking", create_booking())


def test_every_demo_shipment_at_every_draft_version_is_a_valid_ebl_document(sqlite_settings):
    """Each version from the shipping instructions on is a valid eBL 3.0 TransportDocument;
    before them DCSA has no transport document, and the refusal says exactly that."""
    ids = load_demo(sqlite_settings, 50, console=Console(file=io.StringIO()))
    svc = ShipmentService.from_settings(sqlite_settings)
    docs = load_documents_config(DOCS_CONFIG)
    valid = refused = 0
    try:
        for sid in ids:
            view = bl_draft.as_of(svc.history(sid))
            assert view is not None
            for v in view.versions:
                current = v.version == view.version
                s = svc.get(sid) if current else svc.get(sid, version=v.event_version)
                status = view.status if current else "DRAFT"
                try:
                    document = transport_document(v.document, context_of(
                        s, status, DEFAULT_CONFIG, docs))
                except DcsaDocumentRefused as e:
                    rules = [x.rule for x in e.violations]
                    assert rules == ["dcsa_needs_shipping_instructions"], e  # noqa: PT017
                    assert s.shipping_instructions is None
                    refused += 1
                    continue
                assert_valid(EBL, "TransportDocument", document, f"{sid} v{v.version}")
                assert all(len(line) <= 35 for p in document["documentParties"].values()
                           if isinstance(p, dict) for line in p.get("displayedAddress", []))
                valid += 1
    finally:
        svc.close()
    assert valid >= 40 and refused >= 50
