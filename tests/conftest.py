"""Shared pytest fixtures."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import uuid
from collections.abc import Iterator

import pytest
from moments import FILE_LOADED
from pgserver import ThrowawayPostgres

# Every `oneday serve` the suite starts runs one worker process (the default is the machine's cores), so a test's
# fake Slack sees one bolt app's start-up and one Socket Mode connection; tests/runtime/test_edge.py runs several.
os.environ.setdefault("ONEDAY_WORKERS", "1")
# Slack's ack budget (bot/slack/http.py, 2 s in production): past it a command is acknowledged empty and answered
# through its response_url. On a loaded CI machine a first render could pass 2 s and move an answer the test reads
# from the ack; tests/runtime/test_ack_budget.py sets its own short budget to check the late path.
os.environ.setdefault("ONEDAY_ACK_BUDGET_S", "30")

# Encryption at rest (models/sealed.py): one fixed test data key, for this process and every `oneday` the suite
# starts (they inherit the environment), so a database prepared here opens there. Tests of the default key file
# and of wrong keys set their own.
TEST_DATA_KEY = base64.b64encode(hashlib.sha256(b"oneday test data key").digest()).decode("ascii")
os.environ["ONEDAY_DATA_KEY"] = TEST_DATA_KEY
os.environ.pop("ONEDAY_DATA_KEY_FILE", None)


def _install_test_key() -> None:
    from models import sealed

    sealed.use(sealed.KeyRing((base64.b64decode(TEST_DATA_KEY),)))


_install_test_key()

# ----------------------------------------------------------------------------------------
# PostgreSQL: a real, throwaway server started by the test run itself.
#
# No skipping: if the server cannot start, the fixture raises and every test that uses it
# errors, so the run fails.  (Install the binaries with `bash .ci/ensure-postgres`.)
# ----------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres() -> Iterator[ThrowawayPostgres]:
    """One started server for the whole session; stopped and deleted at the end."""
    with ThrowawayPostgres() as server:
        yield server


def _database_name(request: pytest.FixtureRequest) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", request.node.name.lower()).strip("_")[:40]
    return f"t_{slug}_{uuid.uuid4().hex[:8]}"


@pytest.fixture
def pg_url(postgres: ThrowawayPostgres, request: pytest.FixtureRequest) -> Iterator[str]:
    """SQLAlchemy URL of a fresh, empty database that belongs to this test alone.

    For the tests of the migrations themselves; a test that only needs the schema takes ``pg_db_url``."""
    name = _database_name(request)
    yield postgres.create_database(name)
    postgres.drop_database(name)


@pytest.fixture(scope="session")
def pg_template(postgres: ThrowawayPostgres) -> str:
    """Name of a database upgraded to head once per session: the template of every ``pg_db_url``.

    Nothing may stay connected to it (CREATE DATABASE ... TEMPLATE refuses then): the migrations run on a
    NullPool engine that is disposed, and no test gets its URL."""
    from bot import db

    name = "t_template_head"
    db.upgrade(postgres.create_database(name))
    return name


@pytest.fixture
def pg_db_url(postgres: ThrowawayPostgres, pg_template: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """SQLAlchemy URL of a database at head (a copy of ``pg_template``) that belongs to this test alone."""
    name = _database_name(request)
    yield postgres.create_database(name, template=pg_template)
    postgres.drop_database(name)


# ---------------------------------------------------------------- end of PostgreSQL block


# ----------------------------------------------------------------------------------------
# Oneday database fixtures (partnership file, migrations, import, CLI tests).
#
# A SQLite file database upgraded with the real Alembic history, real sessions from
# bot.db, and the sample partnership file.  The upgrade (and the sample's load) runs once
# per session into template files; each test gets its own byte-for-byte copy.
# ----------------------------------------------------------------------------------------

from pathlib import Path  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
NORTHTOWN = REPO_ROOT / "bot" / "sample" / "northtown.yaml"


@pytest.fixture
def northtown_text() -> str:
    """The text of bot/sample/northtown.yaml."""
    return NORTHTOWN.read_text(encoding="utf-8")


def _quiescent_copy(source: Path, target: Path) -> None:
    """Copy a SQLite database file that no connection has open (its WAL checkpointed into the file, so the one
    file is the whole database) byte for byte."""
    leftovers = [p.name for p in (source.with_name(source.name + "-wal"), source.with_name(source.name + "-shm"))
                 if p.exists()]
    assert not leftovers, f"{source} is still open somewhere ({leftovers}): a copy would miss data"
    shutil.copyfile(source, target)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file upgraded to head with the project's real migrations, once per session.

    Tests get copies (``sqlite_db_url``); the migrations themselves are tested on empty databases in
    tests/runtime/test_migrations.py and through `oneday db upgrade` in tests/runtime/test_cli.py."""
    from bot import db

    path = tmp_path_factory.mktemp("sqlite-template") / "oneday.db"
    db.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def northtown_template(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of ``sqlite_template`` with bot/sample/northtown.yaml loaded and committed, once per session."""
    from bot import db
    from commands.partnership import file as partnership

    path = tmp_path_factory.mktemp("northtown-template") / "oneday.db"
    _quiescent_copy(sqlite_template, path)
    engine = db.make_engine(f"sqlite:///{path}")
    try:
        with db.unit_of_work(db.session_factory(engine)) as session:
            changes = partnership.load(session, NORTHTOWN.read_text(encoding="utf-8"), source="northtown.yaml",
                                          now=FILE_LOADED)
    finally:
        engine.dispose()
    assert changes, "loading the sample into an empty database must change something"
    return path


@pytest.fixture
def copy_database(tmp_path: Path):  # type: ignore[no-untyped-def]
    """``copy_database(template, name)``: a private copy of a template file in this test's tmp_path; its URL."""

    def copy(template: Path, name: str = "oneday.db") -> str:
        target = tmp_path / name
        _quiescent_copy(template, target)
        return f"sqlite:///{target}"

    return copy


@pytest.fixture
def sqlite_db_url(request: pytest.FixtureRequest, copy_database, sqlite_template: Path) -> str:  # type: ignore[no-untyped-def]
    """URL of a SQLite file database at head that belongs to this test alone (a copy of the session template).

    When the test also uses ``northtown_loaded``, this is the same database, so it is copied from the template
    that already holds the sample."""
    if "northtown_loaded" in request.fixturenames:
        return copy_database(request.getfixturevalue("northtown_template"))
    return copy_database(sqlite_template)


@pytest.fixture
def factory(sqlite_db_url: str):  # type: ignore[no-untyped-def]
    """A bot.db session factory on the upgraded SQLite database (engine disposed afterwards)."""
    from bot import db

    engine = db.make_engine(sqlite_db_url)
    yield db.session_factory(engine)
    engine.dispose()


@pytest.fixture
def northtown_loaded(factory):  # type: ignore[no-untyped-def]
    """The session factory, with bot/sample/northtown.yaml already loaded and committed (``sqlite_db_url`` copied
    it from ``northtown_template``)."""
    from sqlalchemy import select

    from models import Partnership

    with factory() as session:
        assert session.scalars(select(Partnership.key)).all() == ["northtown"]
    return factory


# ------------------------------------------------------------ end of Oneday database block


# ----------------------------------------------------------------------------------------
# In-process Slack stack (tests/slack_harness.py): bolt over HTTP, fake Slack, outbox sender.
# ----------------------------------------------------------------------------------------


@pytest.fixture
def slack_env(northtown_loaded):  # type: ignore[no-untyped-def]
    from fake_slack import FakeSlack
    from slack_harness import SlackEnv
    from slack_requests import clear_proxy_env

    clear_proxy_env()
    with FakeSlack() as fake:
        env = SlackEnv(fake=fake, factory=northtown_loaded).start()
        try:
            yield env
        finally:
            env.stop()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that needs the throwaway PostgreSQL server carries the `postgres` marker, whether it asks
    for the server directly or through another fixture, so `-m "not postgres"` leaves out exactly those."""
    for item in items:
        if {"postgres", "pg_url"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.postgres)


# ----------------------------------------------------------------------------------------
# `oneday demo`, run once: tests/runtime/test_demo.py and tests/runtime/test_cli.py read the same output.
# ----------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """``(completed process, database path)`` of one `oneday demo` run as a user runs it: the installed console
    script in a subprocess, with DATABASE_URL pointing at a file that the demo must leave alone (not create)."""
    import os
    import subprocess
    import sys

    oneday = Path(sys.executable).parent / "oneday"
    assert oneday.is_file(), f"console script not installed at {oneday}"
    cwd = tmp_path_factory.mktemp("demo")
    db_path = cwd / "no.db"
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "DATABASE_URL": f"sqlite:///{db_path}"}
    env.pop("ONEDAY_PARTNERSHIP", None)
    result = subprocess.run([str(oneday), "demo"], capture_output=True, text=True, env=env, cwd=cwd, timeout=120)
    return result, db_path
