"""Audit evidence over HTTP against a real server, on SQLite and PostgreSQL: what changed
between two moments equals the difference of the two ``as_of`` answers and names the events
that did it; who may export, verify and read changes; refusals that name the parameter."""

from __future__ import annotations

import itertools
from typing import Any

import httpx

from ar_factories import terms_data
from factories import confirmation_data, order_data, si_data
from shipflow.projections.bl_draft import diff

CS = {"X-Actor": "cs.wang", "X-Role": "cs"}
FINANCE = {"X-Actor": "fin.liu", "X-Role": "finance"}
TRACKING = {"X-Actor": "ops.ma", "X-Role": "tracking"}
AUDITOR = {"X-Actor": "kpmg.audit", "X-Role": "auditor"}
ADMIN = {"X-Actor": "admin", "X-Role": "admin"}


def post(client: httpx.Client, path: str, body: Any = None, who: dict = CS) -> dict[str, Any]:
    r = client.post(path, json=body if body is not None else {}, headers=who)
    assert r.status_code in (200, 201), r.text
    return r.json()


def eventful_shipment(client: httpx.Client, customer: str = "CUST-AUDIT",
                      **order: Any) -> str:
    """Ten versions: booked, reviewed, confirmed, SI, an amendment requested and approved,
    a rollover (RolledOver and ScheduleChanged), a charge added and adjusted."""
    sid = post(client, "/shipments", order_data(customer_id=customer, **order))["shipment_id"]
    post(client, f"/shipments/{sid}/review")
    post(client, f"/shipments/{sid}/confirmation", confirmation_data())
    post(client, f"/shipments/{sid}/shipping-instructions", si_data())
    n = post(client, f"/shipments/{sid}/amendments", {
        "changes": [{"field": "consignee.address", "after": "9 Ocean Blvd, Long Beach"}],
        "customer_confirmation_ref": "mail 2026-11-21"})["result"]
    post(client, f"/shipments/{sid}/amendments/{n}/approval")
    post(client, f"/shipments/{sid}/rollovers", {
        "to_vessel_voyage": {"vessel": "MAERSK EMDEN", "voyage": "250E"},
        "reason": "vessel full", "new_etd": "2026-12-12T00:00:00Z",
        "new_eta": "2026-12-27T00:00:00Z"}, TRACKING)
    number = post(client, f"/shipments/{sid}/charges", {
        "direction": "RECEIVABLE", "code": "DOC", "quantity": "1", "counterparty": customer,
        "unit_price": {"amount": "300", "currency": "CNY"}}, FINANCE)["result"]
    post(client, f"/shipments/{sid}/charges/{number}/adjustment", {
        "unit_price": {"amount": "450", "currency": "CNY"}, "reason": "courier"}, FINANCE)
    return sid


def as_of(client: httpx.Client, sid: str, moment: str) -> dict[str, Any]:
    """The four ``as_of`` answers, cut into the sections ``changes`` reports."""
    state = client.get(f"/shipments/{sid}", params={"as_of": moment}).json()
    timers = client.get(f"/shipments/{sid}/sla", params={"as_of": moment}).json()
    draft = client.get(f"/shipments/{sid}/bl-draft", params={"as_of": moment}).json()
    return {"state": {k: v for k, v in state.items()
                      if k not in ("version", "modified_at", "charges")},
            "charges": state["charges"], "sla_timers": {t["key"]: t for t in timers},
            "bl_draft": draft["document"]}


def flat(value: Any, path: str = "") -> dict[str, Any]:
    """Every leaf of an answer by its dotted path (a null leaf is no leaf)."""
    if isinstance(value, dict):
        return {k: v for key, item in value.items()
                for k, v in flat(item, f"{path}.{key}" if path else key).items()}
    if isinstance(value, list):
        return {k: v for i, item in enumerate(value)
                for k, v in flat(item, f"{path}.{i}" if path else str(i)).items()}
    return {} if value is None else {path: value}


def under(path: str, top: str) -> bool:
    return path == top or path.startswith(top + ".") or not top


