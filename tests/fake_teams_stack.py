"""The in-process Teams stack of bot/faketeams/stack.py, starting at the tests' STACK_START."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from moments import STACK_START

from bot.clock import TickingClock
from bot.faketeams import stack


@dataclass
class TeamsStack(stack.TeamsStack):
    clock: TickingClock = field(default_factory=lambda: TickingClock(STACK_START))


def give_teams_identities(factory: Any, *, link_tenant: bool = True) -> dict[str, str]:
    return stack.give_teams_identities(factory, created_at=STACK_START, link_tenant=link_tenant)


__all__ = ["TeamsStack", "give_teams_identities"]
