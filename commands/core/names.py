"""The slash commands' names. A deployment may rename them (ONEDAY_COMMAND_*, bot/config.py), so no reply, usage
hint, example or help text spells a name out: each asks `command` for it, with the names the request came with
(`Caller.names`; scheduled jobs are handed them)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

# intent -> the command's name when nothing is configured
DEFAULT_NAMES: Mapping[str, str] = MappingProxyType({
    "agenda": "/agenda",
    "action": "/action",
    "outcome": "/outcome",
    "actions": "/actions",
    "oneday": "/oneday",
    "decision": "/decision",
    "inform": "/inform",
})


def command(names: Mapping[str, str], intent: str, *words: str) -> str:
    """'/od-action update 12': the configured name of the intent's command, then the words."""
    return " ".join((names[intent], *words))
