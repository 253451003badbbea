"""Engine, one-unit-of-work sessions, and Alembic migrations run from code."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine
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


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    # The whole schema the history must match: the models and the tables platforms register on their metadata
    # (migrations/env.py falls back to the models alone, and never imports bot).
    cfg.attributes["target_metadata"] = Base.metadata
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


def head_revision() -> str | None:
    """The Alembic head of the installed migrations (what `oneday db upgrade` brings a database to)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
