"""Helpers for the /action, /outcome and /actions tests: a Runner on a fixed clock, and database snapshots."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

import models
from bot.config import DEFAULT_COMMANDS
from bot.runner import Request, Runner
from commands.core.replies import Result

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)  # a Friday, 10:00 in London
USERS = {"tom": "U0TOM", "sam": "U0SAM", "mark": "U0MARK", "ruth": "U0RUTH", "ed": "U0ED", "rose": "U0ROSE",
         "bea": "U0BEA",
         "dan": "U0DAN", "jo": "U0JO"}
INCIDENT = "Something went wrong on our side"


def make_runner(factory: Any, now: datetime = NOW) -> Runner:
    return Runner(factory=factory, names=dict(DEFAULT_COMMANDS), clock=lambda: now)


def run(runner: Runner, who: str, intent: str, text: str) -> Result:
    return runner.run(Request("slack", "T0TEST", USERS.get(who, who), intent, text), lambda _user: None)


def press(runner: Runner, who: str, action_id: str, value: str) -> Result:
    from commands.core import router

    return runner.run(Request("slack", "T0TEST", USERS.get(who, who), f"button:{action_id}", ""),
                      lambda _user: None, lambda caller: router.press(action_id, caller, value))


def submit(runner: Runner, who: str, callback: str, values: dict[str, str], context: str = "") -> Result:
    from commands.core import router

    return runner.run(Request("slack", "T0TEST", USERS.get(who, who), f"form:{callback}", ""),
                      lambda _user: None, lambda caller: router.submit(callback, caller, values, context))


def counts(factory: Any) -> dict[str, int]:
    """Rows per table: what "the database did not change" is checked against."""
    with factory() as session:
        return {t.name: session.scalar(select(func.count()).select_from(t)) or 0
                for t in models.Base.metadata.sorted_tables}


def audit_kinds(factory: Any) -> list[str]:
    with factory() as session:
        return list(session.scalars(select(models.AuditEvent.kind).order_by(models.AuditEvent.id)))


def reply_text(result: Result) -> str:
    r = result.reply
    return "\n".join([r.title or "", *r.lines, *(f"{k}: {v}" for k, v in r.fields), r.footer or ""])
