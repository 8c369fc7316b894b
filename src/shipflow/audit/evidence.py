"""shipflow's audit evidence, computable without the service: the canonical encoding of a
stored event, its hash, the Merkle trees of the log (RFC 9162 / RFC 6962, as Certificate
Transparency) and checkpoint signatures (Ed25519).

Standalone on purpose: the standard library only (``cryptography`` for signatures when it is
installed, else the RFC 8032 reference algorithm), nothing of shipflow. With :mod:`verdict`
and :mod:`verify_package` it is copied into every audit package (``verifier/``) and installed
as the ``shipflow-verify`` command; the service uses the same functions, so what it signs and
what an auditor checks cannot drift apart. docs/audit.md specifies all of it precisely enough
to write another verifier.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

CHAIN = "_chain"  # the member of a stored event's state that carries its chain
SIGNED = ("log", "number", "tree_size", "position", "root", "heads_count", "heads_root",
          "chained_from", "timestamp", "key_id")

# --- canonical JSON (RFC 8785, with integers written exactly) -----------------------------

class _Floats(threading.local):
    """Whether the text being parsed held a non-integer number (the fast path of
    :func:`canonical` cannot write one), noted per thread by one shared decoder."""

    seen = False


_FLOATS = _Floats()


def _float(text: str) -> float:
    _FLOATS.seen = True
    return float(text)


_DECODER = json.JSONDecoder(parse_float=_float)


def parse(text: str | bytes) -> tuple[Any, bool]:
    """A stored JSON text as a value, and whether it holds non-integer numbers."""
    _FLOATS.seen = False
    value = _DECODER.decode(text.decode() if isinstance(text, bytes) else text)
    return value, _FLOATS.seen


def canonical(value: Any, floats: bool = True) -> bytes:
    """The value's canonical UTF-8 text: members sorted by their names' UTF-16 code units, no
    whitespace, strings escaped only where JSON must, integers in full, other numbers as
    ECMAScript writes them. ``floats=False`` (the value holds none) allows a fast path."""
    if not floats:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        # Code-point order is UTF-16 order unless characters above U+DFFF are about.
        if not text or max(text) < "\ue000":
            return text.encode()
    return _write(value).encode()


def _write(v: Any) -> str:
    if isinstance(v, dict):
        items = sorted(v.items(), key=lambda kv: kv[0].encode("utf-16-be"))
        return "{" + ",".join(_string(k) + ":" + _write(x) for k, x in items) + "}"
    if isinstance(v, list):
        return "[" + ",".join(_write(x) for x in v) + "]"
    if isinstance(v, str):
        return _string(v)
    if v is True or v is False or v is None:
        return json.dumps(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return _number(v)
    raise TypeError(f"not a JSON value: {type(v).__name__}")


def _string(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


def _number(f: float) -> str:
    """ECMAScript Number::toString (RFC 8785 §3.2.2.3) from the shortest round-trip digits."""
    if f != f or f in (float("inf"), float("-inf")):
        raise ValueError("NaN and infinity are not JSON")
    if f == 0:
        return "0"
    sign, digits, exp = Decimal(repr(f)).normalize().as_tuple()
    s = "".join(map(str, digits))
    n = len(s) + int(exp)  # the decimal point sits after n digits
    k = len(s)
    if k <= n <= 21:
        out = s + "0" * (n - k)
    elif 0 < n <= 21:
        out = s[:n] + "." + s[n:]
    elif -6 < n <= 0:
        out = "0." + "0" * -n + s
    else:
        e = n - 1
        out = (s[0] + ("." + s[1:] if k > 1 else "") + "e" + ("+" if e > 0 else "-")
               + str(abs(e)))
    return ("-" if sign else "") + out


# --- the hash of a stored event ----------------------------------------------------------


def event_hash(originator_id: str, version: int, topic: str, state: dict[str, Any],
               floats: bool = True) -> str:
    """SHA-256 (hex) of the canonical text of ``{"originator_id", "originator_version",
    "topic", "state"}``, the state as stored less its own ``_chain.hash``."""
    chain = state.get(CHAIN)
    if isinstance(chain, dict) and "hash" in chain:
        state = {**state, CHAIN: {k: v for k, v in chain.items() if k != "hash"}}
    body = {"originator_id": originator_id, "originator_version": version, "topic": topic,
            "state": state}
    return hashlib.sha256(canonical(body, floats)).hexdigest()


def hash_of(event: dict[str, Any]) -> str:
    """The hash of an event given as the package lists it (``originator_id``,
    ``originator_version``, ``topic``, ``state``)."""
    return event_hash(event["originator_id"], event["originator_version"], event["topic"],
                      event["state"])


def chain_of(event: dict[str, Any]) -> dict[str, Any] | None:
    chain = event["state"].get(CHAIN)
    return chain if isinstance(chain, dict) else None


# --- Merkle trees (RFC 9162 §2.1) --------------------------------------------------------


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def leaf_hash(data: bytes) -> bytes:
    return sha(b"\x00" + data)


def node_hash(left: bytes, right: bytes) -> bytes:
    return sha(b"\x01" + left + right)


def log_leaf(position: int, event_hash_hex: str) -> bytes:
    """The leaf of the log tree: the event's log position (8 bytes, big-endian) and hash."""
    return leaf_hash(position.to_bytes(8, "big") + bytes.fromhex(event_hash_hex))


