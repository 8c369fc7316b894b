"""What a customer key may see, endpoint by endpoint, on both databases.

:data:`TABLE` has a row for **every** GET operation of the OpenAPI document (a new read
endpoint without a row fails :func:`test_every_read_endpoint_has_a_row`). Against the world of
``customer_world`` (payable and receivable charges, another bill-to party's line, an internal
SLA breach, amendments, exceptions, B/L versions, a manager's dating approval, an account with
notes, another customer's shipment) each row says how a customer key may read it, what its
answer must show, and what staff still read there; no answer to a customer key may contain
any of the world's secrets (vendor, buy price, staff names, desk notes, internal timers …),
and anything not its own is the same 404 as a random id, whatever the variant asked.
"""

from __future__ import annotations

import io
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook

from customer_world import (
    CS_CONTACT,
    CUSTOMER_CONTACT,
    KIND_MARKERS,
    OWN_PRICE,
    SECRETS,
    A,
    B,
    build,
)
from keys import keyed_client
from shipflow.api.app import create_app

CUSTOMER = {"X-Actor": "portal-a", "X-Role": "customer", "X-Customer": A}
STAFF = {"X-Actor": "it.auditor", "X-Role": "admin"}
NOW = "{now}"  # replaced by a moment after the world was built


@dataclass(frozen=True)
class Row:
    #: own: the customer reads its own (200) and gets 404 for another's; scoped: a list that
    #: shows only its own; staff: 403 for a customer key; public: anyone with a key;
    #: as-sent: the customer's own request as its system sent it (no shipflow data to hide),
    #: read back in the DCSA round trip (tests/conformance)
    access: str
    requests: tuple[str, ...] = ("",)  # query variants (or whole paths for scoped lists)
    shows: tuple[str, ...] = ()  # must be in the customer's answers
    staff_sees: tuple[str, ...] = ()  # secrets staff still read in the same answers
    data_only: bool = False  # scan only for the world's data, not for kind names


TABLE: dict[str, Row] = {
    "/shipments": Row("scoped", ("", "?customer=CUST-B", "?q=PO-B", "?overdue_sla=true"),
                      shows=("{a1}", CS_CONTACT), staff_sees=("PO-B-SECRET",)),
    "/shipments/lookup": Row("scoped", ("?ref=PO-A-1", "?ref=PO-B-SECRET"), shows=("{a1}",),
                             staff_sees=("PO-B-SECRET",)),
    "/shipments/{shipment_id}": Row(
        "own", ("", "?version=3", f"?as_of={NOW}"), shows=(OWN_PRICE, CS_CONTACT, "A-HK"),
        staff_sees=(SECRETS["vendor"], SECRETS["buy price adjusted"], SECRETS["sales owner"],
                    SECRETS["route manager"], SECRETS["exception description"])),
    "/shipments/{shipment_id}/events": Row(
        "own", shows=(OWN_PRICE, "forwarder", "demurrage"),
        staff_sees=(SECRETS["finance"], SECRETS["buy price"], SECRETS["internal timer"],
                    SECRETS["correlation id"], SECRETS["dating reason"])),
    "/shipments/{shipment_id}/bl-draft": Row("own", ("", "?version=1", f"?as_of={NOW}"),
                                             shows=("SFLW-A-1",)),
    "/shipments/{shipment_id}/bl-draft/versions": Row(
        "own", ("", "?documents=true"), shows=("forwarder",), staff_sees=(SECRETS["feed"],)),
    "/shipments/{shipment_id}/bl-draft/diff": Row("own", ("", "?from=1&to=2")),
    "/shipments/{shipment_id}/sla": Row("own", ("", f"?as_of={NOW}"), shows=("si_cutoff",),
                                        staff_sees=(SECRETS["order review timer"],)),
    "/sla": Row("scoped", ("", "?customer=CUST-B", "?kind=web_order_review", "?state=open"),
                shows=("si_cutoff",), staff_sees=(SECRETS["order review timer"],)),
    # the catalogue: fixed example payloads of every type, no customer's data
    "/webhooks/event-types": Row("public", data_only=True),
    "/webhooks/subscriptions": Row("staff"),
    "/webhooks/subscriptions/{subscription_id}": Row("staff"),
    "/webhooks/subscriptions/{subscription_id}/deliveries": Row("staff"),
    "/webhooks/deliveries/{delivery_id}": Row("staff"),
    "/accounts/work-queue": Row("staff"),
    "/accounts/{customer_id}": Row(
        "own", ("", f"?as_of={NOW}"), shows=("Alpha Trading HK Ltd", OWN_PRICE, "BANK-A-1"),
        staff_sees=(SECRETS["collector"], SECRETS["pre-invoice explanation"],
                    SECRETS["commitment note"], SECRETS["release reason"])),
    "/accounts/{customer_id}/events": Row(
        "own", shows=("INV-CUST-A-00001",),
        staff_sees=(SECRETS["finance"], SECRETS["hold note"])),
    "/accounts/{customer_id}/statement": Row("own", ("", f"?as_of={NOW}"),
                                             shows=("INV-CUST-A-00001",),
                                             staff_sees=(SECRETS["collector"],)),
    "/accounts/{customer_id}/statement.xlsx": Row("own", shows=("INV-CUST-A-00001",)),
    "/reports/status.xlsx": Row("own", ("?customer={customer_id}",), shows=("PO-A-1",),
                                staff_sees=("web order review",)),
    "/reports/kpi": Row("staff"),
    "/reports/kpi.xlsx": Row("staff"),
    "/admin/api-keys": Row("staff"),
    "/health": Row("public"),
    "/metrics": Row("staff"),
    # evidence (docs/audit.md): the customer verifies its own shipments and reads what changed
    # in its own statement; the log's checkpoints, proofs and packages are the auditor's
    "/shipments/{shipment_id}/audit/verify": Row("own"),
    "/accounts/{customer_id}/statement/changes": Row("own", ("", "?from=1")),
    "/shipments/{shipment_id}/changes": Row("staff"),
    "/shipments/{shipment_id}/audit-package": Row("staff"),
    "/audit/checkpoints": Row("staff"),
    "/audit/checkpoints/{number}": Row("staff"),
    "/audit/consistency": Row("staff"),
    "/audit/inclusion": Row("staff"),
    "/dcsa/tnt/v2/events": Row("scoped", ("", "?limit=5")),
    "/dcsa/bkg/v2/bookings/{bookingReference}": Row("as-sent"),
    "/projections": Row("staff"),
}

