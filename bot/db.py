"""Engine, one-unit-of-work sessions, and Alembic migrations run from code."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.util.exc import CommandError
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

import migrations
from bot.platforms import PLATFORMS
from models import Base
from models.engine import make_engine

# Each platform's own tables (e.g. Slack's installation store) share the one Alembic history and its drift check.
for _platform in PLATFORMS:
    _platform.register_tables(Base.metadata)

# The installed package's own folder, never a path from the repository root, so `oneday db upgrade` and the demo
# work from a wheel (env.py, versions/ and script.py.mako ship as package files; tests/runtime/test_wheel.py checks it).
MIGRATIONS_DIR = Path(migrations.__file__).parent

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


def alembic_config(url: str, output_buffer: io.StringIO | None = None) -> Config:
    cfg = Config(output_buffer=output_buffer)
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    # The whole schema the history must match: the models and the tables platforms register on their metadata
    # (migrations/env.py falls back to the models alone, and never imports bot).
    cfg.attributes["target_metadata"] = Base.metadata
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


class MigrationSqlError(Exception):
    """The SQL of an upgrade cannot be written without a database (see upgrade_sql)."""


def upgrade_sql(dialect: str, revision: str = "head", start: str | None = None) -> str:
    """The SQL an upgrade to `revision` would run, for a DBA to read or run (Alembic's offline mode), from an
    empty database or from revision `start`. Only a dialect is given, never a database: nothing is connected to.

    PostgreSQL only in practice: SQLite's migrations rebuild tables (batch mode), which needs a live database to
    reflect; that case raises MigrationSqlError with Alembic's reason."""
    if dialect == "sqlite":
        raise MigrationSqlError("SQLite's migrations rebuild tables, which needs the live database: run `oneday db "
                                "upgrade` on it, or write PostgreSQL's SQL (--dialect postgresql)")
    buffer = io.StringIO()
    try:
        command.upgrade(alembic_config(f"{dialect}://", buffer), f"{start}:{revision}" if start else revision,
                        sql=True)
    except (CommandError, ArgumentError) as exc:  # an unknown revision or dialect
        raise MigrationSqlError(str(exc)) from exc
    return buffer.getvalue()


def dialect_of(url: str) -> str:
    """'postgresql' for 'postgresql+psycopg://...', 'sqlite' for 'sqlite:///x.db'."""
    return make_url(url).get_backend_name()


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


def head_revision() -> str | None:
    """The Alembic head of the installed migrations (what `oneday db upgrade` brings a database to)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
