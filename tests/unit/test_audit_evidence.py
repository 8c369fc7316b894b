"""The audit's canonical encoding, Merkle proofs and signature checks, against known values:
RFC 8785's number and ordering examples, trees of every size up to 70, and Ed25519 checked
both by ``cryptography`` and by the verifier's own RFC 8032 code."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from shipflow.audit import evidence as ev
from shipflow.audit import proofs


@pytest.mark.parametrize(("number", "text"), [
    (1e21, "1e+21"), (1e20, "100000000000000000000"), (1e-7, "1e-7"), (0.000001, "0.000001"),
    (123456789.0, "123456789"), (0.1, "0.1"), (-0.0, "0"), (5e-324, "5e-324"),
    (333333333.3333332, "333333333.3333332"), (1.7976931348623157e308,
                                               "1.7976931348623157e+308")])
def test_numbers_are_written_as_ecmascript_writes_them(number, text):
    assert ev.canonical(number) == text.encode()


def test_members_sort_by_utf16_code_units_and_strings_escape_only_where_json_must():
    value = {"b": [1, "é\u0001\n"], "a": {"\u20ac": 1, "\U0001f600": 2, "\ufb01": 3},
             "c": None, "10": True, "1": False}
    text = '{"1":false,"10":true,"a":{"€":1,"😀":2,"ﬁ":3},"b":[1,"é\\u0001\\n"],"c":null}'
    assert ev.canonical(value) == text.encode()
    assert ev.canonical(value, floats=False) == text.encode()  # the fast path agrees
    assert ev.canonical(10**30) == b"1000000000000000000000000000000"  # integers in full


def test_an_events_hash_leaves_out_only_its_own_hash():
    state = {"x": 1, "_chain": {"prev": None}}
    h = ev.event_hash("00000000-0000-0000-0000-000000000001", 1, "m:E", state)
    assert h == ev.event_hash("00000000-0000-0000-0000-000000000001", 1, "m:E",
                              {"x": 1, "_chain": {"prev": None, "hash": h}})
    assert h != ev.event_hash("00000000-0000-0000-0000-000000000001", 2, "m:E", state)
    assert h != ev.event_hash("00000000-0000-0000-0000-000000000001", 1, "m:F", state)


def test_inclusion_and_consistency_proofs_for_every_tree_up_to_70_leaves():
    for n in range(1, 71):
        leaves = [ev.leaf_hash(i.to_bytes(2, "big")) for i in range(n)]
        nodes = {(lv, i): ev.root(leaves[i << lv:(i + 1) << lv])
                 for lv in range(n.bit_length()) for i in range(n >> lv)}
        def get(level: int, idx: int, nodes: dict = nodes) -> bytes:
            return nodes[(level, idx)]

        root = ev.root(leaves)
        assert proofs.subtree(0, n, get) == root
        for m in range(n):
            path = proofs.inclusion(m, n, get)
            assert ev.verify_inclusion(m, n, leaves[m], path, root)
            assert not ev.verify_inclusion(m, n, ev.leaf_hash(b"other"), path, root)
        for m in range(1, n + 1):
            path = proofs.consistency(m, n, get)
            assert ev.verify_consistency(m, n, ev.root(leaves[:m]), root, path)
            if m < n:
                assert not ev.verify_consistency(m, n, ev.leaf_hash(b"x"), root, path)


def test_the_verifiers_own_ed25519_agrees_with_cryptography():
    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    for message in (b"", b"checkpoint", bytes(range(256)) * 4):
        signature = key.sign(message)
        assert ev.ed25519_verify(public, message, signature)
        assert not ev.ed25519_verify(public, message + b".", signature)
        flipped = bytes([signature[0] ^ 1]) + signature[1:]
        assert not ev.ed25519_verify(public, message, flipped)
