"""``shipflow-verify``: check a shipment's audit package offline, without the service.

    python verifier/verify.py audit-<id>.zip --public-key HEX [--kept checkpoints.json]

Standalone like :mod:`evidence` and :mod:`verdict` (copied into every package): the standard
library and ``cryptography`` only. Exit status 0 when everything verifies, 1 when anything
fails (the first failure is named), 2 for a package or key it cannot read.
"""

from __future__ import annotations

import argparse
import json
import sys
import zipfile
from pathlib import Path
from typing import Any

try:
    from shipflow.audit.evidence import signature_valid, verify_consistency
    from shipflow.audit.verdict import verify_stream
except ImportError:  # in an audit package: beside this file
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from evidence import signature_valid, verify_consistency  # type: ignore[no-redef]
    from verdict import verify_stream  # type: ignore[no-redef]


def read_package(path: Path) -> dict[str, Any]:
    with zipfile.ZipFile(path) as z:
        text = {n: z.read(n).decode() for n in z.namelist()}
    return {"events": [json.loads(line) for line in text["events.jsonl"].splitlines()
                       if line.strip()],
            "evidence": json.loads(text["evidence.json"]),
            "checkpoints": json.loads(text["checkpoints.json"]),
            "manifest": json.loads(text["manifest.json"])}


def _kept(path: Path) -> list[dict[str, Any]]:
    data = json.loads(path.read_text())
    return data["checkpoints"] if isinstance(data, dict) else data


def verify(package: dict[str, Any], public_key: str,
           kept: list[dict[str, Any]] = ()) -> tuple[bool, list[str]]:  # type: ignore[assignment]
    """(verified, lines to print)."""
    lines: list[str] = []
    ok = True
    evidence = package["evidence"]
    latest = evidence["checkpoint"] if evidence else None
    if latest is not None and not signature_valid(latest, public_key):
        return False, [f"checkpoint {latest['number']}: the signature does not verify with "
                       "this public key"]
    cps = {cp["number"]: cp for cp in package["checkpoints"]}
    for cp in [*package["checkpoints"], *kept]:
        if not signature_valid(cp, public_key):
            ok = False
            lines.append(f"checkpoint {cp['number']}: signature invalid")
            continue
        if latest is None:
            continue
        proof = cps.get(cp["number"], {}).get("consistency_to_latest", [])
        if not verify_consistency(cp["tree_size"], latest["tree_size"],
                                  bytes.fromhex(cp["root"]), bytes.fromhex(latest["root"]),
                                  [bytes.fromhex(p) for p in proof]):
            ok = False
            lines.append(f"checkpoint {cp['number']} ({cp['tree_size']} events): the latest "
                         f"checkpoint {latest['number']} does not extend it")
    if kept and ok:
        lines.append(f"{len(kept)} kept checkpoint(s) consistent with checkpoint "
                     f"{latest['number'] if latest else '-'}")
    events = sorted(package["events"], key=lambda e: e["originator_version"])
    verdict = verify_stream(events, evidence)
    ok = ok and verdict["verified"]
    lines.insert(0, verdict["summary"])
    for p in verdict["problems"][1:]:
        lines.append(f"  also version {p['version']}: {p['kind']} — {p['detail']}")
    return ok, lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="shipflow-verify", description=__doc__.split("\n")[0])
    parser.add_argument("package", type=Path, help="the audit package (zip)")
    parser.add_argument("--public-key", required=True,
                        help="the service's Ed25519 public key, 64 hex digits (or @FILE)")
    parser.add_argument("--kept", type=Path, help="checkpoints you kept earlier (the JSON of "
                        "GET /audit/checkpoints, or a list of checkpoints)")
    args = parser.parse_args(argv)
    key = args.public_key
    if key.startswith("@"):
        key = Path(key[1:]).read_text().strip()
    try:
        package = read_package(args.package)
        kept = _kept(args.kept) if args.kept else []
        bytes.fromhex(key)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as e:
        print(f"shipflow-verify: cannot read the package, key or kept checkpoints: {e}",
              file=sys.stderr)
        return 2
    ok, lines = verify(package, key, kept)
    print("\n".join(lines))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
