"""Evidence an auditor can verify: the hash chain of every stream (:mod:`chain`), signed
checkpoints of the whole log over a Merkle tree (:mod:`log`, :mod:`checkpoints`), proofs
(:mod:`proofs`), verification (:mod:`verify`, and offline :mod:`verdict`), what changed
between two moments (:mod:`changes`) and the audit package (:mod:`package`). The format is
in docs/audit.md."""
