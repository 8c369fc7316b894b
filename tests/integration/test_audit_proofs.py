"""Proofs over the real stores: a later checkpoint extends an earlier one (consistency), a
random event is under a checkpoint (inclusion), and events stored before chaining began get
a recorded chain start instead of a rewrite — on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import random
import uuid
from pathlib import Path

import pytest
from eventsourcing.persistence import StoredEvent
from pydantic import SecretStr
from test_audit_tamper import book, fee

from factories import meta
from shipflow.audit.evidence import (
    CHAIN,
    log_leaf,
    parse,
    signature_valid,
    verify_consistency,
    verify_inclusion,
)
from shipflow.audit.service import Audit
from shipflow.audit.signing import new_key
from shipflow.audit.verify import consistency_proof, inclusion_proof
from shipflow.database import make_engine
from shipflow.services.shipments import ShipmentService

FIXTURE = json.loads((Path(__file__).parents[1] / "fixtures" / "legacy_events.json")
                     .read_text())


@pytest.fixture
def audited(migrated):
    svc = ShipmentService.from_settings(migrated)
    engine = make_engine(migrated)
    keyed = migrated.model_copy(update={"audit_signing_key": SecretStr(new_key())})
    yield svc, Audit(keyed, svc.store, engine)
    engine.dispose()
    svc.close()


def test_a_later_checkpoint_is_consistent_with_every_earlier_one(audited):
    svc, audit = audited
    sizes = []
    for n in (1, 2, 3, 5):  # trees of several shapes: 6, 12, 18, 30 events
        while len(sizes) < n:
            book(svc)
            sizes.append(audit.checkpoint()["tree_size"])
    cps = audit.checkpoints()["checkpoints"]
    assert [cp["tree_size"] for cp in cps] == sizes
    for old in cps:
        for new in cps[old["number"] - 1:]:
            proof = consistency_proof(audit.engine, old["number"], new["number"])
            path = [bytes.fromhex(p) for p in proof["proof"]]
            assert proof["valid"] and verify_consistency(
                old["tree_size"], new["tree_size"], bytes.fromhex(old["root"]),
                bytes.fromhex(new["root"]), path)
            if path:  # a proof for another tree does not pass
                assert not verify_consistency(old["tree_size"], new["tree_size"],
                                              bytes.fromhex(old["root"]), bytes(32), path)
    assert all(signature_valid(cp, cp["public_key"]) for cp in cps)


def test_a_random_event_is_included_under_the_checkpoint(audited):
    svc, audit = audited
    ids = [book(svc) for _ in range(4)]
    cp = audit.checkpoint()
    rng = random.Random(17)
    for _ in range(5):
        sid, version = rng.choice(ids), rng.randint(1, 6)
        position = svc.store.notification_id_of(sid, version)
        proof = inclusion_proof(audit.engine, position)
        assert (proof["originator_id"], proof["originator_version"]) == (str(sid), version)
        leaf = log_leaf(position, proof["hash"])
        path = [bytes.fromhex(p) for p in proof["path"]]
        assert verify_inclusion(proof["leaf_index"], cp["tree_size"], leaf, path,
                                bytes.fromhex(cp["root"]))
        assert not verify_inclusion(proof["leaf_index"], cp["tree_size"],
                                    log_leaf(position + 1, proof["hash"]), path,
                                    bytes.fromhex(cp["root"]))
    svc.add_charge(ids[0], fee("THC"), None, meta())  # not under a checkpoint yet
    assert inclusion_proof(audit.engine, svc.store.notification_id_of(ids[0], 7)) is None


def test_events_stored_before_chaining_get_a_chain_start_not_a_rewrite(audited):
    svc, audit = audited
    rows = [StoredEvent(originator_id=uuid.UUID(r["originator_id"]),
                        originator_version=r["originator_version"], topic=r["topic"],
                        state=r["state"].encode()) for r in FIXTURE["events"]]
    svc.store.recorder.insert_events(rows)
    shipment = uuid.UUID("09d56297-cf97-45c8-9143-8a8be98f1a4b")  # open, five events
    head = max(r.originator_version for r in rows if r.originator_id == shipment)
    recorded = svc.add_charge(shipment, fee("THC"), None, meta())
    assert recorded.version == head + 1
    [new] = svc.store.recorder.select_events(shipment, gt=head)
    state, _ = parse(new.state)
    assert state[CHAIN]["start"] == head + 1  # the recorded fact: "chain started at N"
    old = {(r.originator_id, r.originator_version): r.state for r in rows}
    for stored in svc.store.recorder.select_events(shipment, lte=head):
        assert stored.state == old[(shipment, stored.originator_version)]  # untouched
    audit.checkpoint()
    verdict = audit.verify(shipment)
    assert verdict["verified"], verdict
    assert verdict["chain_start"] == head + 1 and verdict["version"] == head + 1
    assert audit.verify_all().verified