#: Variants of a request for another customer's data: every one must answer exactly as a
#: random id does (bisecting a booking time, probing versions or drafts tells nothing).
PROBES = ("", "?version=1", "?version=99999", "?as_of=1970-01-01T00:00:00Z",
          "?as_of=2099-01-01T00:00:00Z", "?from=1&to=2", "?documents=true")


@pytest.fixture
def world(migrated):
    with keyed_client(create_app(migrated.model_copy(update={"run_workers": False}))) as c:
        w = build(c.app.state.service)
        c.app.state.read_models.runner().catch_up()
        yield c, w


def text(r) -> str:
    """A body as text: JSON as sent, a workbook as its cells (with _ read as space too)."""
    if r.headers.get("content-type", "").startswith("application/vnd.openxml"):
        cells = [str(v) for ws in load_workbook(io.BytesIO(r.content)).worksheets
                 for row in ws.iter_rows(values_only=True) for v in row if v is not None]
        return "\n".join(cells)
    return r.text


def leaks(body: str, data_only: bool = False) -> list[str]:
    spaced = body.replace(" ", "_")  # a workbook writes booking_confirmation as words
    return [name for name, secret in SECRETS.items()
            if not (data_only and name in KIND_MARKERS)
            and (secret in body or secret.replace(" ", "_") in spaced)]


def fill(template: str, w, sid: str, customer: str) -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return (template.replace("{shipment_id}", sid).replace("{customer_id}", customer)
            .replace("{subscription_id}", str(uuid.uuid4())).replace("{delivery_id}", "1")
            .replace(NOW, now).replace("{a1}", str(w.a1)))


def get_paths(client) -> set[str]:
    return {p for p, ops in client.app.openapi()["paths"].items() if "get" in ops}


def test_every_read_endpoint_has_a_row(world):
    client, _ = world
    assert get_paths(client) == set(TABLE)


def test_a_customer_key_reads_its_customer_view_and_nothing_more(world):
    client, w = world
    wrong: list[tuple[str, object]] = []
    for path, row in TABLE.items():
        mine, theirs = [], []
        if row.access == "as-sent":
            continue
        for q in row.requests:
            url = fill(path + q, w, str(w.a1), A)
            r, s = client.get(url, headers=CUSTOMER), client.get(url, headers=STAFF)
            if row.access == "staff":  # what staff get there is another test's business
                if r.status_code != 403:
                    wrong.append((url, (r.status_code, r.text[:200])))
                continue
            if (r.status_code, s.status_code) != (200, 200):
                wrong.append((url, (r.status_code, s.status_code, r.text[:200])))
                continue
            mine.append(text(r))
            theirs.append(text(s))
        body, staff_body = "\n".join(mine), "\n".join(theirs)
        if leaks(body, row.data_only):
            wrong.append((path, ("leaks", leaks(body, row.data_only))))
        missing = [x for x in row.shows if fill(x, w, "", A) not in body]
        if row.access in ("own", "scoped") and missing:
            wrong.append((path, ("does not show", missing)))
        unseen = [x for x in row.staff_sees if x not in staff_body]
        if unseen:
            wrong.append((path, ("staff do not see", unseen)))
    assert wrong == [], "\n".join(map(str, wrong))


