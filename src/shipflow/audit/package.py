"""The audit package of one shipment: a zip an auditor verifies offline.

``events.jsonl``     every stored event of the shipment as stored (state parsed, never
                     upcast), with its log position and hash
``evidence.json``    the latest checkpoint, the leaves it recorded of the shipment with their
                     inclusion proofs, and the shipment's head in the heads tree with its proof
``checkpoints.json`` every checkpoint, each with the consistency proof that the latest one
                     extends it (to check against copies the auditor kept)
``bl_drafts.jsonl``  the B/L draft at every version, with the event that made it
``public_key.txt``   the key the service signs with (take your own copy from the operator)
``verifier/``        the standalone verifier (``python verifier/verify.py PACKAGE.zip``)
``README.md``        how to verify it, and the format (docs/audit.md)
``manifest.json``    what the package is, when it was made, and the SHA-256 of every file
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic_core import to_jsonable_python

from shipflow.audit import evidence, verdict, verify_package

VERIFIER = {"verifier/evidence.py": evidence, "verifier/verdict.py": verdict,
            "verifier/verify.py": verify_package}

README = """# Audit package of shipment {shipment}

Made {made} by shipflow. It proves, with nothing but this file and the service's public
key, that the shipment's history below is complete and unaltered up to checkpoint
{checkpoint}, signed at log position {position}.

## Verify it

    pip install cryptography          # the verifier's only dependency (Ed25519)
    python verifier/verify.py {name} --public-key <the operator's public key, hex>
    # optionally, checkpoints you kept earlier (GET /audit/checkpoints), which the latest
    # checkpoint must extend:
    python verifier/verify.py {name} --public-key <hex> --kept my-checkpoints.json

It says `verified up to version N at position P, checkpoint C`, or names the first event
that fails and how (content changed, missing, re-ordered, extra) and exits with 1.

## What it checks

1. The checkpoint's Ed25519 signature over its canonical text, with the key you give.
2. Every event's hash: SHA-256 of the canonical JSON of its originator id, version, topic
   and stored state (less its own hash), and the chain: each event names its predecessor's
   hash.
3. Each event under the checkpoint is a leaf of the log tree: its inclusion proof leads to
   the signed root (RFC 9162, as Certificate Transparency).
4. The shipment's last version under the checkpoint is its leaf in the heads tree: so no
   later event of the shipment can have been left out.
5. The kept checkpoints (if given): each is consistent with the latest (RFC 9162 proofs).

The format, precisely enough to write your own verifier, is in shipflow's docs/audit.md;
the verifier here is that document as code ({verifier_files}). Events after the checkpoint
are listed as chained but not yet covered: ask for a newer checkpoint to cover them.
The B/L drafts (bl_drafts.jsonl) are derived from the events by shipflow's fold; they are
included to read, and each names the event version that produced it.
"""


def _jsonl(rows: list[Any]) -> bytes:
    return b"".join(json.dumps(to_jsonable_python(r), ensure_ascii=False,
                               separators=(",", ":")).encode() + b"\n" for r in rows)


def build(shipment_id: str, rows: list[dict[str, Any]], stream_evidence: dict[str, Any] | None,
          checkpoints: list[dict[str, Any]], consistency: dict[int, list[str]],
          bl_versions: list[dict[str, Any]], public_key: str | None, made: datetime) -> bytes:
    """The zip (see the module docstring)."""
    events = [{"position": r["position"], "originator_id": r["originator_id"],
               "originator_version": r["originator_version"], "topic": r["topic"],
               "state": r["state"]} for r in rows]
    latest = stream_evidence["checkpoint"] if stream_evidence else None
    files: dict[str, bytes] = {
        "events.jsonl": _jsonl(events),
        "evidence.json": json.dumps(stream_evidence, indent=1).encode(),
        "checkpoints.json": json.dumps([{**cp, "consistency_to_latest": consistency.get(
            cp["number"], [])} for cp in checkpoints], indent=1).encode(),
        "bl_drafts.jsonl": _jsonl(bl_versions),
        "public_key.txt": ((public_key or "") + "\n").encode(),
    }
    for name, module in VERIFIER.items():
        files[name] = Path(module.__file__ or "").read_bytes()
    name = f"audit-{shipment_id}.zip"
    files["README.md"] = README.format(
        shipment=shipment_id, made=made.isoformat(), name=name,
        checkpoint=latest["number"] if latest else "(none yet)",
        position=latest["position"] if latest else "-",
        verifier_files=", ".join(VERIFIER)).encode()
    manifest = {"shipment_id": shipment_id, "made_at": made.isoformat(), "format": 1,
                "checkpoint": latest["number"] if latest else None,
                "files": {n: hashlib.sha256(b).hexdigest() for n, b in sorted(files.items())}}
    files["manifest.json"] = json.dumps(manifest, indent=1).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for n, b in files.items():
            z.writestr(n, b)
    return out.getvalue()
