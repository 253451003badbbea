"""What /action, /outcome and /actions share: limits, cleaning text, reading numbers and dates, the notices
sent when an action changes (to the people entitled to its target: never to a channel).

Messages about actions carry the reference, the action number, its wording, the owner's name and the due
date: never target details.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from sqlalchemy import func, select

from commands.actions.due_dates import read_due
from commands.core import access
from commands.core.context import Caller
from commands.core.dates import day_label
from commands.core.errors import UsageError
from commands.core.help import example
from commands.core.names import command
from commands.core.replies import Button, Destination, Emphasis, Notice, Reply
from models import Action, ActionStatus, Member
from models.audit import record
from models.locks import lock_partnership
from models.reminders import overdue_working_days

TEXT_MAX = 500  # an action's wording
NOTE_MAX = 1000  # notes, reasons and outcomes
LINE_TEXT_MAX = 120  # an action's wording in a one-line description


def clean(text: str) -> str:
    """One line of printable text: control and format characters become spaces, runs of space collapse."""
    chars = (" " if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp", "Cs") else c for c in text)
    return " ".join("".join(chars).split())


def checked(text: str, *, limit: int, missing: str, noun: str, example: str) -> str:
    """Cleaned text, or UsageError when it is empty (`say <missing>`) or longer than `limit`."""
    text = clean(text)
    if not text:
        raise UsageError(f"say {missing}", example=example)
    if len(text) > limit:
        raise UsageError(f"{noun} is too long ({len(text)} characters): the limit is {limit}", example=example)
    return text


def number_of(word: str, *, example: str) -> int:
    match = re.fullmatch(r"#?(\d{1,9})", word.strip())
    if match is None:
        shown = " ".join(word.split())[:20]
        raise UsageError(f"'{shown}' is not an action number: use the number Oneday gave it, like 12",
                         example=example)
    return int(match[1])


def due_label(day: date | None, today: date) -> str:
    """'Fri 4 Dec' ('Tue 12 Jan 2027' in another year), or 'no due date'."""
    return "no due date" if day is None else day_label(day, today)


def describe(action: Action, today: date, *, owner: bool = False) -> str:
    """One line for an action wherever actions are listed (/actions, reminders, escalations, the home page):
    '#12 OCG-07: check benefits claim - [Sam Patel, ]overdue since Fri 4 Dec (2 working days)'. Reference,
    number, wording (clipped), the owner's name when asked, and the due state; never target details."""
    text = action.text if len(action.text) <= LINE_TEXT_MAX else action.text[:LINE_TEXT_MAX - 1] + "…"
    who = f"{action.owner.name}, " if owner else ""
    if action.due is None:
        state = "no due date"
    elif action.status == ActionStatus.OPEN and action.due < today:
        late = overdue_working_days(action.due, today)
        state = f"overdue since {day_label(action.due, today)}" + (
            f" ({late} working day{'s' if late != 1 else ''})" if late else "")
    elif action.status == ActionStatus.OPEN and action.due == today:
        state = "due today"
    else:
        state = f"due {day_label(action.due, today)}"
    closed = "" if action.status == ActionStatus.OPEN else f" [{action.status}]"
    return f"#{action.number} {action.target.ref}: {text} - {who}{state}{closed}"


def due_of(value: str, caller: Caller) -> date:
    """A due date from a form or a button: ISO as a date picker sends it, else read as typed."""
    value = value.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    return read_due(value, now=caller.now, tz=caller.partnership.timezone, example=example("action", caller.names)).day


def today(caller: Caller) -> date:
    return caller.local_now.date()


def open_action(caller: Caller, number: int, *, purpose: str, doing: str, manage: bool = True) -> Action:
    """Action `number` to act on: the caller may see it (else Refused, audited), with `manage` may change it
    (its owner, whoever recorded it, the target's lead or those who run the day; else Refused, audited), and it
    is still open (else UsageError: you can't <doing> it)."""
    action = access.require_action(caller, number, purpose=purpose)
    if manage:
        access.require_manager(caller, action, purpose=purpose)
    if action.status != ActionStatus.OPEN:
        raise UsageError(f"action {action.number} is already {action.status}: you can't {doing} it",
                         example=command(caller.names, "actions", action.target.ref))
    return action


def next_number(caller: Caller) -> int:
    """max+1 inside the transaction, taken under a lock on the partnership's row (FOR NO KEY UPDATE on PostgreSQL,
    held until commit), so concurrent requests on several servers number their actions one after the other
    instead of colliding on the unique (partnership, number) constraint. SQLite: its one writer's lock, taken first.
    NO KEY: the foreign-key checks of other inserts (KEY SHARE) are not blocked, so no deadlock with them."""
    session = caller.session
    lock_partnership(session, caller.partnership.id)
    top = session.scalar(select(func.max(Action.number)).where(Action.partnership_id == caller.partnership.id))
    return (top or 0) + 1


def audit(caller: Caller, action: Action, *, kind: str, what: str, justification: str) -> None:
    record(caller.session, at=caller.now, partnership_id=caller.partnership.id, kind=kind, actor=caller.actor,
           actor_member_id=caller.member.id, target_id=action.target_id, target_ref=action.target.ref,
           what=what, justification=justification)


def owner_buttons(action: Action) -> tuple[Button, ...]:
    value = str(action.number)
    return (Button("Done", "action.done", value, Emphasis.PRIMARY), Button("Update", "action.update", value))


def summary(caller: Caller, action: Action) -> tuple[tuple[str, str], ...]:
    return (("Reference", action.target.ref), ("Action", f"#{action.number}: {action.text}"),
            ("Owner", action.owner.name), ("Due", due_label(action.due, today(caller))))


def dm(member: Member, message: Reply, key: str, *, about: str) -> Notice:
    """A DM about one target (its reference): the outbox checks the member is still entitled to it when sending."""
    return Notice(Destination.member(member.key), message, key, about=(about,))
