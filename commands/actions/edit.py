"""`/action update|reassign|cancel|due`: change an action after it was recorded.

Anyone entitled to the target may add a progress note. Reassigning, cancelling and moving the due date are
for the owner, whoever recorded the action, the target's lead officer and the people who run the day; each
change needs a reason, is kept in the action's history (ActionNote) and in the processing log. A new due date
is told to the chair; a due date that needs confirming gets a preview first, as when recording.
A note or reason that holds personal data is shown to its author first (commands/actions/personal.py): nothing
changes until they edit it (the `action.change` form) or save it as written; the pending change travels in
the button value or the form's context (`Change`) and everything is checked again when it comes back.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date

from commands.actions import personal
from commands.actions.common import (
    NOTE_MAX,
    audit,
    checked,
    dm,
    due_label,
    number_of,
    open_action,
    owner_buttons,
    summary,
    today,
)
from commands.actions.due_dates import read_due
from commands.core import access, mentions
from commands.core.context import Caller
from commands.core.errors import FormInvalid, UsageError
from commands.core.help import example
from commands.core.replies import Button, Emphasis, Form, FormField, Notice, Reply, Result
from models import Action, ActionNote, ActionStatus, Member
from models.personal_data import Finding

VERBS = ("update", "reassign", "cancel", "due")
_EXAMPLE = {"update": 1, "reassign": 2, "due": 3, "cancel": 4}
MAX_DATE_WORDS = 4
# verb -> (purpose, doing, manage, field label, what the text is called)
_CHANGES = {"update": ("add a note", "add a note to", False, "Progress note", "This note"),
            "cancel": ("cancel an action", "cancel", True, "Why it is cancelled", "This reason"),
            "due": ("move a due date", "move the due date of", True, "Why the due date moves", "This reason")}


@dataclass(frozen=True)
class Change:
    """A note, a cancellation or a new due date with its reason, not yet saved: as it travels in a button value
    or (without its text) in a form's context. `kept` is the personal data its author chose to keep."""

    verb: str  # update | cancel | due
    number: int
    text: str = ""
    day: date | None = None
    kept: str = ""

    def value(self, *, text: bool = True, kept: str | None = None) -> str:
        data: dict[str, object] = {"v": self.verb, "n": self.number, "d": self.day.isoformat() if self.day else "",
                                   "p": self.kept if kept is None else kept}
        if text:
            data["t"] = self.text
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def parse(cls, value: str, *, example: str) -> Change:
        try:
            data = json.loads(value)
            change = cls(str(data["v"]), int(data["n"]), str(data.get("t", "")),
                         date.fromisoformat(data["d"]) if data["d"] else None, str(data.get("p", "")))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise UsageError("this button is out of date: run the command again", example=example) from exc
        if change.verb not in _CHANGES or (change.verb == "due") != (change.day is not None):
            raise UsageError("this button is out of date: run the command again", example=example)
        return change


def run(caller: Caller, verb: str, rest: str) -> Result:
    ex = example("action", caller.names, _EXAMPLE[verb])
    first, _, tail = rest.strip().partition(" ")
    if not first:
        raise UsageError(f"say which action to {verb}: its number", example=ex)
    number = number_of(first, example=ex)
    verbs: dict[str, Callable[[Caller, int, str, str], Result]] = {
        "update": update, "reassign": reassign, "cancel": cancel, "due": move_due}
    return verbs[verb](caller, number, tail.strip(), ex)


def _note(caller: Caller, action: Action, kind: str, text: str) -> ActionNote:
    note = ActionNote(partnership_id=caller.partnership.id, action=action, kind=kind, text=text,
                      author=caller.member, at=caller.now)
    caller.session.add(note)
    action.updated_at = caller.now
    caller.session.flush()
    return note


def _tell(member: Member, caller: Caller, message: Reply, key: str, *, about: str) -> list[Notice]:
    """A DM to `member` about a target (its reference) unless they made the change themselves or are not entitled
    to the target now (checked here at queueing, and again by the outbox at delivery)."""
    if member.id == caller.member.id:
        return []
    target = access.find_target(caller, about)
    if target is None or not access.member_may_see(caller, member, target):
        return []
    return [dm(member, message, key, about=about)]


def _open(caller: Caller, change: Change) -> Action:
    purpose, doing, manage, _, _ = _CHANGES[change.verb]
    return open_action(caller, change.number, purpose=purpose, doing=doing, manage=manage)


