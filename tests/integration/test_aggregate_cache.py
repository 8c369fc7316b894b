"""The aggregate cache of the commit loop, on SQLite and PostgreSQL: what a command is given
is what was saved — never a state a refused command half-changed, never one another process
has moved past without the loop noticing."""

from __future__ import annotations

from datetime import date

import pytest

from ar_factories import CUSTOMER, USUAL, cs, fin, invoice_request, job, terms
from factories import confirmation, meta, order
from shipflow.events.account.values import ChargeAdjustment, RebillRequest
from shipflow.events.common import InvalidTransition, VersionConflict
from shipflow.services.accounts import AccountService
from shipflow.services.shipments import ShipmentService
from shipflow.store import open_store


@pytest.fixture
def svc(migrated):
    service = ShipmentService.from_settings(migrated)
    yield service
    service.close()


@pytest.fixture
def elsewhere(migrated):
    """Another process's service: its own store, connections and cache."""
    service = ShipmentService(open_store(migrated, POSTGRES_POOL_SIZE=2))
    yield service
    service.close()


def test_a_command_refused_halfway_leaves_the_cached_shipment_as_saved(svc):
    ar = AccountService(svc.store, cache=svc.cache)
    ar.open_account(CUSTOMER, terms(), fin())
    sid = job(svc, USUAL)
    invoice = ar.issue_invoice(CUSTOMER, invoice_request(sid, CUSTOMER, "USD",
                                                         issue_date=date(2026, 11, 2)),
                               cs()).result
    # The re-bill releases the charge from its invoice, then its adjustment changes nothing:
    # refused, nothing saved — and the release must not linger in the cached shipment.
    with pytest.raises(InvalidTransition, match="changes nothing"):
        ar.rebill(CUSTOMER, invoice.number, RebillRequest(reason="no-op", adjustments=[
            ChargeAdjustment(charge_number=1, reason="same price")]), fin())
    assert svc.get(sid).charges[0].invoice_number == invoice.number
    with pytest.raises(InvalidTransition) as refused:
        svc.void_charge(sid, 1, "meant to void the invoiced charge", meta())
    assert refused.value.rule == "charge_invoiced"


def test_another_process_write_is_seen_by_the_next_command_and_read(svc, elsewhere):
    sid = svc.request_booking(order(), meta()).shipment_id
    svc.review(sid, [], meta())  # cached here at version 2
    moved = elsewhere.confirm_by_carrier(sid, confirmation(), meta())  # version 3 there
    assert svc.get(sid).version == moved.version == 3  # a read catches up
    done = svc.add_charge(sid, USUAL[0], None, meta())  # retried on fresh state
    assert done.version == 4 and [c.number for c in elsewhere.get(sid).charges] == [1]


def test_if_match_of_a_version_written_elsewhere_is_honoured(svc, elsewhere):
    sid = svc.request_booking(order(), meta()).shipment_id
    svc.review(sid, [], meta())
    etag = elsewhere.confirm_by_carrier(sid, confirmation(), meta()).version  # the client's
    assert svc.add_charge(sid, USUAL[0], None, meta(), expected_version=etag).version == 4
    with pytest.raises(VersionConflict):
        svc.add_charge(sid, USUAL[1], None, meta(), expected_version=etag)
