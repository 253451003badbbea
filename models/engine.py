"""Creating an engine: the one place that says how Oneday connects to its database.

It lives below the composition root so that `bot/db.py` (every process) and `migrations/env.py` (Alembic)
create engines the same way, and migrations never import `bot`.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url

# How long a writer waits at the process's gate before going on to SQLite's own lock (which then waits up to
# its own `timeout`): the gate is an optimisation, never a new way to fail.
GATE_WAIT = 30.0
_WRITES = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER)\b", re.IGNORECASE)
_gates: dict[str, threading.Lock] = {}
_gates_lock = threading.Lock()


def _gate_for(database: str | None) -> threading.Lock:
    """One gate per database file in this process (every engine on the file shares it); in memory, one each."""
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return threading.Lock()
    with _gates_lock:
        return _gates.setdefault(database, threading.Lock())


class GatedConnection(sqlite3.Connection):
    """A SQLite connection that gives the process's writer gate back when its transaction ends.

    Why: SQLite has one writer per file. A second writer that finds the lock taken does not queue: its busy
    handler sleeps 1, 2, 5, 10, ... 100 ms between tries, so under 16 concurrent commands a write could wait
    seconds after the lock was free (p99 1-3 s in benchmarks/mix.py, against Slack's 3 s). Writers in one
    process queue at a lock instead and go the moment the previous one commits; only writers in other
    processes still meet the busy handler."""

    gate: threading.Lock | None = None
    holding = False

    def take_gate(self) -> None:
        if self.holding or self.gate is None:
            return
        self.holding = self.gate.acquire(timeout=GATE_WAIT)

    def _give_back(self) -> None:
        if self.holding and self.gate is not None:
            self.holding = False
            self.gate.release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._give_back()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._give_back()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._give_back()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; on SQLite, turn foreign keys on, queue this process's writers at one gate per file, and
    wait for other processes' locks instead of failing.

    `hide_parameters`: a database error's message otherwise quotes the statement's values (action wording,
    target details), and unexpected errors are logged with their trace."""
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        connect_args = {"timeout": 30, "factory": GatedConnection, **kwargs.pop("connect_args", {})}
        engine = create_engine(url, connect_args=connect_args, **kwargs)
        gate = _gate_for(make_url(url).database)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.close()
            if isinstance(dbapi_conn, GatedConnection):
                dbapi_conn.gate = gate

        @event.listens_for(engine, "before_cursor_execute")
        def _writer_gate(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            dbapi_conn = conn.connection.dbapi_connection
            if isinstance(dbapi_conn, GatedConnection) and not dbapi_conn.holding and _WRITES.match(statement):
                dbapi_conn.take_gate()

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)
