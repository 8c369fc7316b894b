"""API keys on both databases: shown once, stored as a hash, verified, revoked."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from shipflow.auth.keys import ApiKeyError, KeyStore
from shipflow.auth.tables import api_keys
from shipflow.database import make_engine


@pytest.fixture
def store(migrated):
    engine = make_engine(migrated)
    yield KeyStore(engine)
    engine.dispose()


def test_a_key_authenticates_as_its_owner_and_only_its_hash_is_stored(store):
    key, info = store.create("tms-prod", "integration", "admin.zhou", description="TMS")
    principal = store.authenticate(key)
    assert (principal.owner, principal.role, principal.customer_id) == (
        "tms-prod", "integration", None)
    with store.engine.connect() as conn:
        stored = conn.execute(select(api_keys)).one()._mapping
    assert key.split("_", 2)[2] not in {str(v) for v in stored.values()}
    assert stored["key_id"] == info.key_id and len(stored["secret_hash"]) == 64


@pytest.mark.parametrize("bad", ["", "sfk_", "sfk_nokey", "Bearer x", "sfk_abc_def"])
def test_anything_but_a_valid_key_is_refused(store, bad):
    assert store.authenticate(bad) is None


def test_a_wrong_secret_and_a_revoked_key_are_refused(store):
    key, info = store.create("cs.wang", "cs", "admin")
    assert store.authenticate(key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    assert store.revoke(info.key_id, "admin") is True
    assert store.authenticate(key) is None
    assert store.revoke(info.key_id, "admin") is False
    assert [k.key_id for k in store.list()] == []
    assert [k.key_id for k in store.list(include_revoked=True)] == [info.key_id]


def test_customer_keys_name_one_customer_and_others_none(store):
    key, _ = store.create("acme-portal", "customer", "admin", customer_id="CUST-ACME")
    assert store.authenticate(key).customer_id == "CUST-ACME"
    with pytest.raises(ApiKeyError, match="exactly one customer"):
        store.create("acme-portal", "customer", "admin")
    with pytest.raises(ApiKeyError, match="exactly one customer"):
        store.create("cs.wang", "cs", "admin", customer_id="CUST-ACME")
    with pytest.raises(ApiKeyError, match="role must be"):
        store.create("x", "pirate", "admin")


def test_the_last_active_admin_key_is_never_revoked(store):
    _, first = store.create("admin.zhou", "admin", "setup")
    _, second = store.create("admin.li", "admin", "setup")
    assert store.revoke(first.key_id, "admin.li") is True
    with pytest.raises(ApiKeyError, match="last active admin key") as refused:
        store.revoke(second.key_id, "admin.li")
    assert refused.value.rule == "last_admin_key"
    assert [k.key_id for k in store.list()] == [second.key_id]


def test_revoking_the_last_admin_key_over_http_is_409(migrated):
    from keys import keyed_client
    from shipflow.api.app import create_app

    with keyed_client(create_app(migrated.model_copy(update={"run_workers": False}))) as c:
        key, info = c.app.state.keys.create("admin.zhou", "admin", "setup")
        auth = {"Authorization": f"Bearer {key}"}
        refused = c.delete(f"/admin/api-keys/{info.key_id}", headers=auth)
        assert refused.status_code == 409
        assert refused.json()["type"] == "urn:shipflow:problem:last_admin_key"
        assert c.get("/admin/api-keys", headers=auth).status_code == 200  # still in
