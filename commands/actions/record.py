"""`/action`: record an action on a target for an owner, with an optional due date.

`/action <ref> @owner <what> [by|due <when>]`. The caller and the owner must both be entitled to the target
(commands/core/access.py). A due date that needs confirming (ambiguous, or in the past) and a repeat of the same
action within ten minutes get a preview with buttons; so does wording that holds personal data
(commands/actions/personal.py): nothing is saved until a button is pressed. The buttons are stateless: the
pending action travels in the button value and everything is checked again when it is pressed. Without a
due date an action is allowed, but it is never overdue.
`/action update|reassign|cancel|due ...` live in commands/actions/edit.py.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from commands.actions import edit as action_edit
from commands.actions import personal
from commands.actions.common import (
    TEXT_MAX,
    audit,
    checked,
    dm,
    due_label,
    due_of,
    next_number,
    owner_buttons,
    summary,
    today,
)
from commands.actions.due_dates import read_due, split_due
from commands.core import access, mentions
from commands.core.context import Caller
from commands.core.errors import FormInvalid, UsageError
from commands.core.help import example
from commands.core.names import command
from commands.core.replies import Button, Emphasis, Form, FormField, Notice, Reply, Result
from models import Action, ActionStatus, Member, Target
from models.personal_data import Finding

DUPLICATE_WINDOW = timedelta(minutes=10)
_TRAILING_DUE = re.compile(r"\s((?:in|within)\s+(?:\S+\s+)?(?:days?|weeks?|fortnights?|months?)(?:'?s? time)?"
                           r"|(?:the\s+)?end\s+of\s+(?:the\s+)?(?:next\s+)?(?:week|month))\s*$", re.IGNORECASE)
PURPOSE = "record an action"


@dataclass(frozen=True)
class Pending:
    """An action not yet saved, as it travels in a button value."""

    ref: str
    owner: str  # member key
    text: str
    due: date | None
    repeat_ok: bool = False
    kept: str = ""  # the personal data the author chose to keep (personal.token), '' for none

    def value(self, *, due: date | None = None, repeat_ok: bool | None = None, kept: str | None = None) -> str:
        day = self.due if due is None else due
        data = {"r": self.ref, "o": self.owner, "t": self.text, "d": day.isoformat() if day else "",
                "x": int(self.repeat_ok if repeat_ok is None else repeat_ok)}
        if kept or (kept is None and self.kept):
            data["p"] = self.kept if kept is None else kept
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def parse(cls, value: str, *, example: str) -> Pending:
        try:
            data = json.loads(value)
            return cls(str(data["r"]), str(data["o"]), str(data["t"]),
                       date.fromisoformat(data["d"]) if data["d"] else None, bool(data.get("x")), str(data.get("p", "")))
        except (ValueError, KeyError, TypeError) as exc:
            raise UsageError("this button is out of date: run the command again", example=example) from exc


def run(caller: Caller, text: str) -> Result:
    words = text.split()
    if not words:
        return Result(Reply(lines=("Opening the action form.",)), form=create_form(caller))
    if words[0].lower() in action_edit.VERBS:
        return action_edit.run(caller, words[0].lower(), text.split(None, 1)[1] if len(words) > 1 else "")
    return create(caller, text)


def create(caller: Caller, text: str) -> Result:
    ex = example("action", caller.names)
    ref, _, rest = text.strip().partition(" ")
    owner_word, _, rest = rest.strip().partition(" ")
    if not mentions.is_mention(owner_word):
        raise UsageError(f"say who owns the action: @owner after {ref[:32]}", example=ex)
    rest = rest.strip()
    if mentions.is_mention(rest.split(" ", 1)[0] if rest else ""):
        raise UsageError("an action has one owner: record one action per owner", example=ex)
    wording, when = due_clause(rest)
    wording = checked(mentions.humanise(caller, wording), limit=TEXT_MAX, missing="what the action is",
                      noun="The action's wording", example=ex)
    target = access.require_target(caller, ref, purpose=PURPOSE)
    owner = mentions.resolve(caller, owner_word, example=ex)
    access.require_owner_entitled(caller, owner, target, purpose=PURPOSE)
    due = read_due(when, now=caller.now, tz=caller.partnership.timezone, example=ex) if when else None
    pending = Pending(target.ref, owner.key, wording, due.day if due else None)
    if due is not None and due.needs_confirmation:
        typed = " ".join((when or "").split())[:40]
        return Result(preview(caller, pending, owner, f'"{typed}": {due.reason}.',
                              alternatives=due.alternatives))
    return save_or_ask(caller, target, owner, pending)


def due_clause(text: str) -> tuple[str, str | None]:
    """split_due, plus a trailing relative date typed without "by": "... in 2 weeks", "... end of month"."""
    wording, when = split_due(text)
    if when is None and (match := _TRAILING_DUE.search(wording)) and match.start() > 0:
        return wording[:match.start()].rstrip(), match[1]
    return wording, when


def save_or_ask(caller: Caller, target: Target, owner: Member, pending: Pending) -> Result:
    found = personal.check(caller, pending.text)
    if not personal.accepted(found, pending.kept):
        return personal.ask(found, noun="This action", fields=_fields(caller, pending, owner),
                            edit=Button(personal.EDIT, "action.correct", pending.value()),
                            keep=Button(personal.KEEP, "action.confirm", pending.value(kept=personal.token(found))))
    if not pending.repeat_ok and (twin := duplicate(caller, target, owner, pending.text)) is not None:
        return Result(preview(caller, pending, owner, f"The same action was recorded as #{twin.number} for "
                                                      f"{owner.name} a few minutes ago. Record it again?",
                              title="Record this action again?", repeat_ok=True))
    action = save(caller, target, owner, pending.text, pending.due, kept=found)
    return Result(Reply(title=f"Action #{action.number} recorded", fields=summary(caller, action),
                        footer=f"{owner.name} has been sent it. Update it with "
                               f"{command(caller.names, 'action', 'update', str(action.number), '<note>')}."),
                  notices=created_notices(caller, action))


def preview(caller: Caller, pending: Pending, owner: Member, why: str, *, title: str = "Check the due date",
            alternatives: tuple[date, ...] = (), repeat_ok: bool = False) -> Reply:
    when = today(caller)
    fields = _fields(caller, pending, owner)
    buttons = [Button(f"Save, due {due_label(pending.due, when)}" if pending.due else "Save", "action.confirm",
                      pending.value(repeat_ok=repeat_ok or pending.repeat_ok), Emphasis.PRIMARY)]
    buttons += [Button(f"Save, due {due_label(day, when)}", "action.confirm", pending.value(due=day))
                for day in alternatives]
    buttons.append(Button("Correct", "action.correct", pending.value()))
    return Reply(title=title, lines=(why, "Nothing is saved until you choose."), fields=fields,
                 buttons=tuple(buttons))


def _fields(caller: Caller, pending: Pending, owner: Member) -> tuple[tuple[str, str], ...]:
    return (("Reference", pending.ref), ("Action", pending.text), ("Owner", owner.name),
            ("Due", due_label(pending.due, today(caller))))


def duplicate(caller: Caller, target: Target, owner: Member, text: str) -> Action | None:
    """The newest action with this wording, target and owner in the last ten minutes. The wording is compared in
    Python: it is sealed at rest with a fresh nonce each time (models/sealed.py), so SQL equality never matches."""
    recent = caller.session.execute(select(Action.id, Action.text).where(
        Action.partnership_id == caller.partnership.id, Action.target_id == target.id, Action.owner_id == owner.id,
        Action.created_at >= caller.now - DUPLICATE_WINDOW).order_by(Action.number.desc()))
    found = next((id_ for id_, wording in recent if wording == text), None)  # ids and wording only, not whole rows
    return caller.session.get(Action, found) if found is not None else None


def save(caller: Caller, target: Target, owner: Member, text: str, due: date | None, *,
         kept: tuple[Finding, ...] = ()) -> Action:
    """Save an action and its processing-log entry; `kept` is the personal data the author chose to keep."""
    action = Action(partnership_id=caller.partnership.id, number=next_number(caller), target=target, owner=owner,
                    created_by=caller.member, text=text, due=due, status=ActionStatus.OPEN, created_at=caller.now,
                    updated_at=caller.now)
    caller.session.add(action)
    caller.session.flush()
    audit(caller, action, kind="collection", what=f"action {action.number} recorded on {target.ref} for "
                                                  f"{owner.key}, due {due.isoformat() if due else 'none'}"
                                                  f"{personal.kept_note(kept)}",
          justification=f"action agreed for {target.ref}")
    return action


def created_notices(caller: Caller, action: Action) -> tuple[Notice, ...]:
    fields = summary(caller, action)
    notices = [dm(action.owner, Reply(title=f"New action #{action.number} on {action.target.ref}",
                                      fields=(*fields, ("Recorded by", caller.member.name)),
                                      buttons=owner_buttons(action)),
                  f"action:{action.number}:created", about=action.target.ref)]
    lead = action.target.lead
    if lead.id not in (caller.member.id, action.owner_id) and access.member_may_see(caller, lead, action.target):
        notices.append(dm(lead, Reply(title=f"Action #{action.number} recorded on {action.target.ref}",
                                      fields=(*fields, ("Recorded by", caller.member.name))),
                          f"action:{action.number}:created:lead", about=action.target.ref))
    return tuple(notices)


# ------------------------------------------------------------------------------------ buttons and form


def confirm(caller: Caller, value: str) -> Result:
    """Save a previewed action, after checking everything again: the button may be old or forged."""
    ex = example("action", caller.names)
    pending = Pending.parse(value, example=ex)
    target = access.require_target(caller, pending.ref, purpose=PURPOSE)
    owner = mentions.resolve(caller, "@" + pending.owner, example=ex)
    access.require_owner_entitled(caller, owner, target, purpose=PURPOSE)
    text = checked(pending.text, limit=TEXT_MAX, missing="what the action is", noun="The action's wording",
                   example=ex)
    return save_or_ask(caller, target, owner, Pending(target.ref, owner.key, text, pending.due, pending.repeat_ok,
                                                      pending.kept))


def correct(caller: Caller, value: str) -> Result:
    pending = Pending.parse(value, example=example("action", caller.names))
    target = access.require_target(caller, pending.ref, purpose=PURPOSE)
    return Result(Reply(lines=("Opening the action form.",)),
                  form=create_form(caller, ref=target.ref, owner=pending.owner, text=pending.text, due=pending.due))


def create_form(caller: Caller, *, ref: str | None = None, owner: str | None = None, text: str | None = None,
                due: date | None = None, context: str = "", intro: str | None = None, submit: str = "Save") -> Form:
    targets = access.visible_targets(caller)
    return Form(callback="action.create", title="Record an action", submit=submit, context=context, intro=intro,
                fields=(
                    FormField("target", "Target", "choice", tuple((t.ref, t.ref) for t in targets), initial=ref),
                    FormField("owner", "Owner", initial=f"@{owner}" if owner else None,
                              hint="Member key, e.g. @sam.patel: someone in the target's section"),
                    FormField("text", "What will be done", "multiline", initial=text,
                              hint=f"Up to {TEXT_MAX} characters. No personal details: they stay in the pack."),
                    FormField("due", "Due", "date", required=False, initial=due.isoformat() if due else None),
                ))


def submitted(caller: Caller, values: dict[str, str], context: str) -> Result:
    errors: dict[str, str] = {}
    ref = values.get("target", "").strip()
    if not ref:
        errors["target"] = "choose a target"
    owner = mentions.find(caller, values.get("owner", ""), loose=True)
    if owner is None:
        errors["owner"] = "not a member: type their member key, e.g. @sam.patel"
    text = mentions.humanise(caller, values.get("text", ""))
    try:
        text = checked(text, limit=TEXT_MAX, missing="what will be done", noun="The wording",
                       example=example("action", caller.names))
    except UsageError as exc:
        errors["text"] = exc.message
    due: date | None = None
    if values.get("due", "").strip():
        try:
            due = due_of(values["due"], caller)
            if due < today(caller):
                errors["due"] = "that date is in the past: choose today or later"
        except UsageError as exc:
            errors["due"] = exc.message
    if errors:
        raise FormInvalid(errors)
    assert owner is not None
    target = access.require_target(caller, ref, purpose=PURPOSE)
    access.require_owner_entitled(caller, owner, target, purpose=PURPOSE)
    found = personal.check(caller, text)
    repeat_ok = "repeat-ok" in context.split()
    if not personal.accepted(found, personal.context_kept(context)):
        return Result(Reply(title=personal.TITLE, lines=personal.lines(found, "The wording")), form=create_form(
            caller, ref=target.ref, owner=owner.key, text=text, due=due, submit=personal.KEEP,
            context=" ".join(["repeat-ok"] * repeat_ok + [personal.context_word(found)]),
            intro=personal.intro(found, "The wording")))
    if not repeat_ok and (twin := duplicate(caller, target, owner, text)) is not None:
        return Result(Reply(lines=("Record it again?",)), form=create_form(
            caller, ref=target.ref, owner=owner.key, text=text, due=due,
            context=" ".join(["repeat-ok", personal.context_word(found)]).strip(),
            intro=f"The same action was recorded as #{twin.number} a few minutes ago. Save again to record it "
                  "a second time."))
    return save_or_ask(caller, target, owner, Pending(target.ref, owner.key, text, due, repeat_ok=True,
                                                      kept=personal.token(found)))


BUTTONS = {"action.confirm": confirm, "action.correct": correct, **action_edit.BUTTONS}
FORM_BUTTONS = frozenset({"action.correct"}) | action_edit.FORM_BUTTONS  # answered with a form (commands/core/router.py)
FORMS = {"action.create": submitted, **action_edit.FORMS}
