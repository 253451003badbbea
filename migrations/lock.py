"""The PostgreSQL advisory lock every upgrade holds (migrations/env.py), so replicas that all run
`oneday db upgrade` at start-up take turns.

Here, with the migrations, not in `bot`: migrations stay below the composition root and import only
SQLAlchemy, Alembic and `models`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress

from sqlalchemy import Connection, text

# One fixed 64-bit key, the bytes of "oneday-m", so concurrent upgrades of one database run one after the other.
MIGRATION_LOCK_KEY = int.from_bytes(b"oneday-m", "big", signed=True)


@contextmanager
def migration_lock(connection: Connection) -> Iterator[None]:
    """On PostgreSQL, hold the migration advisory lock around a whole upgrade, on Alembic's own connection:
    replicas that all run `oneday db upgrade` at start-up take turns, and each later one reads the version
    table only after the previous one committed, so it finds head and does nothing. Without it they all see
    an empty database and all create the same tables (UniqueViolation).

    Session-level, not transaction-level: the lock is taken and committed before Alembic begins its own
    transaction (SQLAlchemy would otherwise have begun one for the SELECT, and Alembic, finding a transaction
    already open, would never commit it), and it outlives Alembic's transaction until unlocked here, or until
    the connection closes if the upgrade failed with the connection. SQLite has one writer anyway."""
    if connection.dialect.name != "postgresql":
        yield
        return
    connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
    connection.commit()
    try:
        yield
    finally:
        with suppress(Exception):  # never hide the upgrade's own error; closing the connection unlocks too
            if connection.in_transaction():
                connection.rollback()
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
            connection.commit()
