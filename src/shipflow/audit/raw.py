"""Stored events exactly as the database holds them, with their log positions: what the
audit checks read (never the decoded, upcast events)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any
from uuid import UUID

from shipflow.audit.evidence import event_hash, parse
from shipflow.store import Shipflow


def stream_rows(store: Shipflow, stream: UUID) -> list[dict[str, Any]]:
    """Every stored event of one stream, in version order, as the audit functions take them:
    ``position``, ``originator_id``, ``originator_version``, ``topic``, ``state`` (parsed)
    and ``text`` (the stored bytes)."""
    recorder: Any = store.recorder
    query: Any
    if hasattr(recorder.datastore, "schema"):  # PostgreSQL
        from psycopg.sql import SQL, Identifier

        query = SQL("SELECT notification_id, originator_version, topic, state FROM {}.{} "
                    "WHERE originator_id = %s ORDER BY originator_version").format(
            Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name))
        params: tuple[Any, ...] = (stream,)
    else:
        query = (f"SELECT rowid, originator_version, topic, state FROM "  # noqa: S608
                 f"{recorder.events_table_name} WHERE originator_id = ? "
                 "ORDER BY originator_version")
        params = (stream.hex,)
    with recorder.datastore.transaction(commit=False) as cursor:
        cursor.execute(query, params)
        rows = cursor.fetchall()
    out = []
    for row in rows:
        position, version, topic, state = (row.values() if isinstance(row, dict) else row)
        out.append(row_dict(int(position), str(stream), int(version), topic, bytes(state)))
    return out


def row_dict(position: int, stream: str, version: int, topic: str,
             text: bytes) -> dict[str, Any]:
    state, floats = parse(text)
    return {"position": position, "originator_id": stream, "originator_version": version,
            "topic": topic, "state": state, "text": text, "floats": floats}


def log_rows(store: Shipflow, after: int = 0, batch: int = 5000
             ) -> Iterator[dict[str, Any]]:
    """Every stored event of the log after a position, in log order."""
    while True:
        notes = store.recorder.select_notifications(start=after, limit=batch,
                                                    inclusive_of_start=False)
        for n in notes:
            yield row_dict(n.id, str(UUID(str(n.originator_id))), n.originator_version,
                           n.topic, bytes(n.state))
        if len(notes) < batch:
            return
        after = notes[-1].id


def stored_hash(row: dict[str, Any]) -> str:
    """The hash of a stored event as the service checks it: the canonical hash of its value,
    provided the stored text is the compact form shipflow writes; a text that was altered
    without changing its value (spacing, escapes, member order) hashes to a value no record
    holds, so it is reported as changed too."""
    state, text = row["state"], row["text"]
    if json.dumps(state, ensure_ascii=False, separators=(",", ":")).encode() != text:
        return "altered-text:" + hashlib.sha256(text).hexdigest()
    return event_hash(row["originator_id"], row["originator_version"], row["topic"], state,
                      row.get("floats", True))
