"""`/outcome <action-id> <what happened> [category]`: close an action with what happened.

The category is the last word(s): a key from OUTCOME_CATEGORIES ("benefit-sanction"), the same words with
spaces, or a friendly form ("nfa", "not possible: circumstances changed", "not done by the agency"). Without
a category the outcome form opens with the text filled in, so the category is chosen from the list.
The outcome closes the action (status "done") and is told to whoever recorded the action and its owner:
the feedback partners otherwise never get. An outcome that holds personal data is shown to its author first
(commands/actions/personal.py); the action closes only when they save it as written or edit it.
"""

from __future__ import annotations

import json
import re

from sqlalchemy import select

from commands.actions import personal
from commands.actions.common import NOTE_MAX, audit, checked, dm, number_of, open_action, summary
from commands.actions.feedback import feedback_notices
from commands.core import access
from commands.core.context import Caller
from commands.core.errors import FormInvalid, UsageError
from commands.core.help import example
from commands.core.names import command
from commands.core.replies import Button, Form, FormField, Notice, Reply, Result
from models import Action, ActionStatus, Outcome
from models.action import OUTCOME_CATEGORIES
from models.personal_data import Finding

PURPOSE = "record an outcome"
_ALIASES = {
    "nfa": "no-further-action", "no-action": "no-further-action", "safeguarding": "safeguarding-referral",
    "sanction": "benefit-sanction", "licence": "licence-review", "license-review": "licence-review",
    "not-possible": "not-possible-circumstances-changed", "circumstances-changed": "not-possible-circumstances-changed",
    "not-done": "not-done-by-agency", "not-done-by-the-agency": "not-done-by-agency",
    "not-done-by-the-agency-concerned": "not-done-by-agency",
}
_MAX_CATEGORY_WORDS = 6


def _slug(words: list[str]) -> str:
    return re.sub(r"[^a-z0-9]+", "-", " ".join(words).lower()).strip("-")


def category_of(slug: str) -> str | None:
    return slug if slug in OUTCOME_CATEGORIES else _ALIASES.get(slug)


def split_category(text: str) -> tuple[str, str | None]:
    """(what happened, category or None): the longest run of trailing words that names a category."""
    words = text.split()
    for size in range(min(_MAX_CATEGORY_WORDS, len(words) - 1), 0, -1):
        category = category_of(_slug(words[-size:]))
        if category:
            return " ".join(words[:-size]), category
    return text.strip(), None


def run(caller: Caller, text: str) -> Result:
    ex = example("outcome", caller.names)
    first, _, rest = text.strip().partition(" ")
    if not first:
        if not closable(caller):
            return Result(Reply(lines=("You have no open actions you can close.",
                                       f"To see the actions you may see: {command(caller.names, 'actions')}")))
        return Result(Reply(lines=("Opening the outcome form.",)), form=outcome_form(caller))
    number = number_of(first, example=ex)
    what, category = split_category(rest)
    if category is None and category_of(_slug(rest.split())):
        what = ""  # only a category: say what happened
    what = checked(what, limit=NOTE_MAX, missing="what happened, then the category", noun="The outcome",
                   example=ex)
    action = open_action(caller, number, purpose=PURPOSE, doing="record an outcome for")
    if category is None:
        return Result(Reply(lines=(f"Choose a category to close action #{number}: "
                                   f"{', '.join(OUTCOME_CATEGORIES)}.", f"Example: {ex}")),
                      form=outcome_form(caller, action=action, text=what))
    return close_or_ask(caller, action, what, category)


def close_or_ask(caller: Caller, action: Action, what: str, category: str, *, kept: str = "") -> Result:
    """Close the action, unless what happened holds personal data its author has not chosen to keep: then
    nothing is saved and they choose (the buttons carry the outcome; pressed, everything is checked again)."""
    found = personal.check(caller, what)
    if not personal.accepted(found, kept):
        return personal.ask(found, noun="This outcome",
                            fields=(*summary(caller, action), ("Outcome", f"{what} ({category})")),
                            edit=Button(personal.EDIT, "outcome.edit", _value(action, what, category)),
                            keep=Button(personal.KEEP, "outcome.keep",
                                        _value(action, what, category, personal.token(found))))
    return close(caller, action, what, category, kept=found)


def _value(action: Action, what: str, category: str, kept: str = "") -> str:
    return json.dumps({"n": action.number, "t": what, "c": category, "p": kept}, ensure_ascii=False,
                      separators=(",", ":"))


def close(caller: Caller, action: Action, what: str, category: str, *, kept: tuple[Finding, ...] = ()) -> Result:
    action.status = ActionStatus.DONE
    action.updated_at = caller.now
    caller.session.add(Outcome(partnership_id=caller.partnership.id, action=action, text=what, category=category,
                               recorded_by_id=caller.member.id, recorded_at=caller.now))
    caller.session.flush()
    audit(caller, action, kind="alteration",
          what=f"outcome recorded for action {action.number}: {category}{personal.kept_note(kept)}",
          justification="action closed with its outcome")
    fields = (*summary(caller, action), ("Outcome", f"{what} ({category})"), ("Recorded by", caller.member.name))
    message = Reply(title=f"Outcome for action #{action.number} on {action.target.ref}", fields=fields)
    told = {caller.member.id}
    notices: list[Notice] = []
    for member in (action.created_by, action.owner):
        if member is not None and member.id not in told and access.member_may_see(caller, member, action.target):
            told.add(member.id)
            notices.append(dm(member, message, f"action:{action.number}:outcome:{member.key}",
                              about=action.target.ref))
    notices += feedback_notices(caller, action, message, already=told)
    return Result(Reply(title=f"Action #{action.number} closed", fields=fields), notices=tuple(notices))


