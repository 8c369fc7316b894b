"""A small persistent (immutable) map with structural sharing.

The CustomerAccount keeps its invoices, payments and notices in these maps so that an
event changes an account with 10,000 invoices in constant time, and a view can keep a
reference to the maps as they were after an event (no copy, no later mutation). Two
versions of a map share every bucket an update did not touch, so :meth:`PMap.changed`
finds what differs between them by identity, without walking the whole map.

Layout: 32 × 32 buckets by the key's hash; a bucket is a small dict copied on write.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Generic, TypeVar

from eventsourcing.persistence import Transcoding

V = TypeVar("V")

_W = 32
_EMPTY: tuple[Any, ...] = (None,) * _W


def _slot(key: str) -> tuple[int, int]:
    h = hash(key)
    return (h >> 5) & 31, h & 31


class PMap(Mapping[str, V], Generic[V]):
    __slots__ = ("_len", "_root")

    def __init__(self, root: tuple[Any, ...] | None = None, length: int = 0) -> None:
        self._root = root
        self._len = length

    @classmethod
    def of(cls, items: Mapping[str, V] | Iterable[tuple[str, V]] = ()) -> PMap[V]:
        m: PMap[V] = cls()
        pairs = items.items() if isinstance(items, Mapping) else items
        for k, v in pairs:
            m = m.set(k, v)
        return m

    def __getitem__(self, key: str) -> V:
        if self._root is not None:
            i, j = _slot(key)
            mid = self._root[i]
            if mid is not None and mid[j] is not None:
                return mid[j][key]
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        for mid in self._root or ():
            for bucket in mid or ():
                if bucket:
                    yield from bucket

    def __len__(self) -> int:
        return self._len

    def __repr__(self) -> str:
        return f"PMap({dict(self.items())!r})"

    def set(self, key: str, value: V) -> PMap[V]:
        i, j = _slot(key)
        root = self._root or _EMPTY
        mid = root[i] or _EMPTY
        bucket = mid[j] or {}
        grown = key not in bucket
        new_bucket = {**bucket, key: value}
        new_mid = (*mid[:j], new_bucket, *mid[j + 1:])
        return PMap((*root[:i], new_mid, *root[i + 1:]), self._len + grown)

    def delete(self, key: str) -> PMap[V]:
        if key not in self:
            return self
        i, j = _slot(key)
        assert self._root is not None
        mid = self._root[i]
        bucket = {k: v for k, v in mid[j].items() if k != key}
        new_mid = (*mid[:j], bucket or None, *mid[j + 1:])
        return PMap((*self._root[:i], new_mid, *self._root[i + 1:]), self._len - 1)

    def changed(self, before: PMap[V] | None) -> Iterator[str]:
        """Keys whose value is not the same object in ``before`` (added, replaced or gone)."""
        if before is None or before._root is None:
            yield from self
            return
        if self._root is None:
            yield from before
            return
        for mid_a, mid_b in zip(self._root, before._root, strict=True):
            if mid_a is mid_b:
                continue
            for b_a, b_b in zip(mid_a or _EMPTY, mid_b or _EMPTY, strict=True):
                if b_a is b_b:
                    continue
                b_a, b_b = b_a or {}, b_b or {}
                for k in b_a.keys() | b_b.keys():
                    if b_a.get(k) is not b_b.get(k):
                        yield k


class PMapAsDict(Transcoding):
    """How a PMap is stored in a snapshot: as a plain JSON object."""

    type = PMap
    name = "pmap"

    def encode(self, obj: PMap[Any]) -> dict[str, Any]:
        return dict(obj.items())

    def decode(self, data: dict[str, Any]) -> PMap[Any]:
        return PMap.of(data)