def head_leaf(originator_id: str, version: int, event_hash_hex: str) -> bytes:
    """The leaf of the heads tree: a stream's id (16 bytes), last version (8), last hash."""
    import uuid

    return leaf_hash(uuid.UUID(originator_id).bytes + version.to_bytes(8, "big")
                     + bytes.fromhex(event_hash_hex))


def root(leaves: Sequence[bytes]) -> bytes:
    """MTH of leaf hashes (the empty tree: SHA-256 of nothing)."""
    if not leaves:
        return sha(b"")
    level = list(leaves)
    while len(level) > 1:
        nxt = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def verify_inclusion(index: int, size: int, leaf: bytes, path: Iterable[bytes],
                     expected_root: bytes) -> bool:
    """RFC 9162 §2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == expected_root


def verify_consistency(size1: int, size2: int, root1: bytes, root2: bytes,
                       proof: Sequence[bytes]) -> bool:
    """RFC 9162 §2.1.4.2: the tree of ``size2`` extends the tree of ``size1``."""
    if size1 == size2:
        return not proof and root1 == root2
    if size1 == 0 or size1 > size2:
        return size1 == 0 and not proof
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # a power of two: its root is where the proof starts
        path.insert(0, root1)
    if not path:
        return False
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == root1 and sr == root2


# --- checkpoints -------------------------------------------------------------------------


def checkpoint_message(checkpoint: dict[str, Any]) -> bytes:
    """What a checkpoint's signature signs: the canonical text of its signed members."""
    return canonical({k: checkpoint[k] for k in SIGNED})


def key_id(public_key_hex: str) -> str:
    return hashlib.sha256(bytes.fromhex(public_key_hex)).hexdigest()[:16]


def signature_valid(checkpoint: dict[str, Any], public_key_hex: str) -> bool:
    """The checkpoint's Ed25519 signature, by ``cryptography`` when it is installed, else by
    the RFC 8032 reference algorithm below (slow, but needs nothing)."""
    if checkpoint.get("key_id") != key_id(public_key_hex):
        return False
    public, message = bytes.fromhex(public_key_hex), checkpoint_message(checkpoint)
    signature = bytes.fromhex(checkpoint["signature"])
    try:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    except ImportError:
        return ed25519_verify(public, message, signature)
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


# --- Ed25519 verification, RFC 8032 §6 (for a verifier without ``cryptography``) ---------

_P = 2**255 - 19
_Q = 2**252 + 27742317777372353535851937790883648493
_D = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)
Point = tuple[int, int, int, int]


def _add(a: Point, b: Point) -> Point:
    pa, pb = (a[1] - a[0]) * (b[1] - b[0]) % _P, (a[1] + a[0]) * (b[1] + b[0]) % _P
    c, d = 2 * a[3] * b[3] * _D % _P, 2 * a[2] * b[2] % _P
    e, f, g, h = pb - pa, d - c, d + c, pb + pa
    return e * f, g * h, f * g, e * h


def _mul(s: int, a: Point) -> Point:
    q: Point = (0, 1, 1, 0)
    while s > 0:
        if s & 1:
            q = _add(q, a)
        a, s = _add(a, a), s >> 1
    return q


def _x(y: int, sign: int) -> int | None:
    if y >= _P:
        return None
    x2 = (y * y - 1) * pow(_D * y * y + 1, _P - 2, _P)
    if x2 % _P == 0:
        return None if sign else 0
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P:
        x = x * _SQRT_M1 % _P
    if (x * x - x2) % _P:
        return None
    return _P - x if (x & 1) != sign else x


def _point(raw: bytes) -> Point | None:
    y = int.from_bytes(raw, "little")
    sign, y = y >> 255, y & ((1 << 255) - 1)
    x = _x(y, sign)
    return None if x is None else (x, y, 1, x * y % _P)


_GY = 4 * pow(5, _P - 2, _P) % _P
_G: Point = (_x(_GY, 0) or 0, _GY, 1, (_x(_GY, 0) or 0) * _GY % _P)


def ed25519_verify(public: bytes, message: bytes, signature: bytes) -> bool:
    if len(public) != 32 or len(signature) != 64:
        return False
    a, r = _point(public), _point(signature[:32])
    s = int.from_bytes(signature[32:], "little")
    if a is None or r is None or s >= _Q:
        return False
    h = int.from_bytes(hashlib.sha512(signature[:32] + public + message).digest(),
                       "little") % _Q
    sb, rha = _mul(s, _G), _add(r, _mul(h, a))
    return (sb[0] * rha[2] - rha[0] * sb[2]) % _P == 0 and \
        (sb[1] * rha[2] - rha[1] * sb[2]) % _P == 0
