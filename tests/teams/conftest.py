from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_teams import FakeTeams
from fake_teams_stack import TeamsStack
from slack_requests import clear_proxy_env


@pytest.fixture
def fake_teams() -> Iterator[FakeTeams]:
    clear_proxy_env()
    with FakeTeams() as fake:
        yield fake


@pytest.fixture
def teams(fake_teams: FakeTeams, northtown_loaded) -> Iterator[TeamsStack]:  # type: ignore[no-untyped-def]
    stack = TeamsStack(fake=fake_teams, factory=northtown_loaded).start()
    try:
        yield stack
    finally:
        stack.stop()
