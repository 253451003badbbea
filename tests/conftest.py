"""Shared pytest fixtures."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from moments import FILE_LOADED
from pgserver import ThrowawayPostgres

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


@pytest.fixture
def pg_url(postgres: ThrowawayPostgres, request: pytest.FixtureRequest) -> Iterator[str]:
    """SQLAlchemy URL of a fresh, empty database that belongs to this test alone."""
    slug = re.sub(r"[^a-z0-9]+", "_", request.node.name.lower()).strip("_")[:40]
    name = f"t_{slug}_{uuid.uuid4().hex[:8]}"
    yield postgres.create_database(name)
    postgres.drop_database(name)


# ---------------------------------------------------------------- end of PostgreSQL block


# ----------------------------------------------------------------------------------------
# Oneday database fixtures (partnership file, migrations, import, CLI tests).
#
# A SQLite file database upgraded with the real Alembic history, real sessions from
# bot.db, and the sample partnership file.  Added after the PostgreSQL block; nothing
# above is changed.
# ----------------------------------------------------------------------------------------

from pathlib import Path  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
NORTHTOWN = REPO_ROOT / "bot" / "sample" / "northtown.yaml"


@pytest.fixture
def northtown_text() -> str:
    """The text of examples/northtown.yaml."""
    return NORTHTOWN.read_text(encoding="utf-8")


@pytest.fixture
def sqlite_db_url(tmp_path: Path) -> str:
    """URL of a SQLite file database upgraded to head with the project's migrations."""
    from bot import db

    url = f"sqlite:///{tmp_path / 'oneday.db'}"
    db.upgrade(url)
    return url


@pytest.fixture
def factory(sqlite_db_url: str):  # type: ignore[no-untyped-def]
    """A bot.db session factory on the upgraded SQLite database (engine disposed afterwards)."""
    from bot import db

    engine = db.make_engine(sqlite_db_url)
    yield db.session_factory(engine)
    engine.dispose()


@pytest.fixture
def northtown_loaded(factory, northtown_text: str):  # type: ignore[no-untyped-def]
    """The session factory, with examples/northtown.yaml already loaded and committed."""
    from bot import db
    from commands.partnership import file as partnership

    with db.unit_of_work(factory) as session:
        changes = partnership.load(session, northtown_text, source="northtown.yaml", now=FILE_LOADED)
    assert changes, "loading the sample into an empty database must change something"
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
