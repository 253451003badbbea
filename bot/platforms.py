"""The chat platforms Oneday runs, in order. serve.py, the worker, cli.py, config.py and db.py iterate this
list instead of importing a platform; adding Teams means writing bot/teams/ and adding it here.

Every listed platform module is imported with this one, so it stays light: it imports its SDK inside the
methods that need it (the CLI starts without loading bolt).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from bot.email.platform import EMAIL
from bot.platform import Platform
from bot.slack.platform import SLACK
from bot.teams.platform import TEAMS

if TYPE_CHECKING:
    from bot.config import Settings

PLATFORMS: list[Platform] = [SLACK, TEAMS, EMAIL]  # email last: never a partnership's home, only for email


def names() -> list[str]:
    """Registered platform names, in order: the first is where a partnership with no linked workspace lives."""
    return [p.name for p in PLATFORMS]


def get(name: str) -> Platform:
    for p in PLATFORMS:
        if p.name == name:
            return p
    raise KeyError(f"no platform '{name}' is registered (bot/platforms.py PLATFORMS: {', '.join(names())})")


def configured(settings: Settings) -> list[Platform]:
    return [p for p in PLATFORMS if p.configured(settings)]


@contextmanager
def registered(platform: Platform) -> Iterator[Platform]:
    """Add a platform for the duration of a block (tests)."""
    PLATFORMS.append(platform)
    try:
        yield platform
    finally:
        PLATFORMS.remove(platform)
