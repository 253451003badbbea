"""Creating an engine: the one place that says how Oneday connects to its database.

It lives below the composition root so that `bot/db.py` (every process) and `migrations/env.py` (Alembic)
create engines the same way, and migrations never import `bot`.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import sqlite3
import threading
import time
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url

# How long a writer waits at the process's gate before going on to SQLite's own lock (which then waits up to
# its own `timeout`): the gate is an optimisation, never a new way to fail.
GATE_WAIT = 30.0
# How often a writer looks whether another process has given the file's gate back (a lock file cannot be waited
# on with a time limit): a hand-over costs a quarter of a millisecond on average, against SQLite's busy handler's
# sleeps of 1 to 100 ms.
GATE_POLL = 0.0005
_WRITES = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER)\b", re.IGNORECASE)
log = logging.getLogger(__name__)


class WriterGate:
    """One database file's writers, queued: a thread lock for this process's writers, then an exclusive lock on
    `<file>-gate` beside the database for every other process's (`oneday serve --workers N`, `oneday worker`, the
    CLI). Without the second, writers of two worker processes met SQLite's busy handler again (p99 of `/action`
    at 16 concurrent requests 2.0 s with two workers, against 0.6 s with one, and requests past Slack's ack
    budget). The lock file is only ever locked, never written; the kernel drops a dead process's lock."""

    def __init__(self, database: str | None) -> None:
        self._threads = threading.Lock()
        self._path = f"{database}-gate" if database else None
        self._fd: int | None = None
        self._pid = 0

    def acquire(self, timeout: float) -> bool:
        """Take the gate, waiting up to `timeout` seconds in all; False if it could not be had in time."""
        deadline = time.monotonic() + timeout
        if not self._threads.acquire(timeout=timeout):
            return False
        fd = self._file()
        if fd is None:
            return True
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    self._threads.release()
                    return False
                time.sleep(GATE_POLL)

    def release(self) -> None:
        fd = self._fd if self._pid == os.getpid() else None
        try:
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()

    def _file(self) -> int | None:
        """This process's descriptor of the lock file (a forked child opens its own: a lock belongs to the open
        file, which a fork shares). None when it cannot be opened (a read-only directory): this process's writers
        still queue, other processes' meet SQLite's busy handler as before."""
        if self._path is None:
            return None
        if self._pid != os.getpid():
            try:
                self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            except OSError as exc:
                log.warning("cannot open the writer gate %s (%s): other processes' writers are not queued",
                            self._path, exc.strerror)
                self._fd = None
            self._pid = os.getpid()
        return self._fd


_gates: dict[str, WriterGate] = {}
_gates_lock = threading.Lock()


def _gate_for(database: str | None) -> WriterGate:
    """One gate per database file in this process (every engine on the file shares it); in memory, one each. A
    `file:` URI queues this process's writers only (its lock file's name would be the URI's)."""
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return WriterGate(None)
    with _gates_lock:
        if database not in _gates:
            _gates[database] = WriterGate(None if database.startswith("file:") else database)
        return _gates[database]


class GatedConnection(sqlite3.Connection):
    """A SQLite connection that gives the process's writer gate back when its transaction ends.

    Why: SQLite has one writer per file. A second writer that finds the lock taken does not queue: its busy
    handler sleeps 1, 2, 5, 10, ... 100 ms between tries, so under 16 concurrent commands a write could wait
    seconds after the lock was free (p99 1-3 s in benchmarks/mix.py, against Slack's 3 s). Writers queue at the
    file's `WriterGate` instead and go the moment the previous one commits, in this process or another."""

    gate: WriterGate | None = None
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
