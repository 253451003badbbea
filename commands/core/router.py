"""One entry point from any platform: an intent (which slash command) and its text -> a Result."""

from __future__ import annotations

from collections.abc import Callable

from commands.actions import listing as actions
from commands.actions import outcome, reminder_buttons
from commands.actions import record as action
from commands.agenda import intents as agenda
from commands.core import admin
from commands.core.context import Caller
from commands.core.errors import UsageError
from commands.core.help import HELP, example, help_reply
from commands.core.names import command
from commands.core.replies import Result
from commands.governance import onward
from commands.meeting import decisions, inform

Handler = Callable[[Caller, str], Result]  # (caller, the text after the command name)
ButtonHandler = Callable[[Caller, str], Result]  # (caller, button value)
FormHandler = Callable[[Caller, dict[str, str], str], Result]  # (caller, field values, form context)

HANDLERS: dict[str, Handler] = {
    "oneday": admin.run,
    "action": action.run,
    "outcome": outcome.run,
    "actions": actions.run,
    "agenda": agenda.run,
    "decision": decisions.run,
    "inform": inform.run,
}
# Button action ids and form callbacks, registered by the command modules that own them.
BUTTONS: dict[str, ButtonHandler] = {}
FORMS: dict[str, FormHandler] = {}
BUTTONS.update({**action.BUTTONS, **outcome.BUTTONS, **actions.BUTTONS})
BUTTONS.update(agenda.BUTTONS)
BUTTONS.update(reminder_buttons.BUTTONS)
BUTTONS.update(onward.BUTTONS)
BUTTONS.update({**decisions.BUTTONS, **inform.BUTTONS})
# What a button's answer is, declared beside each handler, for platforms that open it differently from a message
# (Teams: a dialog straight from the card, not a card with "Open the form"): FORM_BUTTONS answer with a form,
# VIEW_BUTTONS with a private view of targets (a pack, its statement, an onward showing) that must stay out of
# chat history.
FORM_BUTTONS: frozenset[str] = (outcome.FORM_BUTTONS | action.FORM_BUTTONS | reminder_buttons.FORM_BUTTONS
                                | decisions.FORM_BUTTONS)
VIEW_BUTTONS: frozenset[str] = agenda.VIEW_BUTTONS | onward.VIEW_BUTTONS
FORMS.update({**action.FORMS, **outcome.FORMS, **reminder_buttons.FORMS})
FORMS[decisions.FORM] = decisions.submitted


def dispatch(intent: str, caller: Caller, text: str) -> Result:
    """Run a slash command. Replies name commands as the caller's deployment names them (`caller.names`)."""
    names = caller.names
    if intent not in HELP:
        raise UsageError(f"unknown command '{intent}'", example=example("oneday", names))
    text = text.strip()
    if text.lower() in ("help", "?", "-h", "--help"):
        return Result(help_reply(intent, names, today=caller.local_now.date()))
    handler = HANDLERS.get(intent)
    if handler is None:
        raise UsageError(f"'{command(names, intent, *text.split()[:1])}' is not available in this version yet",
                         example=command(names, intent, "help"))
    return handler(caller, text)


def press(action_id: str, caller: Caller, value: str) -> Result:
    """A button was pressed. Handlers check entitlement again: a button can outlive the right to press it."""
    handler = BUTTONS.get(action_id)
    if handler is None:
        raise UsageError("this button is no longer in use; run the command again")
    return handler(caller, value)


def submit(callback: str, caller: Caller, values: dict[str, str], context: str) -> Result:
    handler = FORMS.get(callback)
    if handler is None:
        raise UsageError("this form is no longer in use; run the command again")
    return handler(caller, values, context)