# ------------------------------------------------------------------------------------ buttons and form


def closable(caller: Caller) -> list[Action]:
    """Open actions the caller may close, newest first (a renderer that lists fewer keeps the newest)."""
    actions = caller.session.scalars(select(Action).where(Action.partnership_id == caller.partnership.id,
                                                          Action.status == ActionStatus.OPEN).order_by(Action.number.desc()))
    return [a for a in access.visible_actions(caller, list(actions)) if access.may_manage(caller, a)]


def outcome_form(caller: Caller, *, action: Action | None = None, text: str | None = None,
                 category: str | None = None, found: tuple[Finding, ...] = ()) -> Form:
    """The form, for one action or with the actions the caller may close; with `found`, opened again to say
    what personal data the text holds (its context carries them, so submitting it unchanged saves it)."""
    categories = tuple((c, c.replace("-", " ")) for c in OUTCOME_CATEGORIES)
    fields = [FormField("text", "What happened", "multiline", initial=text, hint=f"Up to {NOTE_MAX} characters"),
              FormField("category", "Category", "choice", categories, initial=category)]
    if action is None:
        choices = tuple((str(a.number), f"#{a.number} {a.target.ref}: {a.text}") for a in closable(caller))
        fields.insert(0, FormField("action", "Action", "choice", choices))
    about = f"Action #{action.number} on {action.target.ref}: {action.text}" if action else None
    if found:
        about = f"{about}\n\n{personal.intro(found, 'What happened')}" if about else personal.intro(found, "What happened")
    context = " ".join(w for w in (str(action.number) if action else "", personal.context_word(found)) if w)
    return Form(callback="outcome.record", title="Record an outcome", submit=personal.KEEP if found else "Close action",
                context=context, fields=tuple(fields), intro=about)


def submitted(caller: Caller, values: dict[str, str], context: str) -> Result:
    ex = example("outcome", caller.names)
    errors: dict[str, str] = {}
    number = None
    numbered = [w for w in context.split() if not w.startswith("kept:")]
    try:
        number = number_of(numbered[0] if numbered else values.get("action", ""), example=ex)
    except UsageError:
        errors["action"] = "choose an action"
    try:
        what = checked(values.get("text", ""), limit=NOTE_MAX, missing="what happened", noun="The outcome",
                       example=ex)
    except UsageError as exc:
        errors["text"] = exc.message
    category = category_of(_slug([values.get("category", "")]))
    if category is None:
        errors["category"] = "choose a category"
    if errors:
        raise FormInvalid(errors)
    assert number is not None and category is not None
    action = open_action(caller, number, purpose=PURPOSE, doing="record an outcome for")
    found = personal.check(caller, what)
    if not personal.accepted(found, personal.context_kept(context)):
        return Result(Reply(title=personal.TITLE, lines=personal.lines(found, "What happened")),
                      form=outcome_form(caller, action=action, text=what, category=category, found=found))
    return close(caller, action, what, category, kept=found)


def _pending(caller: Caller, value: str) -> tuple[Action, str, str, str]:
    """(action, what happened, category, kept) from an outcome.keep or outcome.edit button, checked again."""
    ex = example("outcome", caller.names)
    try:
        data = json.loads(value)
        number, what, slug, kept = int(data["n"]), str(data["t"]), str(data["c"]), str(data.get("p", ""))
    except (ValueError, KeyError, TypeError) as exc:
        raise UsageError("this button is out of date: run the command again", example=ex) from exc
    action = open_action(caller, number, purpose=PURPOSE, doing="record an outcome for")
    category = category_of(slug)
    if category is None:
        raise UsageError("this button is out of date: run the command again", example=ex)
    return action, what, category, kept


def keep_button(caller: Caller, value: str) -> Result:
    """"Save as written": close the action with the outcome as typed, after checking everything again."""
    action, what, category, kept = _pending(caller, value)
    what = checked(what, limit=NOTE_MAX, missing="what happened, then the category", noun="The outcome",
                   example=example("outcome", caller.names))
    return close_or_ask(caller, action, what, category, kept=kept)


def edit_button(caller: Caller, value: str) -> Result:
    action, what, category, _ = _pending(caller, value)
    return Result(Reply(lines=(f"Opening the outcome form for action #{action.number}.",)),
                  form=outcome_form(caller, action=action, text=what, category=category))


def done_button(caller: Caller, value: str) -> Result:
    number = number_of(value, example=example("outcome", caller.names))
    action = open_action(caller, number, purpose=PURPOSE, doing="record an outcome for")
    return Result(Reply(lines=(f"Opening the outcome form for action #{number}.",)),
                  form=outcome_form(caller, action=action))


BUTTONS = {"action.done": done_button, "outcome.keep": keep_button, "outcome.edit": edit_button}
FORM_BUTTONS = frozenset({"action.done", "outcome.edit"})  # their answer is a form (see commands/core/router.py)
FORMS = {"outcome.record": submitted}
