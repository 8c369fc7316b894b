"""The audit names what was done to stored events behind the service's back, on SQLite and
PostgreSQL: one byte changed, the last event deleted, two versions swapped, a forged event
inserted. Each change is made with the append-only guard lifted (``tests/tamper.py``), after
a checkpoint was signed — and the service's verification, the whole-log verification and the
offline verdict over the same evidence all name the version and how."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
from pydantic import SecretStr

import audit_tamper as tamper
from factories import NOW, confirmation, meta, order, shipping_instructions
from shipflow.audit.evidence import CHAIN, event_hash, parse
from shipflow.audit.service import Audit
from shipflow.audit.signing import new_key
from shipflow.database import make_engine
from shipflow.events.shipment.charges import ChargeLine
from shipflow.services.shipments import ShipmentService

M = meta()


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self):
        return self.now


@pytest.fixture
def audited(migrated) -> Iterator[tuple[ShipmentService, Audit]]:
    svc = ShipmentService.from_settings(migrated)
    engine = make_engine(migrated)
    keyed = migrated.model_copy(update={"audit_signing_key": SecretStr(new_key())})
    yield svc, Audit(keyed, svc.store, engine, clock=Clock())
    engine.dispose()
    svc.close()


def fee(code: str) -> ChargeLine:
    return ChargeLine.model_validate({
        "direction": "RECEIVABLE", "code": code, "quantity": "1", "counterparty": "CUST-ACME",
        "unit_price": {"amount": "300", "currency": "CNY"}})


def book(svc: ShipmentService) -> UUID:
    """A shipment of six events."""
    sid = svc.request_booking(order(), M).shipment_id
    svc.review(sid, [], M)
    svc.confirm_by_carrier(sid, confirmation(), M)
    svc.submit_shipping_instructions(sid, shipping_instructions(), M)
    svc.add_charge(sid, fee("OFR"), None, M)
    svc.add_charge(sid, fee("DOC"), None, M)
    return sid


def first_problem(audit: Audit, sid: UUID) -> dict[str, Any]:
    verdict = audit.verify(sid)
    assert not verdict["verified"], verdict
    return verdict["problems"][0]


def named_by_the_whole_log(audit: Audit, sid: UUID, version: int, kind: str) -> None:
    report = audit.verify_all()
    assert not report.verified
    problem = report.streams_failed[str(sid)]["problems"][0]
    assert (problem["version"], problem["kind"]) == (version, kind), problem


def test_an_untouched_shipment_verifies_up_to_the_checkpoint(audited):
    svc, audit = audited
    sid, other = book(svc), book(svc)
    cp = audit.checkpoint()
    verdict = audit.verify(sid)
    position = svc.store.notification_id_of(sid, 6)
    assert verdict["verified"] and verdict["summary"] == (
        f"verified up to version 6 at position {position}, checkpoint {cp['number']}")
    svc.add_charge(sid, fee("THC"), None, M)  # after the checkpoint: chained, not yet covered
    later = audit.verify(sid)
    assert later["verified"] and later["pending"] == [7]
    assert later["summary"].endswith("; version 7 chained, not yet under a checkpoint")
    assert audit.verify_all().verified
    assert audit.verify(other)["verified"]


def test_every_stored_event_carries_its_predecessors_hash_and_its_own(audited, migrated):
    svc, _ = audited
    sid = book(svc)
    prev = None
    for version in range(1, 7):
        state, _ = parse(tamper.read_state(migrated, sid, version))
        chain = state[CHAIN]
        assert chain["prev"] == prev
        topic = tamper.read_topic(migrated, sid, version)
        assert chain["hash"] == event_hash(str(sid), version, topic, state)
        prev = chain["hash"]
    # … and the events read back are the events as recorded, without it
    assert all(CHAIN not in vars(e) for e in svc.history(sid))


def test_one_changed_byte_is_named_by_its_version(audited, migrated):
    svc, audit = audited
    sid = book(svc)
    audit.checkpoint()
    state = tamper.read_state(migrated, sid, 3)
    assert b"MAERSK ESSEN" in state
    tamper.set_state(migrated, sid, 3, state.replace(b"MAERSK ESSEN", b"MAERSK ESSEX", 1))
    problem = first_problem(audit, sid)
    assert (problem["version"], problem["kind"]) == (3, "content_changed")
    named_by_the_whole_log(audit, sid, 3, "content_changed")


def test_a_changed_event_with_its_hash_recomputed_is_still_named(audited, migrated):
    """A tamperer who knows the encoding recomputes the changed event's own hash: the next
    event's link and the checkpoint's leaf still hold the old one."""
    svc, audit = audited
    sid = book(svc)
    audit.checkpoint()
    state, _ = parse(tamper.read_state(migrated, sid, 2))
    state["meta"]["_data_"]["actor"] = "someone.else"
    state[CHAIN]["hash"] = event_hash(str(sid), 2, tamper.read_topic(migrated, sid, 2), state)
    tamper.set_state(migrated, sid, 2, json.dumps(state, separators=(",", ":")).encode())
    problem = first_problem(audit, sid)
    assert (problem["version"], problem["kind"]) == (2, "content_changed")


def test_a_whitespace_only_change_is_a_changed_event_too(audited, migrated):
    svc, audit = audited
    sid = book(svc)
    audit.checkpoint()
    state = tamper.read_state(migrated, sid, 4)
    tamper.set_state(migrated, sid, 4, state.replace(b'":', b'": ', 1))
    assert first_problem(audit, sid)["version"] == 4


def test_the_deleted_last_event_is_proven_missing_by_the_checkpoint(audited, migrated):
    svc, audit = audited
    sid = book(svc)
    book(svc)  # the shipment's last event is not the log's last
    cp = audit.checkpoint()
    tamper.delete_event(migrated, sid, 6)
    verdict = audit.verify(sid)
    problem = verdict["problems"][0]
    assert (problem["version"], problem["kind"]) == (6, "missing")
    assert f"checkpoint {cp['number']} recorded it" in problem["detail"]
    report = audit.verify_all()
    assert any(p["checkpoint"] == cp["number"] for p in report.problems)
    assert report.streams_failed[str(sid)]["problems"][0]["kind"] == "missing"


def test_two_swapped_versions_are_named_as_reordered(audited, migrated):
    svc, audit = audited
    sid = book(svc)
    audit.checkpoint()
    tamper.swap_versions(migrated, sid, 4, 5)
    problem = first_problem(audit, sid)
    assert (problem["version"], problem["kind"]) == (4, "reordered")
    assert "recorded as version 5" in problem["detail"]
    named_by_the_whole_log(audit, sid, 4, "reordered")


def test_a_forged_event_inserted_into_the_history_is_named(audited, migrated):
    """The forger shifts versions 3…6 up and inserts a well-formed event at version 3, its
    chain computed by the documented encoding: the checkpoint recorded another event there."""
    svc, audit = audited
    sid = book(svc)
    audit.checkpoint()
    topic = tamper.read_topic(migrated, sid, 5)  # a charge
    state, _ = parse(tamper.read_state(migrated, sid, 5))
    prev, _ = parse(tamper.read_state(migrated, sid, 2))
    state[CHAIN] = {"prev": prev[CHAIN]["hash"]}
    state[CHAIN]["hash"] = event_hash(str(sid), 3, topic, state)
    tamper.insert_event(migrated, sid, 3, topic, json.dumps(state, separators=(",", ":"))
                        .encode(), shift_from=3, last=6)
    problem = first_problem(audit, sid)
    assert (problem["version"], problem["kind"]) == (3, "extra")
    named_by_the_whole_log(audit, sid, 3, "extra")


def test_a_forged_event_after_the_checkpoint_that_does_not_link_is_named(audited, migrated):
    svc, audit = audited
    sid = book(svc)
    audit.checkpoint()
    copied = tamper.read_state(migrated, sid, 5)
    tamper.insert_event(migrated, sid, 7, tamper.read_topic(migrated, sid, 5), copied)
    problem = first_problem(audit, sid)
    assert problem["version"] == 7 and problem["kind"] in ("extra", "reordered"), problem
    # and the audit log refuses to sign over it
    audit.checkpoint()
    assert audit.checkpoints()["halted"]["position"] == svc.store.notification_id_of(sid, 7)


def test_the_checkpointer_halts_on_an_event_changed_before_it_was_signed(audited, migrated):
    svc, audit = audited
    sid = book(svc)
    audit.log.catch_up()
    svc.add_charge(sid, fee("THC"), None, M)
    state = tamper.read_state(migrated, sid, 7)
    tamper.set_state(migrated, sid, 7, state.replace(b'"300"', b'"900"', 1))
    cp = audit.checkpoint()
    assert cp["tree_size"] == svc.store.notification_id_of(sid, 6)
    halted = audit.checkpoints()["halted"]
    assert "does not give its recorded hash" in halted["reason"]
    assert first_problem(audit, sid)["version"] == 7


def test_checkpoints_due_by_count_or_time(audited):
    svc, audit = audited
    audit.log.every_events, audit.log.every_s = 10, 600
    book(svc)
    with audit.engine.connect() as conn:
        audit.log.catch_up()
        assert not audit.log.due(conn)  # 6 events, no time passed
    audit.clock.now = NOW + timedelta(seconds=601)  # type: ignore[attr-defined]
    with audit.engine.connect() as conn:
        assert audit.log.due(conn)
    audit.checkpoint()
    book(svc)
    with audit.engine.connect() as conn:
        audit.log.catch_up()
        assert not audit.log.due(conn)
    book(svc)
    with audit.engine.connect() as conn:
        audit.log.catch_up()
        assert audit.log.due(conn)  # 12 new events