def test_changes_between_any_two_moments_are_the_difference_of_the_as_of_answers(client):
    sid = eventful_shipment(client)
    moments = {v: client.get(f"/shipments/{sid}", params={"version": v}).json()["modified_at"]
               for v in (1, 3, 6, 8, 10)}
    answers = {v: as_of(client, sid, m) for v, m in moments.items()}
    for a, b in itertools.combinations(moments, 2):
        r = client.get(f"/shipments/{sid}/changes", params={"from": moments[a],
                                                            "to": moments[b]})
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["from"]["version"], body["to"]["version"]) == (a, b)
        for section, found in body["sections"].items():
            # the B/L diff's own rules (items matched by equipment reference) …
            assert [(c["path"], c["before"], c["after"]) for c in found] == [
                (d["path"], d["before"], d["after"])
                for d in diff(answers[a][section], answers[b][section])], (section, a, b)
            if section == "bl_draft":
                continue
            # … and, where lists are by index, leaf by leaf
            before, after = flat(answers[a][section]), flat(answers[b][section])
            rebuilt = {k: v for k, v in before.items()
                       if not any(under(k, c["path"]) for c in found)}
            for c in found:
                assert flat(c["before"], c["path"]) == {
                    k: v for k, v in before.items() if under(k, c["path"])}, c
                rebuilt.update(flat(c["after"], c["path"]))
                assert c["caused_by"], c  # every change names the events that made it
                assert all(a < e["version"] <= b for e in c["caused_by"])
            assert rebuilt == after, (section, a, b)
    # the same answer by versions; and who did what
    by_version = client.get(f"/shipments/{sid}/changes", params={"from": 3, "to": 10}).json()
    causes = {(c["path"], e["type"], e["actor"], e["role"], e["source"])
              for s in by_version["sections"].values() for c in s for e in c["caused_by"]}
    assert ("order.consignee.address", "AmendmentApproved", "cs.wang", "cs", "api") in causes
    assert ("vessel_voyage.vessel", "RolledOver", "ops.ma", "tracking", "api") in causes
    charge_causes = {e["type"] for c in by_version["sections"]["charges"]
                     for e in c["caused_by"]}
    assert charge_causes == {"ChargeAdded", "ChargeAdjusted"}
    assert all(e["hash"] and e["position"] for e in by_version["events"])
    bl = {c["path"] for c in by_version["sections"]["bl_draft"]}
    assert any("consignee" in p for p in bl) and any("vessel" in p.lower() for p in bl)


def test_changes_refuse_moments_and_versions_outside_the_history(client):
    sid = eventful_shipment(client)
    booked = client.get(f"/shipments/{sid}", params={"version": 1}).json()["modified_at"]
    for params, rule, field in [
            ({"to": 11}, "version_unknown", "to"),
            ({"from": "2020-01-01T00:00:00Z"}, "moment_before_history", "from"),
            ({"to": "2999-01-01T00:00:00Z"}, "moment_in_future", "to"),
            ({"from": "yesterday"}, "moment_format", "from"),
            ({"from": 5, "to": 2}, "from_after_to", "from"),
            ({"from": booked.replace("Z", "").replace("+00:00", "")}, "moment_format", "from")]:
        r = client.get(f"/shipments/{sid}/changes", params=params)
        assert r.status_code == 422, (params, r.text)
        problem = r.json()
        assert problem["type"] == f"urn:shipflow:problem:{rule}"
        assert problem["violations"][0]["field"] == field


def test_statement_changes_name_the_invoice_that_made_them(client):
    customer = "CUST-AUDIT-AR"
    r = client.post("/accounts", headers=FINANCE, json={"customer_id": customer, "terms": (
        terms_data(bill_to=[{"code": customer, "party": {"name": "Audit AR Co"}}]))})
    assert r.status_code == 201, r.text
    sid = eventful_shipment(client, customer, sold_rates=[])  # the DOC fee is the bill
    invoice = client.post(f"/accounts/{customer}/invoices", headers=FINANCE, json={
        "shipment_id": sid, "bill_to": customer, "currency": "CNY"})
    assert invoice.status_code == 201, invoice.text
    r = client.get(f"/accounts/{customer}/statement/changes",
                   params={"from": 1, "to": 2, "statement_date": "2026-12-31"})
    assert r.status_code == 200, r.text
    found = r.json()["sections"]["statement"]
    assert found and {e["type"] for c in found for e in c["caused_by"]} == {"InvoiceIssued"}
    mine = client.get(f"/accounts/{customer}/statement/changes", headers={
        "X-Actor": "acme", "X-Role": "customer", "X-Customer": customer})
    assert mine.status_code == 200
    theirs = client.get(f"/accounts/{customer}/statement/changes", headers={
        "X-Actor": "other", "X-Role": "customer", "X-Customer": "CUST-OTHER"})
    assert theirs.status_code == 404


