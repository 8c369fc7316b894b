"""Verification by the service: one stream (``GET /shipments/{id}/audit/verify``, ``shipflow
audit verify --shipment``) or the whole log (``--all``).

One stream: its events as stored now are judged by :func:`shipflow.audit.verdict.verify_stream`
against the evidence of the latest checkpoint — the leaves it recorded of the stream, each
with its inclusion proof, and the stream's head in the heads tree — the same evidence and the
same function an audit package carries, so the service and an offline auditor agree.

The whole log: every stored event is hashed again and compared, in log order, with the
leaves; the tree is rebuilt from the events themselves (not from the stored nodes) and its
root and heads root compared at the size of every checkpoint, whose signatures are checked
too. A stream with a mismatch is then judged alone to name its first failing event.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Engine, select

from shipflow.audit import log as audit_log
from shipflow.audit import tables as t
from shipflow.audit.evidence import (
    head_leaf,
    log_leaf,
    node_hash,
    root,
    signature_valid,
    verify_consistency,
)
from shipflow.audit.proofs import consistency, inclusion, with_nodes
from shipflow.audit.raw import log_rows, stored_hash, stream_rows
from shipflow.audit.verdict import verify_stream
from shipflow.store import Shipflow


def stream_evidence(conn: Connection, stream: UUID, checkpoint: dict[str, Any] | None
                    ) -> dict[str, Any] | None:
    """What ``checkpoint`` recorded of one stream, with the proofs (see the docstring)."""
    if checkpoint is None:
        return None
    size, leaves = checkpoint["tree_size"], t.audit_leaves
    rows = conn.execute(select(leaves).where(
        leaves.c.originator_id == str(stream), leaves.c.leaf_index < size)
        .order_by(leaves.c.originator_version)).mappings().all()
    paths = with_nodes(conn, lambda node: [inclusion(r["leaf_index"], size, node)
                                           for r in rows])
    recorded = [{"version": r["originator_version"], "position": r["position"],
                 "leaf_index": r["leaf_index"], "hash": r["event_hash"],
                 "path": [p.hex() for p in path]} for r, path in zip(rows, paths, strict=True)]
    heads = _heads(conn, checkpoint)
    index = next((i for i, h in enumerate(heads) if h[0] == str(stream)), None)
    head = None
    if index is not None:
        _, version, h = heads[index]
        head = {"index": index, "version": version, "hash": h,
                "path": [p.hex() for p in _path(audit_log.head_leaves(heads), index)]}
    return {"stream": str(stream), "checkpoint": checkpoint, "leaves": recorded, "head": head}


#: The heads of the latest checkpoints, by their signed roots (hashes of everything they
#: cover, so no two databases share one): a checkpoint never changes, and its heads cost
#: one grouped query over every leaf.
_HEADS: dict[tuple[str, str], list[tuple[str, int, str]]] = {}


def _heads(conn: Connection, checkpoint: dict[str, Any]) -> list[tuple[str, int, str]]:
    key = (checkpoint["root"], checkpoint["heads_root"])
    found = _HEADS.get(key)
    if found is None:
        found = _HEADS[key] = audit_log.heads(conn, checkpoint["tree_size"])
        while len(_HEADS) > 4:
            del _HEADS[next(iter(_HEADS))]
    return found


def _path(leaves: list[bytes], index: int) -> list[bytes]:
    """An inclusion path in a small tree held in memory (the heads tree)."""
    def node(level: int, idx: int) -> bytes:
        return root(leaves[idx << level:(idx + 1) << level])

    return inclusion(index, len(leaves), node)


def verify_one(store: Shipflow, engine: Engine, stream: UUID) -> dict[str, Any]:
    with engine.connect() as conn:
        checkpoint = audit_log.latest_checkpoint(conn)
        evidence = stream_evidence(conn, stream, checkpoint)
    verdict = verify_stream(stream_rows(store, stream), evidence, stored_hash)
    if checkpoint is not None:
        verdict["signature_valid"] = signature_valid(checkpoint, checkpoint["public_key"])
        if not verdict["signature_valid"]:
            verdict["verified"] = False
            verdict["summary"] = f"checkpoint {checkpoint['number']}'s signature is not valid"
    return verdict


@dataclass
class LogReport:
    events: int = 0
    streams: int = 0
    checkpoints: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)
    streams_failed: dict[str, dict[str, Any]] = field(default_factory=dict)
    halted: dict[str, Any] | None = None

    @property
    def verified(self) -> bool:
        return not self.problems and not self.streams_failed and self.halted is None


def verify_log(store: Shipflow, engine: Engine) -> LogReport:
    report = LogReport()
    with engine.connect() as conn:
        cps = audit_log.checkpoints(conn)
        leaves = {r.position: r for r in conn.execute(select(
            t.audit_leaves.c.position, t.audit_leaves.c.originator_id,
            t.audit_leaves.c.originator_version, t.audit_leaves.c.event_hash))}
        st = audit_log.state(conn)
    if st.get("halted_at") is not None:
        report.halted = {"position": st["halted_at"], "reason": st["halt_reason"]}
    for cp in cps:
        if not signature_valid(cp, cp["public_key"]):
            report.problems.append({"checkpoint": cp["number"], "detail": "signature invalid"})
    sizes = {cp["tree_size"]: cp for cp in cps}
    edge: list[tuple[int, bytes]] = []  # the tree rebuilt from the events: (level, hash)
    heads: dict[str, tuple[int, str]] = {}
    suspects: set[str] = set()
    present: set[int] = set()
    size = 0
    for row in log_rows(store):
        report.events += 1
        present.add(row["position"])
        h, leaf, stream = stored_hash(row), leaves.get(row["position"]), row["originator_id"]
        if leaf is None and row["position"] > st["position"]:
            suspects.add(stream)  # not folded yet: its chain alone speaks for it
            continue
        if leaf is None or (leaf.event_hash, leaf.originator_id, leaf.originator_version) != (
                h, stream, row["originator_version"]):
            suspects.add(stream)
            if leaf is not None:
                suspects.add(leaf.originator_id)
        edge.append((0, log_leaf(row["position"], h)))
        while len(edge) > 1 and edge[-1][0] == edge[-2][0]:
            edge[-2:] = [(edge[-1][0] + 1, node_hash(edge[-2][1], edge[-1][1]))]
        heads[stream] = (row["originator_version"], h)
        size += 1
        if size in sizes:
            report.checkpoints += 1
            _compare(report, sizes[size], edge, heads)
    report.streams = len(heads)
    suspects |= {leaf.originator_id for p, leaf in leaves.items() if p not in present}
    for cp in cps:
        if cp["tree_size"] > size:
            report.problems.append({"checkpoint": cp["number"], "detail": (
                f"the log holds {size} of the {cp['tree_size']} events it signed")})
    for stream in sorted(suspects):
        verdict = verify_one(store, engine, uuid.UUID(stream))
        if not verdict["verified"]:
            report.streams_failed[stream] = verdict
    return report


def _compare(report: LogReport, cp: dict[str, Any], edge: list[tuple[int, bytes]],
             heads: dict[str, tuple[int, str]]) -> None:
    acc = edge[-1][1]
    for _, h in reversed(edge[:-1]):
        acc = node_hash(h, acc)
    if acc.hex() != cp["root"]:
        report.problems.append({"checkpoint": cp["number"], "detail": (
            "the events no longer give the root it signed")})
    ordered = sorted(heads.items(), key=lambda kv: uuid.UUID(kv[0]).bytes)
    if root([head_leaf(s, v, h) for s, (v, h) in ordered]).hex() != cp["heads_root"]:
        report.problems.append({"checkpoint": cp["number"], "detail": (
            "the streams' last events no longer give the heads root it signed")})


def consistency_proof(engine: Engine, old: int, new: int) -> dict[str, Any]:
    """The proof that checkpoint ``new`` extends checkpoint ``old``."""
    with engine.connect() as conn:
        cps = {cp["number"]: cp for cp in audit_log.checkpoints(conn)}
        a, b = cps[old], cps[new]
        proof = with_nodes(conn, lambda node: consistency(a["tree_size"], b["tree_size"],
                                                          node))
    return {"from": a, "to": b, "proof": [p.hex() for p in proof],
            "valid": verify_consistency(a["tree_size"], b["tree_size"], bytes.fromhex(
                a["root"]), bytes.fromhex(b["root"]), proof)}


def inclusion_proof(engine: Engine, position: int, number: int | None = None
                    ) -> dict[str, Any] | None:
    """The proof that the event at ``position`` is under a checkpoint (default: latest)."""
    with engine.connect() as conn:
        cps = audit_log.checkpoints(conn)
        cp = next((c for c in cps if c["number"] == number), None) if number else (
            cps[-1] if cps else None)
        leaf = conn.execute(select(t.audit_leaves).where(
            t.audit_leaves.c.position == position)).mappings().first()
        if cp is None or leaf is None or leaf["leaf_index"] >= cp["tree_size"]:
            return None
        path = with_nodes(conn, lambda node: inclusion(leaf["leaf_index"], cp["tree_size"],
                                                       node))
    return {"checkpoint": cp, "position": position, "leaf_index": leaf["leaf_index"],
            "originator_id": leaf["originator_id"],
            "originator_version": leaf["originator_version"], "hash": leaf["event_hash"],
            "path": [p.hex() for p in path]}
