"""Creating an engine: the one place that says how Oneday connects to its database.

It lives below the composition root so that `bot/db.py` (every process) and `migrations/env.py` (Alembic)
create engines the same way, and migrations never import `bot`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; on SQLite, turn foreign keys on and wait for locks instead of failing.

    `hide_parameters`: a database error's message otherwise quotes the statement's values (action wording,
    target details), and unexpected errors are logged with their trace."""
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"timeout": 30})
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.close()

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)
