"""The verdict on one stream: its events as stored now against its hash chain and against
what a signed checkpoint recorded of it; the first event that fails and how (content changed,
missing, re-ordered, extra). Standalone like :mod:`evidence` (copied into audit packages)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

try:
    from shipflow.audit.evidence import (
        chain_of,
        hash_of,
        head_leaf,
        log_leaf,
        verify_inclusion,
    )
except ImportError:  # in an audit package, beside evidence.py
    from evidence import (  # type: ignore[no-redef]
        chain_of,
        hash_of,
        head_leaf,
        log_leaf,
        verify_inclusion,
    )

Problem = dict[str, Any]


def problem(kind: str, version: int, detail: str, position: int | None = None) -> Problem:
    return {"kind": kind, "version": version, "position": position, "detail": detail}


def _proofs_hold(evidence: dict[str, Any]) -> list[Problem]:
    """The recorded leaves and head of the stream are under the checkpoint's roots."""
    cp, out = evidence["checkpoint"], []
    r, heads_root = bytes.fromhex(cp["root"]), bytes.fromhex(cp["heads_root"])
    for leaf in evidence["leaves"]:
        if not verify_inclusion(leaf["leaf_index"], cp["tree_size"],
                                log_leaf(leaf["position"], leaf["hash"]),
                                [bytes.fromhex(p) for p in leaf["path"]], r):
            out.append(problem("proof_failed", leaf["version"], f"the record of version "
                               f"{leaf['version']} is not under checkpoint {cp['number']}'s "
                               "root (the audit records were altered)", leaf["position"]))
    head = evidence.get("head")
    if head is not None and not verify_inclusion(
            head["index"], cp["heads_count"], head_leaf(evidence["stream"], head["version"],
                                                        head["hash"]),
            [bytes.fromhex(p) for p in head["path"]], heads_root):
        out.append(problem("proof_failed", head["version"], f"the stream's head is not under "
                           f"checkpoint {cp['number']}'s heads root"))
    return out


def verify_stream(events: Sequence[dict[str, Any]], evidence: dict[str, Any] | None,
                  hasher: Callable[[dict[str, Any]], str] = hash_of) -> dict[str, Any]:
    """The verdict on one stream: its events as stored now (each ``position``,
    ``originator_id``, ``originator_version``, ``topic``, ``state``; in version order) against
    what a checkpoint recorded of it (``evidence``: the ``checkpoint``, the stream's recorded
    ``leaves`` with inclusion paths, its ``head`` with a path in the heads tree; None before
    any checkpoint). See docs/audit.md, "Verdicts"."""
    cp = evidence["checkpoint"] if evidence else None
    number = cp["number"] if cp else None
    leaves = {leaf["version"]: leaf for leaf in (evidence or {}).get("leaves", [])}
    by_position = {leaf["position"]: leaf for leaf in leaves.values()}
    by_hash = {leaf["hash"]: leaf["version"] for leaf in leaves.values()}
    problems = _proofs_hold(evidence) if evidence else []
    hashes: dict[int, str] = {}
    seen: set[int] = set()
    chained_seen = False
    pending: list[int] = []
    chain_start = None
    expected = 1
    for e in events:
        v, pos = e["originator_version"], e["position"]
        for gap in range(expected, v):
            problems.append(_missing(gap, leaves.get(gap), cp))
        expected = max(expected, v + 1)
        seen.add(v)
        h = hashes[v] = hasher(e)
        by_hash.setdefault(h, v)
        chain = chain_of(e)
        leaf = leaves.get(v)
        found = None
        if leaf is not None:
            if leaf["position"] != pos:
                other = by_position.get(pos)
                found = (problem("reordered", v, f"the event stored as version {v} was recorded"
                                 f" as version {other['version']}", pos) if other else
                         problem("extra", v, f"version {v} at position {pos} is not the event "
                                 f"checkpoint {number} recorded as version {v} (at "
                                 f"position {leaf['position']})", pos))
            elif leaf["hash"] != h:
                found = _changed(e, h, leaves, by_hash, hasher)
        elif cp is not None and pos <= cp["position"]:
            found = problem("extra", v, f"version {v} at position {pos} lies under checkpoint "
                            f"{number} but was not recorded by it", pos)
        else:
            pending.append(v)
        if found is None:
            found = _link(e, h, chain, chained_seen, hashes, by_hash, leaves, hasher)
        if chain is not None:
            chained_seen = True
            if chain_start is None:
                chain_start = chain.get("start", v)
        if found is not None:
            problems.append(found)
    last = max(seen, default=0)
    for v, leaf in sorted(leaves.items()):
        if v not in seen and v > last:
            problems.append(_missing(v, leaf, cp))
    head = (evidence or {}).get("head")
    if head is not None and head["version"] > last and head["version"] not in leaves:
        problems.append(_missing(head["version"], None, cp))
    problems.sort(key=lambda p: (p["version"], p["kind"] != "proof_failed"))
    covered = [v for v in sorted(seen) if v not in pending]
    return _verdict(events, problems, cp, covered, pending, chain_start)