def _screen(caller: Caller, action: Action, change: Change) -> tuple[tuple[Finding, ...], Result | None]:
    """(the personal data in the change's text, the question to its author when they have not chosen to keep
    it: None when it may be saved)."""
    found = personal.check(caller, change.text)
    if personal.accepted(found, change.kept):
        return found, None
    _, _, _, label, noun = _CHANGES[change.verb]
    fields = (*summary(caller, action), *((("New due", due_label(change.day, today(caller))),) if change.day else ()),
              (label, change.text))
    return found, personal.ask(found, noun=noun, fields=fields,
                               edit=Button(personal.EDIT, "action.rewrite", change.value(kept="")),
                               keep=Button(personal.KEEP, "action.keep", change.value(kept=personal.token(found))))


def update(caller: Caller, number: int, note_text: str, ex: str, *, kept: str = "") -> Result:
    text = checked(note_text, limit=NOTE_MAX, missing="what the update is", noun="The note", example=ex)
    action = open_action(caller, number, purpose="add a note", doing="add a note to", manage=False)
    found, ask = _screen(caller, action, Change("update", number, text, kept=kept))
    if ask is not None:
        return ask
    note = _note(caller, action, "note", text)
    audit(caller, action, kind="alteration", what=f"note added to action {number}{personal.kept_note(found)}",
          justification="progress on an agreed action")
    message = Reply(title=f"Update on action #{number} ({action.target.ref})", lines=(text,),
                    fields=(("From", caller.member.name),), buttons=owner_buttons(action))
    return Result(Reply(title=f"Note added to action #{number}", lines=(text,), fields=summary(caller, action)),
                  notices=tuple(_tell(action.owner, caller, message, f"action:{number}:note:{note.id}",
                                      about=action.target.ref)))


def reassign(caller: Caller, number: int, rest: str, ex: str) -> Result:
    words = rest.split()
    if not words or not mentions.is_mention(words[0]):
        raise UsageError("say who takes the action over: @member after the number", example=ex)
    if len(words) > 1:
        raise UsageError(f"too many words: reassign takes a number and one @member, not "
                         f"'{' '.join(words[1:])[:40]}'", example=ex)
    action = open_action(caller, number, purpose="reassign an action", doing="reassign")
    new = mentions.resolve(caller, words[0], example=ex)
    if new.id == action.owner_id:
        raise UsageError(f"{new.name} already owns action {number}", example=ex)
    access.require_owner_entitled(caller, new, action.target, purpose="reassign an action")
    old = action.owner
    action.owner = new
    note = _note(caller, action, "reassign", f"{old.key} -> {new.key}")
    audit(caller, action, kind="alteration", what=f"action {number} reassigned from {old.key} to {new.key}",
          justification="owner changed")
    fields = summary(caller, action)
    notices = _tell(new, caller, Reply(title=f"Action #{number} on {action.target.ref} is now yours",
                                       fields=(*fields, ("Handed over by", caller.member.name)),
                                       buttons=owner_buttons(action)),
                    f"action:{number}:owner:{note.id}", about=action.target.ref)
    notices += _tell(old, caller, Reply(title=f"Action #{number} on {action.target.ref} was handed to {new.name}",
                                        fields=fields), f"action:{number}:released:{note.id}",
                     about=action.target.ref)
    return Result(Reply(title=f"Action #{number} now belongs to {new.name}", fields=fields), notices=tuple(notices))


def cancel(caller: Caller, number: int, reason: str, ex: str, *, kept: str = "") -> Result:
    text = checked(reason, limit=NOTE_MAX, missing="why the action is cancelled", noun="The reason", example=ex)
    action = open_action(caller, number, purpose="cancel an action", doing="cancel")
    found, ask = _screen(caller, action, Change("cancel", number, text, kept=kept))
    if ask is not None:
        return ask
    action.status = ActionStatus.CANCELLED
    note = _note(caller, action, "cancel", text)
    audit(caller, action, kind="alteration", what=f"action {number} cancelled{personal.kept_note(found)}",
          justification="action cancelled")
    message = Reply(title=f"Action #{number} on {action.target.ref} was cancelled", lines=(f"Reason: {text}",),
                    fields=(("Cancelled by", caller.member.name),))
    return Result(Reply(title=f"Action #{number} cancelled", lines=(f"Reason: {text}",)),
                  notices=tuple(_tell(action.owner, caller, message, f"action:{number}:cancelled:{note.id}",
                                      about=action.target.ref)))


