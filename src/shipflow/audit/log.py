"""The audit log: the event log folded into a Merkle tree, and signed checkpoints of it.

A follower of the notification log, like the views: each event becomes leaf ``i`` of the
tree, ``SHA-256(0x00 ‖ position ‖ event hash)``, and every subtree it completes is stored.
Before it takes an event it checks it — its hash is its content's, and it links to the last
leaf of its stream — because a checkpoint signs what the tree holds: on a mismatch it halts
there (``audit_state.halted_at``, named by ``shipflow audit verify --all``) and signs nothing
past it.

A checkpoint (every ``audit_checkpoint_events`` new events, or ``audit_checkpoint_seconds``
after the last one when there is anything new, or on demand) signs the tree's size and root,
the log position it reached, and the root of the *heads tree*: one leaf per stream, its last
version and hash at that size, sorted by stream id. The heads tree is what lets a package of
one shipment prove the shipment has no later event under the checkpoint.

Several processes may run it: each step is one transaction that moves ``audit_state`` by a
compare-and-set, so a process that loses a race writes nothing and simply reads on.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from shipflow.audit import tables as t
from shipflow.audit.evidence import (
    CHAIN,
    checkpoint_message,
    event_hash,
    head_leaf,
    log_leaf,
    node_hash,
)
from shipflow.audit.evidence import root as merkle_root
from shipflow.audit.proofs import fetch_nodes
from shipflow.audit.raw import row_dict
from shipflow.audit.signing import Signer
from shipflow.store import Shipflow

log = logging.getLogger("shipflow.audit")
LOG = "shipflow"
Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


class Halt(Exception):
    def __init__(self, position: int, reason: str) -> None:
        super().__init__(reason)
        self.position, self.reason = position, reason


def state(conn: Connection) -> dict[str, Any]:
    row = conn.execute(select(t.audit_state).where(t.audit_state.c.name == "log")).mappings(
        ).first()
    if row is None:
        return {"position": 0, "tree_size": 0, "chained_from": None, "halted_at": None,
                "halt_reason": None, "new": True}
    return dict(row)


def checkpoint_dict(row: Any) -> dict[str, Any]:
    cp = dict(row._mapping if hasattr(row, "_mapping") else row)
    cp.pop("created_at", None)
    return {"log": LOG, **cp}


def checkpoints(conn: Connection, since: int = 0) -> list[dict[str, Any]]:
    c = t.audit_checkpoints
    return [checkpoint_dict(r) for r in conn.execute(
        select(c).where(c.c.number > since).order_by(c.c.number))]


def latest_checkpoint(conn: Connection) -> dict[str, Any] | None:
    c = t.audit_checkpoints
    row = conn.execute(select(c).order_by(c.c.number.desc()).limit(1)).first()
    return checkpoint_dict(row) if row is not None else None


def frontier(conn: Connection, size: int) -> list[tuple[int, int, bytes]]:
    """The complete subtrees along the tree's right edge, largest first: (level, idx, hash)."""
    keys, offset = [], 0
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            keys.append((level, offset >> level))
            offset += 1 << level
    nodes = fetch_nodes(conn, keys)
    return [(lv, i, nodes[(lv, i)]) for lv, i in keys]


def frontier_root(edge: list[tuple[int, int, bytes]]) -> bytes:
    if not edge:
        return merkle_root([])
    acc = edge[-1][2]
    for _, _, h in reversed(edge[:-1]):
        acc = node_hash(h, acc)
    return acc


def heads(conn: Connection, size: int) -> list[tuple[str, int, str]]:
    """Each stream's last (version, hash) among the first ``size`` leaves, by stream id."""
    leaves = t.audit_leaves
    last = (select(leaves.c.originator_id, func.max(leaves.c.originator_version).label("v"))
            .where(leaves.c.leaf_index < size).group_by(leaves.c.originator_id).subquery())
    rows = conn.execute(select(leaves.c.originator_id, leaves.c.originator_version,
                               leaves.c.event_hash).join(last, (
                                   leaves.c.originator_id == last.c.originator_id)
                               & (leaves.c.originator_version == last.c.v))).all()
    return sorted(((r[0], int(r[1]), r[2]) for r in rows), key=lambda h: uuid.UUID(h[0]).bytes)


