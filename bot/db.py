"""Engine, one-unit-of-work sessions, Alembic migrations run from code, and the data keys the models seal with.

File modes: a SQLite database holds police intelligence, so its file is created 0600 before SQLite opens it
(SQLite then creates its -wal, -shm and -journal files with the database file's mode) and an existing file that
others may read is narrowed to 0600. Key files Oneday creates are 0600 too.
"""

from __future__ import annotations

import io
import os
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alembic import command
from alembic.config import Config
from alembic.util.exc import CommandError
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

import migrations
from bot.platforms import PLATFORMS
from models import Base, sealed
from models.engine import make_engine as _make_engine

if TYPE_CHECKING:
    from bot.config import Settings

PRIVATE = 0o600

# Each platform's own tables (e.g. Slack's installation store) share the one Alembic history and its drift check.
for _platform in PLATFORMS:
    _platform.register_tables(Base.metadata)

# The installed package's own folder, never a path from the repository root, so `oneday db upgrade` and the demo
# work from a wheel (env.py, versions/ and script.py.mako ship as package files; tests/runtime/test_wheel.py checks it).
MIGRATIONS_DIR = Path(migrations.__file__).parent

def secure_sqlite_file(url: str) -> None:
    """Create the SQLite file of `url` as 0600 if it does not exist yet, or narrow an existing one to 0600 (and
    its -wal, -shm and -journal files); nothing for other databases or SQLite in memory."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:" \
            or parsed.database.startswith("file:"):
        return
    path = Path(parsed.database)
    if path.parent.is_dir():
        try:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE))
        except FileExistsError:
            pass
    for one in (path, *(path.with_name(path.name + s) for s in ("-wal", "-shm", "-journal"))):
        try:
            mode = one.stat().st_mode
        except OSError:
            continue
        if stat.S_IMODE(mode) & 0o077:
            one.chmod(PRIVATE)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """models.engine's engine, with a SQLite file created 0600 first (see the module's docstring)."""
    secure_sqlite_file(url)
    return _make_engine(url, **kwargs)


def write_private(path: Path, text: str) -> None:
    """Write an export or a document readable by its owner only (0600), whatever the umask; an existing file is
    narrowed to 0600 before it is written."""
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, PRIVATE)
    try:
        os.fchmod(fd, PRIVATE)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            fd = -1
            out.write(text)
    finally:
        if fd >= 0:
            os.close(fd)


def key_source(settings: Settings) -> Callable[[], sealed.KeyRing]:
    """How this process gets its key ring (models/sealed.py), loaded on first use: ONEDAY_DATA_KEY, else
    ONEDAY_DATA_KEY_FILE (read again, so a rotation's new file is seen by a new process), else a SQLite
    database's own key file beside it, created 0600 when first needed; SQLite in memory: a key for the process."""
    from bot import config

    if settings.data_keys:
        keys = settings.data_keys
        return lambda: sealed.KeyRing(keys)
    if settings.data_key_file is not None:
        named = settings.data_key_file
        return lambda: sealed.KeyRing(config.read_key_file(named))
    try:
        config.check_keys(settings)
    except config.ConfigError as exc:  # the CLI refuses earlier (require_keys); this is for any other way in
        problem = str(exc)

        def refuse() -> sealed.KeyRing:
            raise sealed.SealedError(problem)

        return refuse
    path = config.default_key_file(settings.database_url)
    if path is None:
        ring = sealed.KeyRing.generate()
        return lambda: ring
    own = path
    return lambda: sealed.KeyRing(ensure_key_file(own))


def ensure_key_file(path: Path) -> tuple[bytes, ...]:
    """The keys of a SQLite database's own key file, creating it (0600, one new key) if it does not exist."""
    from bot import config

    if not path.exists():
        text = (f"# Oneday data key for {path.name[:-len('.key')]}: without it the database's target details "
                f"cannot be read. Keep a copy apart from the database's backups.\n{sealed.encode_key(sealed.new_key())}\n")
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE)
        except FileExistsError:  # another process made it first: use theirs
            pass
        else:
            with os.fdopen(fd, "w", encoding="ascii") as out:
                out.write(text)
    return config.read_key_file(path, name="the database's key file")


def use_keys(settings: Settings) -> None:
    """Hand the models this process's key ring (see key_source). Called by the edge: the CLI, uvicorn's workers."""
    sealed.use(key_source(settings))


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
    secure_sqlite_file(url)
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