def _split_when(caller: Caller, words: list[str], ex: str) -> tuple[str, str]:
    """(when, reason): the longest run of leading words (up to four) that reads as a date, and the rest."""
    for size in range(min(MAX_DATE_WORDS, len(words) - 1), 0, -1):
        try:
            read_due(" ".join(words[:size]), now=caller.now, tz=caller.partnership.timezone)
        except UsageError:
            continue
        return " ".join(words[:size]), " ".join(words[size:])
    read_due(" ".join(words[:MAX_DATE_WORDS]) if len(words) <= MAX_DATE_WORDS else words[0],
             now=caller.now, tz=caller.partnership.timezone,
             example=example("action", caller.names))  # raises what is wrong with the date
    raise UsageError("a new due date needs a reason after the date", example=ex)


def move_due(caller: Caller, number: int, rest: str, ex: str) -> Result:
    words = rest.split()
    if not words:
        raise UsageError("say the new due date and why it moves", example=ex)
    when, reason = _split_when(caller, words, ex)
    reason = checked(reason, limit=NOTE_MAX, missing="why the due date moves", noun="The reason", example=ex)
    action = open_action(caller, number, purpose="move a due date", doing="move the due date of")
    due = read_due(when, now=caller.now, tz=caller.partnership.timezone, example=example("action", caller.names))
    if due.needs_confirmation:
        shown = today(caller)

        def value(day: date) -> str:
            return json.dumps({"n": number, "d": day.isoformat(), "r": reason}, ensure_ascii=False)

        buttons = [Button(f"Move to {due_label(d, shown)}", "action.redate", value(d),
                          Emphasis.PRIMARY if i == 0 else Emphasis.DEFAULT)
                   for i, d in enumerate((due.day, *due.alternatives))]
        return Result(Reply(title="Check the new due date", lines=(f'"{when}": {due.reason}.',
                                                                   "Nothing is changed until you choose."),
                            fields=(*summary(caller, action), ("New due", due_label(due.day, shown))),
                            buttons=tuple(buttons)))
    return _apply_due(caller, action, due.day, reason)


def _apply_due(caller: Caller, action: Action, day: date, reason: str, *, kept: str = "") -> Result:
    found, ask = _screen(caller, action, Change("due", action.number, reason, day, kept))
    if ask is not None:
        return ask
    shown = today(caller)
    old = action.due
    action.due = day
    note = _note(caller, action, "due", f"{old.isoformat() if old else 'none'} -> {day.isoformat()}: {reason}")
    audit(caller, action, kind="alteration", what=f"action {action.number} due date moved from "
                                                  f"{old.isoformat() if old else 'none'} to {day.isoformat()}"
                                                  f"{personal.kept_note(found)}",
          justification="due date changed with a reason")
    message = Reply(title=f"Action #{action.number} on {action.target.ref}: new due date {due_label(day, shown)}",
                    lines=(f"Reason: {reason}",),
                    fields=(*summary(caller, action), ("Was due", due_label(old, shown)),
                            ("Moved by", caller.member.name)))
    chairs = access.active_with_role(caller.session, caller.partnership.id, "chair")
    notices = [n for chair in chairs
               for n in _tell(chair, caller, message, f"action:{action.number}:due:{note.id}:{chair.key}",
                              about=action.target.ref)]
    if all(chair.id != action.owner_id for chair in chairs):
        notices += _tell(action.owner, caller, message, f"action:{action.number}:due:{note.id}:{action.owner.key}",
                         about=action.target.ref)
    return Result(Reply(title=f"Action #{action.number} now due {due_label(day, shown)}",
                        lines=(f"Reason: {reason}", "The chair has been told.")), notices=tuple(notices))


# ------------------------------------------------------------------------------------ buttons and form


def redate(caller: Caller, value: str) -> Result:
    try:
        data = json.loads(value)
        number, day, reason = int(data["n"]), date.fromisoformat(data["d"]), str(data["r"])
    except (ValueError, KeyError, TypeError) as exc:
        raise UsageError("this button is out of date: run the command again",
                         example=example("action", caller.names, 3)) from exc
    reason = checked(reason, limit=NOTE_MAX, missing="why the due date moves", noun="The reason",
                     example=example("action", caller.names, 3))
    return move_to(caller, number, day, reason)


def move_to(caller: Caller, number: int, day: date, reason: str, *, kept: str = "") -> Result:
    """Move an action's due date after checking, at this moment, that the caller may."""
    action = open_action(caller, number, purpose="move a due date", doing="move the due date of")
    return _apply_due(caller, action, day, reason, kept=kept)


