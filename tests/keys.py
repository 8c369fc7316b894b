"""Test identities as real API keys."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

#: Who a test client acts as unless a request says otherwise.
DEFAULT_IDENTITY = {"X-Actor": "cs.wang", "X-Role": "cs"}


def use_keys(client, keys) -> None:
    """Tests say who acts with ``X-Actor`` / ``X-Role`` (and ``X-Customer`` for a customer
    key); this request hook swaps them for a real API key of that owner and role, created in
    the server's database the first time it is needed. A request without ``X-Actor`` goes
    out as it is (no key), and so does one that carries its own ``Authorization``."""
    issued: dict[tuple[str, str, str | None], str] = {}

    def swap(request) -> None:
        actor = request.headers.get("x-actor")
        if actor is None:
            return
        if "authorization" in request.headers:  # the test chose its key itself
            for name in ("x-actor", "x-role", "x-customer"):
                request.headers.pop(name, None)
            return
        role = request.headers.get("x-role", "cs")
        customer = request.headers.get("x-customer")
        for name in ("x-actor", "x-role", "x-customer"):
            if name in request.headers:
                del request.headers[name]
        who = (actor, role, customer)
        if who not in issued:
            issued[who] = keys.create(actor, role, "tests", customer)[0]
        request.headers["Authorization"] = f"Bearer {issued[who]}"

    client.event_hooks["request"].append(swap)



@contextmanager
def keyed_client(app: Any) -> Iterator[Any]:
    """A started TestClient for ``app`` acting as :data:`DEFAULT_IDENTITY` unless a request
    says otherwise."""
    from fastapi.testclient import TestClient

    with TestClient(app, headers=DEFAULT_IDENTITY) as client:
        use_keys(client, client.app.state.keys)
        yield client


def server_keys(env: dict[str, str]) -> Any:
    """The KeyStore of the database a server runs on (its SHIPFLOW_* environment)."""
    from shipflow.auth.keys import KeyStore
    from shipflow.config import Settings
    from shipflow.database import make_engine

    settings = Settings(database_url=env["SHIPFLOW_DATABASE_URL"],
                        database_schema=env.get("SHIPFLOW_DATABASE_SCHEMA", "public"),
                        _env_file=None)
    return KeyStore(make_engine(settings))