def _missing(v: int, leaf: dict[str, Any] | None, cp: dict[str, Any] | None) -> Problem:
    where = (f"checkpoint {cp['number']} recorded it at position {leaf['position']}"
             if leaf is not None and cp is not None else "the versions skip it")
    return problem("missing", v, f"version {v} is missing: {where}",
                   leaf["position"] if leaf else None)


def _changed(e: dict[str, Any], h: str, leaves: dict[int, Any], by_hash: dict[str, int],
             hasher: Callable[[dict[str, Any]], str]) -> Problem:
    """The content at a version differs from what was recorded: moved here from another
    version (re-ordered), or changed."""
    v, pos = e["originator_version"], e["position"]
    chain = chain_of(e)
    if chain is not None:
        prev = chain.get("prev")
        u = 1 if prev is None else (by_hash[prev] + 1 if prev in by_hash else None)
        if u is not None and u != v:
            as_u = hasher({**e, "originator_version": u})
            recorded = leaves[u]["hash"] if u in leaves else chain.get("hash")
            if as_u == recorded:
                return problem("reordered", v, f"the content stored as version {v} is the "
                               f"event recorded as version {u}", pos)
    return problem("content_changed", v, f"version {v} no longer has the content it was "
                   f"recorded with (hash {h[:12]}…, recorded "
                   f"{leaves[v]['hash'][:12] if v in leaves else chain and chain.get('hash')}…)",
                   pos)


def _link(e: dict[str, Any], h: str, chain: dict[str, Any] | None, chained_seen: bool,
          hashes: dict[int, str], by_hash: dict[str, int], leaves: dict[int, Any],
          hasher: Callable[[dict[str, Any]], str]) -> Problem | None:
    """The event's own chain: its hash is its content's, and it links to its predecessor."""
    v, pos = e["originator_version"], e["position"]
    if chain is None:
        if chained_seen:
            return problem("content_changed", v, f"version {v} carries no chain although "
                           "earlier versions do (its chain was removed)", pos)
        return None
    if chain.get("hash") != h:
        return _changed(e, h, leaves, by_hash, hasher)
    prev = chain.get("prev")
    want = hashes.get(v - 1) if v > 1 else None
    if prev != want:
        if prev is not None and prev in by_hash and by_hash[prev] + 1 != v:
            return problem("reordered", v, f"version {v} follows version {by_hash[prev]} in "
                           "the chain", pos)
        return problem("extra", v, f"version {v} does not link to version {v - 1} (a forged "
                       "or inserted event)", pos)
    start = chain.get("start")
    if start is not None and (start != v or chained_seen):
        return problem("content_changed", v, f"version {v} claims a chain start at {start}",
                       pos)
    if start is None and v > 1 and not chained_seen:
        return problem("content_changed", v, f"version {v} follows unchained versions but "
                       "records no chain start", pos)
    return None


def _verdict(events: Sequence[dict[str, Any]], problems: list[Problem],
             cp: dict[str, Any] | None, covered: list[int], pending: list[int],
             chain_start: int | None) -> dict[str, Any]:
    verdict: dict[str, Any] = {
        "verified": not problems, "problems": problems, "chain_start": chain_start,
        "checkpoint": cp["number"] if cp else None,
        "checkpoint_position": cp["position"] if cp else None,
        "version": max(covered, default=0), "pending": pending,
        "versions": len(events)}
    if problems:
        p = problems[0]
        verdict["summary"] = f"version {p['version']}: {p['kind'].replace('_', ' ')} — " \
                             f"{p['detail']}"
    elif cp is None or not covered:
        verdict["summary"] = (f"chain intact up to version {len(events)}; no checkpoint "
                              "covers it yet")
    else:
        at = max(e["position"] for e in events if e["originator_version"] in set(covered))
        verdict["position"] = at
        verdict["summary"] = (f"verified up to version {verdict['version']} at position {at}"
                              f", checkpoint {cp['number']}"
                              + (f"; {_span(pending)} chained, not yet under a checkpoint"
                                 if pending else ""))
    return verdict


def _span(versions: list[int]) -> str:
    if len(versions) == 1:
        return f"version {versions[0]}"
    return f"versions {versions[0]}–{versions[-1]}"