def head_leaves(heads_: list[tuple[str, int, str]]) -> list[bytes]:
    return [head_leaf(s, v, h) for s, v, h in heads_]


class AuditLog:
    def __init__(self, store: Shipflow, engine: Engine, signer: Callable[[], Signer],
                 every_events: int = 1000, every_s: float = 600.0,
                 clock: Clock = utcnow) -> None:
        self.store, self.engine, self._signer = store, engine, signer
        self.every_events, self.every_s, self.clock = every_events, every_s, clock
        self.started = clock()

    # --- folding the log into the tree -----------------------------------------------------

    def catch_up(self, batch: int = 2000) -> int:
        """Fold every event not yet in the tree; how many were added."""
        added = 0
        while True:
            step = self._step(batch)
            added += step
            if step < batch:
                return added

    def _step(self, batch: int) -> int:
        try:
            with self.engine.begin() as conn:
                return self._fold(conn, batch)
        except (IntegrityError, DBAPIError) as e:  # another process folded them first
            if isinstance(e, DBAPIError) and not isinstance(e, IntegrityError) and \
                    "locked" not in str(e).lower():
                raise
            return 0

    def _fold(self, conn: Connection, batch: int) -> int:
        st = state(conn)
        if st["halted_at"] is not None:
            return 0
        notes = self.store.recorder.select_notifications(
            start=st["position"], limit=batch, inclusive_of_start=False)
        if not notes:
            return 0
        size, edge = st["tree_size"], frontier(conn, st["tree_size"])
        rows = [row_dict(n.id, str(uuid.UUID(str(n.originator_id))), n.originator_version,
                         n.topic, bytes(n.state)) for n in notes]
        last = self._last_leaves(conn, {r["originator_id"] for r in rows})
        leaves, nodes = [], []
        position, chained_from, halt = st["position"], st["chained_from"], None
        for r in rows:
            try:
                h, chained = self._check(r, last)
            except Halt as e:
                halt = e
                break
            leaf = log_leaf(r["position"], h)  # level 0: made from the leaf row when needed
            edge.append((0, size, leaf))
            while len(edge) > 1 and edge[-1][0] == edge[-2][0]:
                (lv, i, left), (_, _, right) = edge[-2], edge[-1]
                edge[-2:] = [(lv + 1, i // 2, node_hash(left, right))]
                nodes.append({"level": lv + 1, "idx": i // 2, "hash": edge[-1][2]})
            leaves.append({"leaf_index": size, "position": r["position"],
                           "originator_id": r["originator_id"],
                           "originator_version": r["originator_version"], "event_hash": h,
                           "chained": int(chained)})
            last[r["originator_id"]] = (r["originator_version"], h, chained)
            if chained and chained_from is None:
                chained_from = r["position"]
            size, position = size + 1, r["position"]
        if leaves:
            conn.execute(insert(t.audit_leaves), leaves)
        if nodes:
            conn.execute(insert(t.audit_nodes), nodes)
        values = {"position": position, "tree_size": size, "chained_from": chained_from}
        if halt is not None:
            log.error("audit log halted at position %s: %s", halt.position, halt.reason)
            values.update(halted_at=halt.position, halt_reason=halt.reason)
        if st.get("new"):
            conn.execute(insert(t.audit_state).values(name="log", **values))
        elif conn.execute(update(t.audit_state).where(
                t.audit_state.c.name == "log", t.audit_state.c.tree_size == st["tree_size"])
                .values(**values)).rowcount != 1:
            raise IntegrityError("audit_state moved", None, Exception("lost race"))
        return len(leaves) if halt is None else 0

    def _last_leaves(self, conn: Connection, streams: set[str]) -> dict[str, Any]:
        leaves, found = t.audit_leaves, {}
        wanted = sorted(streams)
        for i in range(0, len(wanted), 500):
            chunk = wanted[i:i + 500]
            last = (select(leaves.c.originator_id, func.max(leaves.c.originator_version)
                           .label("v")).where(leaves.c.originator_id.in_(chunk))
                    .group_by(leaves.c.originator_id).subquery())
            for s, v, h, c in conn.execute(select(
                    leaves.c.originator_id, leaves.c.originator_version, leaves.c.event_hash,
                    leaves.c.chained).join(last, (leaves.c.originator_id == last.c.originator_id)
                                           & (leaves.c.originator_version == last.c.v))):
                found[s] = (int(v), h, bool(c))
        return found

    @staticmethod
    def _check(r: dict[str, Any], last: dict[str, Any]) -> tuple[str, bool]:
        """The event's hash, if it may join the tree (else :class:`Halt`)."""
        # The value's hash (as the chain was made); whether the stored text is in the form
        # shipflow writes is left to verification, which reads every row anyway.
        h = event_hash(r["originator_id"], r["originator_version"], r["topic"], r["state"],
                       r["floats"])
        v, pos, chain = r["originator_version"], r["position"], r["state"].get(CHAIN)
        before = last.get(r["originator_id"])
        where = f"{r['originator_id']} version {v} at position {pos}"
        if v != (before[0] + 1 if before else 1):
            raise Halt(pos, f"{where} does not follow the stream's last version "
                       f"{before[0] if before else 0}")
        if not isinstance(chain, dict):
            if before is not None and before[2]:
                raise Halt(pos, f"{where} carries no chain after chained versions")
            return h, False
        if chain.get("hash") != h:
            raise Halt(pos, f"{where}: its content does not give its recorded hash")
        if chain.get("prev") != (before[1] if before else None):
            raise Halt(pos, f"{where} does not link to the stream's previous version")
        return h, True

    # --- checkpoints -----------------------------------------------------------------------

    def due(self, conn: Connection) -> bool:
        size = state(conn)["tree_size"]
        last = latest_checkpoint(conn)
        since = last["tree_size"] if last else 0
        if size <= since:
            return False
        at = (datetime.fromisoformat(last["timestamp"].replace("Z", "+00:00")) if last
              else self.started)
        return size - since >= self.every_events or self.clock() - at >= timedelta(
            seconds=self.every_s)

    def checkpoint(self) -> dict[str, Any] | None:
        """Fold what is new and sign a checkpoint of it (the latest one if nothing is new)."""
        self.catch_up()
        signer = self._signer()
        try:
            with self.engine.begin() as conn:
                return self._sign(conn, signer)
        except IntegrityError:  # another process signed this number first
            with self.engine.connect() as conn:
                return latest_checkpoint(conn)

    def _sign(self, conn: Connection, signer: Signer) -> dict[str, Any] | None:
        st, last = state(conn), latest_checkpoint(conn)
        size = st["tree_size"]
        if size == 0 or (last is not None and last["tree_size"] == size):
            return last
        hs = heads(conn, size)
        now = self.clock().astimezone(UTC)
        body = {"log": LOG, "number": (last["number"] if last else 0) + 1, "tree_size": size,
                "position": st["position"], "root": frontier_root(frontier(conn, size)).hex(),
                "heads_count": len(hs), "heads_root": merkle_root(head_leaves(hs)).hex(),
                "chained_from": st["chained_from"],
                "timestamp": now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "key_id": signer.key_id}
        row = {**body, "public_key": signer.public_key,
               "signature": signer.sign(checkpoint_message(body))}
        row.pop("log")
        conn.execute(insert(t.audit_checkpoints).values(**row, created_at=now))
        log.info("audit checkpoint %s: %s events up to position %s", body["number"], size,
                 st["position"])
        return {"log": LOG, **row}

    def run(self, stop: threading.Event, wake: threading.Event, idle_wait_s: float) -> None:
        """Follow the log and sign checkpoints when due, until ``stop``. Without a signing
        key (``serve`` and ``worker`` refuse to start so) it folds and says so once."""
        from shipflow.audit.signing import SigningKeyInvalid, SigningKeyMissing

        told = False
        while not stop.is_set():
            try:
                self.catch_up()
                with self.engine.connect() as conn:
                    due = self.due(conn)
                if due:
                    self.checkpoint()
            except (SigningKeyMissing, SigningKeyInvalid) as e:
                if not told:
                    log.warning("audit checkpoints are not signed: %s", e)
                    told = True
            except Exception:
                log.exception("audit log step failed; retrying")
            wake.wait(idle_wait_s)
            wake.clear()
