"""Shared pytest fixtures."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
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
