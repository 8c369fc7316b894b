"""Changing stored events behind the service's back, the way someone with database access
could, to prove the audit names it. The append-only guard is lifted for each change
(``tamper.guard_lifted``) and put back after."""

from __future__ import annotations

import sqlite3
import uuid
from contextlib import closing
from typing import Any

import psycopg
from psycopg import sql

from shipflow.config import Settings
from tamper import guard_lifted


def _run(settings: Settings, statements: list[tuple[str, tuple[Any, ...]]]) -> None:
    """Each statement is written for SQLite (``?``, table ``stored_events``); on PostgreSQL
    the placeholders and the table are translated."""
    with guard_lifted(settings):
        if settings.is_postgres:
            table = sql.Identifier(settings.database_schema, "shipflow_events")
            with psycopg.connect(settings.database_url) as conn:
                for text, params in statements:
                    query = sql.SQL(text.replace("?", "%s").replace("stored_events", "{t}")
                                    .replace("rowid", "notification_id")).format(t=table)
                    conn.execute(query, params)
            return
        with closing(sqlite3.connect(settings.event_store_path)) as conn:
            for text, params in statements:
                conn.execute(text, params)
            conn.commit()


def _id(settings: Settings, stream: uuid.UUID) -> Any:
    return stream if settings.is_postgres else stream.hex


def read_state(settings: Settings, stream: uuid.UUID, version: int) -> bytes:
    if settings.is_postgres:
        with psycopg.connect(settings.database_url) as conn:
            row = conn.execute(sql.SQL("SELECT state FROM {} WHERE originator_id = %s AND "
                                       "originator_version = %s").format(
                sql.Identifier(settings.database_schema, "shipflow_events")),
                (stream, version)).fetchone()
    else:
        with closing(sqlite3.connect(settings.event_store_path)) as conn:
            row = conn.execute("SELECT state FROM stored_events WHERE originator_id = ? AND "
                               "originator_version = ?", (stream.hex, version)).fetchone()
    return bytes(row[0])


def read_topic(settings: Settings, stream: uuid.UUID, version: int) -> str:
    if settings.is_postgres:
        with psycopg.connect(settings.database_url) as conn:
            return conn.execute(sql.SQL("SELECT topic FROM {} WHERE originator_id = %s AND "
                                        "originator_version = %s").format(
                sql.Identifier(settings.database_schema, "shipflow_events")),
                (stream, version)).fetchone()[0]
    with closing(sqlite3.connect(settings.event_store_path)) as conn:
        return conn.execute("SELECT topic FROM stored_events WHERE originator_id = ? AND "
                            "originator_version = ?", (stream.hex, version)).fetchone()[0]


def set_state(settings: Settings, stream: uuid.UUID, version: int, state: bytes) -> None:
    _run(settings, [("UPDATE stored_events SET state = ? WHERE originator_id = ? AND "
                     "originator_version = ?", (state, _id(settings, stream), version))])


def delete_event(settings: Settings, stream: uuid.UUID, version: int) -> None:
    _run(settings, [("DELETE FROM stored_events WHERE originator_id = ? AND "
                     "originator_version = ?", (_id(settings, stream), version))])


def swap_versions(settings: Settings, stream: uuid.UUID, a: int, b: int) -> None:
    i = _id(settings, stream)
    move = ("UPDATE stored_events SET originator_version = ? WHERE originator_id = ? AND "
            "originator_version = ?")
    _run(settings, [(move, (-1, i, a)), (move, (a, i, b)), (move, (b, i, -1))])


def insert_event(settings: Settings, stream: uuid.UUID, version: int, topic: str,
                 state: bytes, shift_from: int | None = None, last: int = 0) -> None:
    """Insert a row at ``version``; with ``shift_from``, first move versions ``shift_from``
    … ``last`` up by one to make room (as a forger inserting into history must)."""
    i = _id(settings, stream)
    statements = [("UPDATE stored_events SET originator_version = ? WHERE originator_id = ? "
                   "AND originator_version = ?", (v + 1, i, v))
                  for v in range(last, (shift_from or last + 1) - 1, -1)]
    statements.append(("INSERT INTO stored_events (originator_id, originator_version, topic, "
                       "state) VALUES (?, ?, ?, ?)", (i, version, topic, state)))
    _run(settings, statements)
