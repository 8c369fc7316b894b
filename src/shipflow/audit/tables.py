"""The audit log's tables: the Merkle tree of the event log (its leaves and the roots of its
complete subtrees), the signed checkpoints, and how far the log has been folded.

They are evidence, not a view: never rebuilt in place. The leaves and nodes can be recomputed
from the events at any time (``shipflow audit verify --all`` does), but only the signed
checkpoints say what the log held when they were signed."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, LargeBinary, String, Table, Text

from shipflow.database import UtcDateTime, metadata

#: Leaf ``leaf_index`` of the log tree: the event at log ``position`` and its hash.
audit_leaves = Table(
    "audit_leaves", metadata,
    Column("leaf_index", BigInteger, primary_key=True, autoincrement=False),
    Column("position", BigInteger, nullable=False, unique=True),
    Column("originator_id", String(36), nullable=False),  # lower-case, hyphenated
    Column("originator_version", BigInteger, nullable=False),
    Column("event_hash", String(64), nullable=False),
    Column("chained", Integer, nullable=False),  # 0: stored before chaining began
    Index("ix_audit_leaves_stream", "originator_id", "originator_version", unique=True),
)

#: The hash of each complete subtree above the leaves: node (l, i), l ≥ 1, covers leaves
#: i·2^l … (i+1)·2^l − 1 (level 0, the leaf hashes, are made from ``audit_leaves``). Any
#: inclusion or consistency proof is made of them.
audit_nodes = Table(
    "audit_nodes", metadata,
    Column("level", Integer, primary_key=True, autoincrement=False),
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary(32), nullable=False),
)

audit_checkpoints = Table(
    "audit_checkpoints", metadata,
    Column("number", Integer, primary_key=True, autoincrement=False),
    Column("tree_size", BigInteger, nullable=False),
    Column("position", BigInteger, nullable=False),
    Column("root", String(64), nullable=False),
    Column("heads_count", BigInteger, nullable=False),
    Column("heads_root", String(64), nullable=False),
    Column("chained_from", BigInteger),
    Column("timestamp", String(40), nullable=False),  # as signed: RFC 3339, UTC, "Z"
    Column("key_id", String(16), nullable=False),
    Column("public_key", String(64), nullable=False),
    Column("signature", String(128), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
)

#: One row, ``name = 'log'``: the last position folded into the tree, the tree's size, the
#: position of the first chained event, and why folding stopped, if it did.
audit_state = Table(
    "audit_state", metadata,
    Column("name", String(20), primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("tree_size", BigInteger, nullable=False),
    Column("chained_from", BigInteger),
    Column("halted_at", BigInteger),
    Column("halt_reason", Text),
)
