"""What the API, the CLI and the workers ask of the audit: one object per process."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Engine

from shipflow.audit import log as audit_log
from shipflow.audit import package, verify
from shipflow.audit.log import AuditLog, Clock, utcnow
from shipflow.audit.raw import stream_rows
from shipflow.audit.signing import Signer, SigningKeyInvalid, SigningKeyMissing, load_signer
from shipflow.audit.verify import LogReport
from shipflow.config import Settings
from shipflow.store import Shipflow


class Audit:
    def __init__(self, settings: Settings, store: Shipflow, engine: Engine,
                 clock: Clock = utcnow) -> None:
        self.settings, self.store, self.engine, self.clock = settings, store, engine, clock
        self._signer: Signer | None = None
        self._lock = threading.Lock()
        self.log = AuditLog(store, engine, self.signer, settings.audit_checkpoint_events,
                            settings.audit_checkpoint_seconds, clock)

    def signer(self) -> Signer:
        """The signing key, loaded on first use (:class:`SigningKeyMissing` without one)."""
        with self._lock:
            if self._signer is None:
                self._signer = load_signer(self.settings)
            return self._signer

    def public_key(self) -> str | None:
        try:
            return self.signer().public_key
        except (SigningKeyMissing, SigningKeyInvalid):
            return None

    def checkpoint(self) -> dict[str, Any] | None:
        return self.log.checkpoint()

    def checkpoints(self, since: int = 0) -> dict[str, Any]:
        """The export of ``GET /audit/checkpoints``: every checkpoint after ``since``, the
        key they verify with, and how far the tree has reached."""
        with self.engine.connect() as conn:
            cps, st = audit_log.checkpoints(conn, since), audit_log.state(conn)
        return {"log": audit_log.LOG, "public_key": self.public_key(),
                "tree_size": st["tree_size"], "position": st["position"],
                "halted": ({"position": st["halted_at"], "reason": st["halt_reason"]}
                           if st["halted_at"] is not None else None),
                "checkpoints": cps}

    def verify(self, stream: UUID) -> dict[str, Any]:
        return verify.verify_one(self.store, self.engine, stream)

    def verify_all(self) -> LogReport:
        return verify.verify_log(self.store, self.engine)

    def package(self, shipment_id: UUID, bl_versions: list[dict[str, Any]],
                made: datetime | None = None) -> bytes:
        with self.engine.connect() as conn:
            cps = audit_log.checkpoints(conn)
            latest = cps[-1] if cps else None
            evidence = verify.stream_evidence(conn, shipment_id, latest)
        proofs = {cp["number"]: verify.consistency_proof(self.engine, cp["number"],
                                                         latest["number"])["proof"]
                  for cp in cps} if latest else {}
        return package.build(str(shipment_id), stream_rows(self.store, shipment_id),
                             evidence, cps, proofs, bl_versions, self.public_key(),
                             made or self.clock())
