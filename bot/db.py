"""Engine, one-unit-of-work sessions, and Alembic migrations run from code."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

import migrations
from bot.slack.install_tables import register_installation_tables
from models import Base

# The Slack installation store's tables share the one Alembic history (and the drift check).
register_installation_tables(Base.metadata)

# The installed package's own folder, never a path from the repository root, so `oneday db upgrade` and the demo
# work from a wheel (env.py, versions/ and script.py.mako ship as package files; tests/test_wheel.py checks it).
MIGRATIONS_DIR = Path(migrations.__file__).parent
# PostgreSQL advisory lock held by every `oneday db upgrade` (migrations/env.py): one fixed 64-bit key, the
# bytes of "oneday-m", so concurrent upgrades of one database run one after the other.
MIGRATION_LOCK_KEY = int.from_bytes(b"oneday-m", "big", signed=True)


def make_engine(url: str, **kwargs: object) -> Engine:
    """Create an engine; on SQLite, turn foreign keys on and wait for locks instead of failing.

    `hide_parameters`: a database error's message otherwise quotes the statement's values (action wording,
    target details), and unexpected errors are logged with their trace."""
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"timeout": 30})
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.close()

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: commit if the block finishes, roll back if it raises. Services never commit."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def migration_lock(connection: Connection) -> Iterator[None]:
    """On PostgreSQL, hold the migration advisory lock around a whole upgrade, on Alembic's own connection
    (migrations/env.py): replicas that all run `oneday db upgrade` at start-up take turns, and each later one
    reads the version table only after the previous one committed, so it finds head and does nothing. Without
    it they all see an empty database and all create the same tables (UniqueViolation).

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


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)


def current_revision(url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
