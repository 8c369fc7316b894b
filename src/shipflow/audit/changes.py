"""What changed between two moments (or versions) of a stream, and which events changed it.

Built on the same pure folds as ``?as_of=``: the stream's events are folded up to the first
moment, then one event at a time up to the second; after each event every section (the
shipment's state, its charges, SLA timers and B/L draft; or a statement of account) is
rendered as the ``?as_of=`` answer renders it and compared with the section before the event.
The answer is the difference of the two ends (``bl_draft.diff``: dotted paths, before, after),
each change with the events whose own step touched that path (or a path above or below it).
No history is stored for this: only the events.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from shipflow.projections.bl_draft import diff

#: How many events one answer may step through (a longer range: ask for shorter ones).
MAX_EVENTS = 5000

Render = Callable[[Any], Any]  # folded state → the section as the as_of answer shows it
Step = Callable[[Any, Any], Any]  # (folded state or None, event) → folded state


class RangeError(ValueError):
    """A moment or version outside the stream's history: ``field`` names the parameter."""

    def __init__(self, rule: str, field: str, detail: str) -> None:
        super().__init__(detail)
        self.rule, self.field, self.detail = rule, field, detail


def version_at(events: Sequence[Any], at: int | datetime, field: str,
               now: datetime) -> int:
    """The version a moment or version names, refused when outside the history."""
    head = len(events)
    if isinstance(at, int):
        if not 1 <= at <= head:
            raise RangeError("version_unknown", field, f"{field}: version {at} does not "
                             f"exist; the history has versions 1 to {head}")
        return at
    if at > now:
        raise RangeError("moment_in_future", field, f"{field}: {at.isoformat()} is after "
                         "now; nothing is recorded there yet")
    known = [e.originator_version for e in events if e.timestamp <= at]
    if not known:
        raise RangeError("moment_before_history", field, f"{field}: {at.isoformat()} is "
                         f"before the first event ({events[0].timestamp.isoformat()})")
    return max(known)


def parse_moment(text: str, field: str) -> int | datetime:
    """A version (digits) or an ISO 8601 moment with its offset."""
    if text.strip().isascii() and text.strip().isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise RangeError("moment_format", field, f"{field}: {text!r} is neither a version "
                         "nor an ISO 8601 moment with an offset") from None
    if moment.tzinfo is None:
        raise RangeError("moment_format", field, f"{field}: {text!r} has no UTC offset")
    return moment


def who(event: Any, extra: Mapping[int, Mapping[str, Any]]) -> dict[str, Any]:
    meta = event.meta
    return {"version": event.originator_version, "type": type(event).__name__,
            "actor": meta.actor, "role": meta.role, "source": str(meta.source),
            "occurred_at": meta.occurred_at, "recorded_at": event.timestamp,
            **extra.get(event.originator_version, {})}


def _related(a: str, b: str) -> bool:
    return a == b or a.startswith(b + ".") or b.startswith(a + ".") or not a or not b


def changes(events: Sequence[Any], start: int, end: int, step: Step,
            sections: Mapping[str, Render],
            extra: Mapping[int, Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """The changes of every section from version ``start`` to ``end`` (see the docstring);
    ``extra`` adds facts about each event (its position and hash) to how it is named."""
    if end - start > MAX_EVENTS:
        raise RangeError("range_too_long", "from", f"from–to spans {end - start} events; "
                         f"ask for at most {MAX_EVENTS} at a time")
    state: Any = None
    for event in events[:start]:
        state = step(state, event)
    first = {name: render(state) for name, render in sections.items()}
    before = dict(first)
    touched: dict[str, list[tuple[Any, list[str]]]] = {name: [] for name in sections}
    for event in events[start:end]:
        state = step(state, event)
        for name, render in sections.items():
            after = render(state)
            paths = [d["path"] for d in diff(before[name], after)]
            if paths:
                touched[name].append((event, paths))
            before[name] = after
    extra = extra or {}
    out: dict[str, list[dict[str, Any]]] = {}
    for name in sections:
        out[name] = [{**d, "caused_by": [who(e, extra) for e, paths in touched[name]
                                         if any(_related(d["path"], p) for p in paths)]}
                     for d in diff(first[name], before[name])]
    return {"sections": out,
            "events": [who(e, extra) for e in events[start:end]]}
