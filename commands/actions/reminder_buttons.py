"""The two reminder buttons that are not plain action edits: "Need more time" and "Not mine".

Both check entitlement again at the press: a reminder can outlive the owner's right to the target.
"""

from __future__ import annotations

from datetime import date

from commands.actions.common import NOTE_MAX, checked, dm, due_label, number_of, open_action, summary, today
from commands.actions.edit import _note, move_to
from commands.core import access
from commands.core.context import Caller
from commands.core.errors import FormInvalid, UsageError
from commands.core.help import example
from commands.core.names import command
from commands.core.replies import Form, FormField, Reply, Result


def more_time(caller: Caller, value: str) -> Result:
    number = number_of(value, example=example("action", caller.names, 3))
    action = open_action(caller, number, purpose="ask for more time", doing="move the due date of")
    return Result(Reply(lines=(f"Opening the new-date form for action #{number}.",)), form=Form(
        callback="action.more_time", title=f"More time: #{number}", submit="Move date", context=str(number),
        intro=f"{action.target.ref}: {action.text} (due {due_label(action.due, today(caller))}). The chair is told.",
        fields=(FormField("due", "New due date", "date"),
                FormField("reason", "Why it needs more time", "multiline", hint=f"Up to {NOTE_MAX} characters"))))


def more_time_submitted(caller: Caller, values: dict[str, str], context: str) -> Result:
    number = number_of(context, example=example("action", caller.names, 3))
    errors: dict[str, str] = {}
    day: date | None = None
    try:
        day = date.fromisoformat(values.get("due", ""))
        if day < today(caller):
            errors["due"] = "The new date is in the past: choose today or later."
    except ValueError:
        errors["due"] = "Choose the new due date."
    try:
        reason = checked(values.get("reason", ""), limit=NOTE_MAX, missing="why it needs more time",
                         noun="The reason", example=example("action", caller.names, 3))
    except UsageError as exc:
        errors["reason"] = exc.message
    if errors:
        raise FormInvalid(errors)
    assert day is not None
    return move_to(caller, number, day, reason)


def not_mine(caller: Caller, value: str) -> Result:
    """Tell the coordinators the action needs a new owner; nothing changes until one reassigns it."""
    number = number_of(value, example=example("action", caller.names, 2))
    action = open_action(caller, number, purpose="say an action is not theirs", doing="hand back", manage=False)
    if action.owner_id != caller.member.id:
        raise UsageError(f"Action #{number} is not yours, so there is nothing to hand back.")
    note = _note(caller, action, "note", f"{caller.member.name} says this action is not theirs")
    coordinators = access.active_with_role(caller.session, caller.partnership.id, "coordinator")
    message = Reply(title=f"Action #{number} on {action.target.ref} needs a new owner",
                    lines=(f"{caller.member.name} ({caller.member.agency.name}) says it is not theirs.",
                           f"Reassign it: {command(caller.names, 'action', 'reassign', str(number), '@member')}"),
                    fields=summary(caller, action))
    notices = tuple(dm(c, message, f"action:{number}:not-mine:{note.id}:{c.key}", about=action.target.ref)
                    for c in coordinators)
    who = ", ".join(c.name for c in coordinators) or "nobody (no coordinator is listed)"
    return Result(Reply(title=f"Action #{number}: coordinators told",
                        lines=(f"Told {who}. You stay the owner until it is reassigned.",)), notices=notices)


BUTTONS = {"action.more_time": more_time, "action.not_mine": not_mine}
FORMS = {"action.more_time": more_time_submitted}
FORM_BUTTONS = frozenset({"action.more_time"})  # its answer is a form (see commands/core/router.py)
