"""One entry point from any platform: an intent (which slash command) and its text -> a Result."""

from __future__ import annotations

from collections.abc import Callable

from commands import admin
from commands.context import Caller
from commands.errors import UsageError
from commands.help import HELP, example, help_reply
from commands.replies import Result

Handler = Callable[[Caller, str, dict[str, str]], Result]

HANDLERS: dict[str, Handler] = {
    "oneday": admin.run,
}


def dispatch(intent: str, caller: Caller, text: str, names: dict[str, str]) -> Result:
    if intent not in HELP:
        raise UsageError(f"unknown command '{intent}'", example=example("oneday", names))
    text = text.strip()
    if text.lower() in ("help", "?", "-h", "--help"):
        return Result(help_reply(intent, names))
    handler = HANDLERS.get(intent)
    if handler is None:
        raise UsageError(f"'{names[intent]} {text.split()[0] if text else ''}'".strip()
                         + " is not available in this version yet",
                         example=f"{names[intent]} help")
    return handler(caller, text, names)