def _problem(r, *ids: str) -> tuple[int, str]:
    body = r.text
    for i in ids:
        body = body.replace(i, "{id}")
    return r.status_code, body


def test_another_customers_data_is_a_random_id_whatever_the_variant(world):
    client, w = world
    random_id, nobody = str(uuid.uuid4()), "CUST-NOBODY-" + uuid.uuid4().hex[:6]
    wrong = []
    for path, row in TABLE.items():
        if row.access != "own":
            continue
        # a path naming the id takes every probe; a query naming it (the report) its own
        for q in sorted({*PROBES, *row.requests} if "{" in path else set(row.requests)):
            theirs = client.get(fill(path + q, w, str(w.b1), B), headers=CUSTOMER)
            unknown = client.get(fill(path + q, w, random_id, nobody), headers=CUSTOMER)
            got = _problem(theirs, str(w.b1), B)
            if got[0] != 404 or got != _problem(unknown, random_id, nobody):
                wrong.append((path + q, got, _problem(unknown, random_id, nobody)))
    assert wrong == [], "\n".join(map(str, wrong))
    r = client.get(f"/shipments/{w.b1}?as_of=1970-01-01T00:00:00Z", headers=CUSTOMER)
    assert r.json()["type"] == "urn:shipflow:problem:shipment_not_found"


def test_filters_count_only_the_timers_a_customer_was_promised(world):
    """A shipment whose only overdue timer is the forwarder's own (order review) is not
    overdue to its customer, and asking the queue for an internal kind finds nothing."""
    client, w = world

    def ids(headers) -> set[str]:
        return {r["shipment_id"] for r in client.get(
            "/shipments", params={"overdue_sla": "true"}, headers=headers).json()["items"]}

    assert str(w.a2) in ids(STAFF) and str(w.a2) not in ids(CUSTOMER)
    assert client.get("/sla", params={"kind": "web_order_review"}, headers=CUSTOMER).json() == []
    assert client.get("/sla", params={"kind": "web_order_review"}, headers=STAFF).json()
    [a2] = [r for r in client.get("/shipments", params={"q": "PO-A-2"},
                                  headers=CUSTOMER).json()["items"]]
    assert a2["next_sla_due"] is None  # its only timer is internal


def test_what_the_customer_view_of_a_shipment_holds(world):
    client, w = world
    s = client.get(f"/shipments/{w.a1}", headers=CUSTOMER).json()
    assert [(c["number"], c["line"]["code"]) for c in s["charges"]] == [
        (1, "AMD"), (3, "OFR"), (6, "DTHC"), (7, "BAF")]  # 2, 4: payable; 5: another party
    assert [c["voided"] for c in s["charges"]] == [False, False, False, True]
    assert s["order"]["cs_owner"] == CS_CONTACT and "sales_owner" not in s["order"]
    assert s["order"]["booked_rates"] and "sold_rates" not in s["order"]
    [first, second] = s["amendments"]
    assert [c["field"] for c in first["changes"]] == ["consignee.address"]
    assert [c["counterparty"] for c in first["charges"]] == [A]
    assert (first["status"], second["status"]) == ("APPROVED", "REJECTED")
    assert s["exceptions"][0]["kind"] == "CUSTOMS_INSPECTION"
    assert s["bl"]["draft_approval"]["by"] == CUSTOMER_CONTACT
    events = client.get(f"/shipments/{w.a1}/events", headers=CUSTOMER).json()
    types = [e["type"] for e in events]
    assert "BlDatingApproved" not in types and types.count("SlaBreached") == 1
    assert {e["actor"] for e in events} == {"forwarder", "system"}
    staff = client.get(f"/shipments/{w.a1}/events", headers=STAFF).json()
    assert len(staff) > len(events) and "role" in staff[0]
    assert re.search(r'"ETag"|etag', str(client.get(f"/shipments/{w.a1}",
                                                   headers=CUSTOMER).headers), re.I)