def test_who_may_export_verify_and_read_changes(client):
    sid = eventful_shipment(client, "CUST-AUDIT-ACL")
    assert client.post("/audit/checkpoints", headers=AUDITOR).status_code == 201
    for who in (AUDITOR, ADMIN, {"X-Actor": "boss", "X-Role": "manager"}):
        assert client.get("/audit/checkpoints", headers=who).status_code == 200
        assert client.get(f"/shipments/{sid}/audit-package", headers=who).status_code == 200
        assert client.get(f"/shipments/{sid}/audit/verify", headers=who).json()["verified"]
    own = {"X-Actor": "acme", "X-Role": "customer", "X-Customer": "CUST-AUDIT-ACL"}
    other = {"X-Actor": "other", "X-Role": "customer", "X-Customer": "CUST-OTHER"}
    assert client.get(f"/shipments/{sid}/audit/verify", headers=own).json()["verified"]
    assert client.get(f"/shipments/{sid}/audit/verify", headers=other).status_code == 404
    for who in (own, CS, FINANCE):
        for path in ("/audit/checkpoints", f"/shipments/{sid}/audit-package"):
            r = client.get(path, headers=who)
            assert r.status_code == 403, (who, path)
            assert r.json()["type"] == "urn:shipflow:problem:role_forbidden"
    assert client.get(f"/shipments/{sid}/changes", headers=own).status_code == 403
    assert client.get(f"/shipments/{sid}/changes", headers=AUDITOR).status_code == 200
    # the auditor reads everything and changes nothing
    assert client.get(f"/shipments/{sid}/events", headers=AUDITOR).status_code == 200
    assert client.post(f"/shipments/{sid}/charges", headers=AUDITOR, json={
        "direction": "RECEIVABLE", "code": "DOC", "quantity": "1", "counterparty": "X",
        "unit_price": {"amount": "1", "currency": "CNY"}}).status_code == 403
    assert client.post("/shipments", headers=AUDITOR, json=order_data()).status_code == 403


def test_checkpoints_export_and_their_proofs(client):
    eventful_shipment(client)
    first = client.post("/audit/checkpoints", headers=ADMIN).json()
    eventful_shipment(client)
    second = client.post("/audit/checkpoints", headers=ADMIN).json()
    export = client.get("/audit/checkpoints", headers=AUDITOR).json()
    assert export["public_key"] == second["public_key"]
    assert [c["number"] for c in export["checkpoints"]][-2:] == [first["number"],
                                                                 second["number"]]
    proof = client.get("/audit/consistency", headers=AUDITOR, params={
        "from": first["number"], "to": second["number"]}).json()
    assert proof["valid"] and proof["proof"]
    inclusion = client.get("/audit/inclusion", headers=AUDITOR,
                           params={"position": second["position"]}).json()
    assert inclusion["leaf_index"] == second["tree_size"] - 1
    for path, params, rule, field in [
            ("/audit/consistency", {"from": 999999, "to": second["number"]},
             "checkpoint_not_found", "from"),
            ("/audit/consistency", {"from": second["number"], "to": first["number"]},
             "from_after_to", "from"),
            ("/audit/inclusion", {"position": 10**9}, "position_not_checkpointed",
             "position")]:
        r = client.get(path, headers=AUDITOR, params=params)
        assert r.status_code in (404, 422), r.text
        assert r.json()["type"] == f"urn:shipflow:problem:{rule}"
        assert r.json()["violations"][0]["field"] == field