def update_button(caller: Caller, value: str) -> Result:
    number = number_of(value, example=example("action", caller.names, 1))
    action = open_action(caller, number, purpose="add a note", doing="add a note to", manage=False)
    return Result(Reply(lines=(f"Opening the update form for action #{number}.",)), form=Form(
        callback="action.note", title=f"Update action #{number}", submit="Save", context=str(number),
        intro=f"{action.target.ref}: {action.text}",
        fields=(FormField("note", "Progress note", "multiline", hint=f"Up to {NOTE_MAX} characters"),)))


def note_submitted(caller: Caller, values: dict[str, str], context: str) -> Result:
    ex = example("action", caller.names, 1)
    number = number_of(context, example=ex)
    try:
        text = checked(values.get("note", ""), limit=NOTE_MAX, missing="what the update is", noun="The note",
                       example=ex)
    except UsageError as exc:
        raise FormInvalid({"note": exc.message}) from exc
    return _submitted(caller, Change("update", number, text))


def _apply(caller: Caller, change: Change) -> Result:
    ex = example("action", caller.names, _EXAMPLE[change.verb])
    if change.verb == "update":
        return update(caller, change.number, change.text, ex, kept=change.kept)
    if change.verb == "cancel":
        return cancel(caller, change.number, change.text, ex, kept=change.kept)
    assert change.day is not None  # Change.parse: a due change has its day
    return move_to(caller, change.number, change.day, checked(
        change.text, limit=NOTE_MAX, missing="why the due date moves", noun="The reason", example=ex),
        kept=change.kept)


def _submitted(caller: Caller, change: Change) -> Result:
    """A form's text: saved when it holds no personal data or just what its author chose to keep; else the
    form again, saying what it holds (its context now carries that, so submitting it unchanged saves it)."""
    found = personal.check(caller, change.text)
    if personal.accepted(found, change.kept):
        return _apply(caller, replace(change, kept=personal.token(found)))
    action = _open(caller, change)
    return Result(Reply(title=personal.TITLE, lines=personal.lines(found, _CHANGES[change.verb][4])),
                  form=change_form(caller, action, change, found=found))


def change_form(caller: Caller, action: Action, change: Change, *, found: tuple[Finding, ...] = ()) -> Form:
    """The text of a note or reason to write again; the rest of the change travels in the context."""
    _, _, _, label, noun = _CHANGES[change.verb]
    title = {"update": "Update action", "cancel": "Cancel action", "due": "New due date"}[change.verb]
    about = f"{action.target.ref}: {action.text}"
    if change.day is not None:
        about += f" (new due date {due_label(change.day, today(caller))})"
    if found:
        about += "\n\n" + personal.intro(found, noun)
    return Form(callback="action.change", title=f"{title} #{change.number}", submit=personal.KEEP if found else "Save",
                context=replace(change, kept=personal.token(found)).value(text=False), intro=about,
                fields=(FormField("text", label, "multiline", initial=change.text or None,
                                  hint=f"Up to {NOTE_MAX} characters"),))


def rewrite_button(caller: Caller, value: str) -> Result:
    """"Edit": the form with the note or reason as typed, after checking the caller may still make the change."""
    change = Change.parse(value, example=example("action", caller.names, 1))
    action = _open(caller, change)
    return Result(Reply(lines=(f"Opening the form for action #{change.number}.",)),
                  form=change_form(caller, action, replace(change, kept="")))


def keep_button(caller: Caller, value: str) -> Result:
    """"Save as written": make the change with the text as typed, after checking everything again."""
    change = Change.parse(value, example=example("action", caller.names, 1))
    return _apply(caller, change)


def change_submitted(caller: Caller, values: dict[str, str], context: str) -> Result:
    change = Change.parse(context, example=example("action", caller.names, 1))
    _, _, _, _, noun = _CHANGES[change.verb]
    try:
        text = checked(values.get("text", ""), limit=NOTE_MAX, missing="the text", noun=noun,
                       example=example("action", caller.names, _EXAMPLE[change.verb]))
    except UsageError as exc:
        raise FormInvalid({"text": exc.message}) from exc
    return _submitted(caller, replace(change, text=text))


BUTTONS = {"action.redate": redate, "action.update": update_button, "action.rewrite": rewrite_button,
           "action.keep": keep_button}
FORMS = {"action.note": note_submitted, "action.change": change_submitted}
FORM_BUTTONS = frozenset({"action.update", "action.rewrite"})  # their answer is a form (see commands/core/router.py)
