"""Many clients at once against a real server: every search, look-up and read answers 2xx.

A request uses one pooled connection end to end; when a read held one connection while
asking the pool for a second, 32 concurrent searches exhausted the pool and every request
waited on every other (pool timeouts, then even ``GET /shipments/{id}`` stalled)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx

from factories import confirmation_data, order_data, si_data
from keys import server_keys

CLIENTS = 40
ROUNDS = 3


def _shipments(client: httpx.Client, n: int) -> tuple[list[str], int]:
    ids, position = [], 0
    for i in range(n):
        r = client.post("/shipments", json=order_data(po_numbers=[f"PO-CONC-{i:03d}"],
                                                      customer_id=f"CUST-C{i % 3}"))
        assert r.status_code == 201, r.text
        sid = r.json()["shipment_id"]
        client.post(f"/shipments/{sid}/review", json={})
        client.post(f"/shipments/{sid}/confirmation",
                    json=confirmation_data(carrier_booking_no=f"BKC{i:05d}"))
        position = client.post(f"/shipments/{sid}/shipping-instructions",
                               json=si_data()).json()["position"]
        ids.append(sid)
    return ids, position


def test_forty_clients_searching_and_reading_at_once_all_get_answers(client, server):
    ids, position = _shipments(client, 12)
    assert client.get("/shipments", params={"min_position": position}).status_code == 200
    key = server_keys(server.env).create("desk.load", "cs", "tests")[0]
    paths = [("/shipments", {"customer": "CUST-C1"}), ("/shipments", {"q": "PO-CONC"}),
             ("/shipments", {"status": "CONFIRMED", "pol": "CNSHA"}),
             ("/shipments", {"overdue_sla": "false"}), ("/shipments", {"vessel": "MAERSK"}),
             ("/shipments/lookup", {"ref": "PO-CONC-003"}), ("/sla", {"state": "open"})]
    paths += [(f"/shipments/{sid}", {}) for sid in ids[:4]]
    paths += [(f"/shipments/{sid}/events", {}) for sid in ids[4:6]]
    paths += [(f"/shipments/{sid}/bl-draft", {}) for sid in ids[6:8]]
    paths += [(f"/shipments/{sid}/sla", {}) for sid in ids[8:10]]

    def reader(n: int) -> list[int]:
        # A generous bound: on a busy 2-core machine a request may queue, never hang.
        with httpx.Client(base_url=server.base_url, timeout=120,
                          headers={"Authorization": f"Bearer {key}"}) as c:
            statuses = []
            for k in range(ROUNDS):
                path, params = paths[(n + k) % len(paths)]
                statuses.append(c.get(path, params=params).status_code)
            return statuses

    with ThreadPoolExecutor(CLIENTS) as pool:
        answers = [s for statuses in pool.map(reader, range(CLIENTS)) for s in statuses]
    assert len(answers) == CLIENTS * ROUNDS
    assert sorted(set(answers)) == [200], answers
    assert client.get(f"/shipments/{ids[0]}").status_code == 200
