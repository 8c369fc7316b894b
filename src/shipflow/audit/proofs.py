"""Inclusion and consistency proofs (RFC 9162 §2.1.3, §2.1.4) from the stored nodes.

Every hash a proof needs is either a complete subtree (a stored node, see
:mod:`shipflow.audit.tables`) or is made from complete subtrees, because RFC 9162 splits a
tree at the largest power of two below its size. Which nodes a proof needs does not depend
on any hash, so :func:`with_nodes` runs a computation once to learn the keys, fetches them
all in a few queries, and runs it again on the real hashes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from sqlalchemy import Connection, select, tuple_

from shipflow.audit.evidence import log_leaf, node_hash, sha
from shipflow.audit.tables import audit_leaves, audit_nodes

Node = Callable[[int, int], bytes]  # (level, index) → hash of that complete subtree
T = TypeVar("T")


def _split(n: int) -> int:
    """The largest power of two below ``n`` (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


class Memo:
    """A node getter that remembers the incomplete subtrees made from it: the proofs of many
    leaves of one tree share their right edge."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.made: dict[tuple[int, int], bytes] = {}

    def __call__(self, level: int, idx: int) -> bytes:
        return self.node(level, idx)


def subtree(start: int, size: int, node: Node) -> bytes:
    """MTH of leaves ``start`` … ``start + size − 1`` (``start`` a multiple of the split)."""
    if size == 0:
        return sha(b"")
    if size & (size - 1) == 0 and start % size == 0:
        return node(size.bit_length() - 1, start // size)
    made = node.made if isinstance(node, Memo) else None
    if made is not None and (start, size) in made:
        return made[(start, size)]
    k = _split(size)
    h = node_hash(subtree(start, k, node), subtree(start + k, size - k, node))
    if made is not None:
        made[(start, size)] = h
    return h


def inclusion(index: int, size: int, node: Node, start: int = 0) -> list[bytes]:
    """PATH(m, D[n]) of RFC 6962 §2.1.1: the audit path of leaf ``index``, nearest first."""
    if size <= 1:
        return []
    k = _split(size)
    if index < k:
        return [*inclusion(index, k, node, start), subtree(start + k, size - k, node)]
    return [*inclusion(index - k, size - k, node, start + k), subtree(start, k, node)]


def consistency(old: int, new: int, node: Node) -> list[bytes]:
    """PROOF(m, D[n]) of RFC 6962 §2.1.2: the tree of ``new`` leaves extends ``old``."""
    if old == 0 or old == new:
        return []
    return _subproof(old, new, True, node, 0)


def _subproof(m: int, n: int, whole: bool, node: Node, start: int) -> list[bytes]:
    if m == n:
        return [] if whole else [subtree(start, n, node)]
    k = _split(n)
    if m <= k:
        return [*_subproof(m, k, whole, node, start), subtree(start + k, n - k, node)]
    return [*_subproof(m - k, n - k, False, node, start + k), subtree(start, k, node)]


def fetch_nodes(conn: Connection, keys: Iterable[tuple[int, int]]) -> dict[tuple[int, int],
                                                                         bytes]:
    """Stored subtree hashes by (level, index); level 0 is made from the leaves' rows."""
    t, leaves, found = audit_nodes, audit_leaves, {}
    wanted = sorted(set(keys))
    inner, bottom = [k for k in wanted if k[0] > 0], [k[1] for k in wanted if k[0] == 0]
    for i in range(0, len(inner), 500):
        for level, idx, h in conn.execute(select(t.c.level, t.c.idx, t.c.hash).where(
                tuple_(t.c.level, t.c.idx).in_(inner[i:i + 500]))):
            found[(level, idx)] = bytes(h)
    for i in range(0, len(bottom), 500):
        for idx, position, h in conn.execute(select(
                leaves.c.leaf_index, leaves.c.position, leaves.c.event_hash).where(
                leaves.c.leaf_index.in_(bottom[i:i + 500]))):
            found[(0, idx)] = log_leaf(position, h)
    return found


def with_nodes(conn: Connection, compute: Callable[[Node], T]) -> T:
    """``compute(node)`` with every node it asks for fetched in bulk (see the docstring)."""
    keys: set[tuple[int, int]] = set()

    def record(level: int, idx: int) -> bytes:
        keys.add((level, idx))
        return bytes(32)

    compute(Memo(record))
    nodes = fetch_nodes(conn, keys)
    missing = keys - nodes.keys()
    if missing:
        raise LookupError(f"the audit tree lacks {len(missing)} node(s), e.g. "
                          f"{sorted(missing)[0]}: its records were altered or removed")
    return compute(Memo(lambda level, idx: nodes[(level, idx)]))
