"""`/agenda add|drop|skip|overrides|clear`: the coordinator adjusts the rule for one target or one meeting.

- `add <agency> <REF|date> <reason>`: the agency comes to that target's slot (every meeting), or to every slot
  of that meeting; `drop` keeps it away the same way (the lead officer and action owners stay, in person).
- `skip <REF> <date> <reason>`: the target does not come up at that meeting (the default is every active one).
- `overrides`: what is in force, with numbers; `clear <number>` removes one.
Every change is shown in the plan with its reason (`added:`/`dropped:` reasons) and written to the processing
log with the reason's length only, never its words (`reason_given`): erasure blanks the reason and never
rewrites the log, so the log must not hold it (as onward disclosure, commands/governance/onward.py). Published
meetings follow within one worker cycle (commands/agenda/schedule.py `follow`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date

from sqlalchemy import select

from commands.agenda import plan_json
from commands.core import access
from commands.core.context import Caller
from commands.core.dates import day_label
from commands.core.errors import UsageError
from commands.core.help import example_day
from commands.core.names import command
from commands.core.replies import Reply, Result
from models import Agency, AgendaOverride, OverrideKind, Target
from models.audit import record

VERBS = ("add", "drop", "skip", "overrides", "clear")
REASON_MAX = 200
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def example(names: Mapping[str, str], verb: str, today: date | None = None) -> str:
    day = example_day(today)
    words = {"add": ("add", "probation", "OCG-07", "licence conditions to discuss"),
             "drop": ("drop", "fire", day, "no premises on this agenda"),
             "skip": ("skip", "N-0412", day, "in custody until January"),
             "overrides": ("overrides",), "clear": ("clear", "3")}[verb]
    return command(names, "agenda", *words)


def run(caller: Caller, verb: str, rest: str) -> Result:
    ex = example(caller.names, verb, caller.local_now.date())
    access.require_coordinator(caller, what=f"agenda {verb}")
    if verb == "overrides":
        return listing(caller)
    words = rest.split()
    if verb == "clear":
        if len(words) != 1 or not words[0].lstrip("#").isdecimal():
            raise UsageError("say which override to clear: its number from the overrides list", example=ex)
        return clear(caller, int(words[0].lstrip("#")))
    if verb == "skip":
        if len(words) < 3:
            raise UsageError("say the target, the meeting date and why it does not come up", example=ex)
        target = _target(caller, words[0], ex)
        day = _day(caller, words[1], ex)
        return save(caller, OverrideKind.SKIP, None, target, day, _reason(words[2:], ex))
    if len(words) < 3:
        raise UsageError(f"say the agency, the target or meeting date, and why ({verb})", example=ex)
    agency = caller.session.scalar(select(Agency).where(Agency.partnership_id == caller.partnership.id,
                                                        Agency.key == words[0].lower()))
    if agency is None:
        keys = ", ".join(caller.session.scalars(select(Agency.key).where(
            Agency.partnership_id == caller.partnership.id).order_by(Agency.key)))
        raise UsageError(f"'{words[0][:32]}' is not an agency key; the keys are: {keys}", example=ex)
    if _DATE.match(words[1]):
        return save(caller, OverrideKind(verb), agency, None, _day(caller, words[1], ex), _reason(words[2:], ex))
    return save(caller, OverrideKind(verb), agency, _target(caller, words[1], ex), None, _reason(words[2:], ex))


def _target(caller: Caller, ref: str, ex: str) -> Target:
    target = access.find_target(caller, ref)
    if target is None:  # the coordinator may see every target: no need to hide whether it exists
        raise UsageError(f"no target '{ref.strip().upper()[:32]}' in {caller.partnership.name}", example=ex)
    return target


def _day(caller: Caller, text: str, ex: str) -> date:
    try:
        day = plan_json.parse_date(text)
    except UsageError as exc:
        raise UsageError(exc.message, example=ex) from None
    if day < caller.local_now.date():
        raise UsageError(f"{day.isoformat()} has passed: choose a meeting still to come", example=ex)
    return day


def _reason(words: list[str], ex: str) -> str:
    reason = " ".join(words).strip()
    if len(reason) > REASON_MAX:
        raise UsageError(f"the reason is too long ({len(reason)} characters): the limit is {REASON_MAX}", example=ex)
    return reason


def reason_given(reason: str) -> str:
    """What the processing log says of a reason: its presence and length, never its words."""
    return f"reason given, {len(reason)} characters" if reason.strip() else "no reason given"


def describe(o: AgendaOverride, *, reason: bool = True) -> str:
    """The override in one line, with its reason as typed (for the coordinator) or, for the processing log
    (`reason=False`), with only the reason's length."""
    why = o.reason if reason else reason_given(o.reason)
    scope = (f"{o.target.ref}" if o.target is not None else "") + (
        f"{' at ' if o.target is not None else ''}the meeting of {o.day.isoformat()}" if o.day else
        " (every meeting)")
    if o.kind == OverrideKind.SKIP:
        return f"#{o.id} skip {scope}: {why}"
    return f"#{o.id} {o.kind} {o.agency.key if o.agency else '?'} for {scope}: {why}"


def save(caller: Caller, kind: OverrideKind, agency: Agency | None, target: Target | None, day: date | None,
         reason: str) -> Result:
    override = AgendaOverride(partnership_id=caller.partnership.id, kind=kind, day=day, agency=agency,
                              target=target, reason=reason, created_by_id=caller.member.id, created_at=caller.now)
    caller.session.add(override)
    caller.session.flush()
    text = describe(override)
    record(caller.session, at=caller.now, partnership_id=caller.partnership.id, kind="alteration",
           actor=caller.actor, actor_member_id=caller.member.id, target_id=target.id if target else None,
           target_ref=target.ref if target else None, what=f"agenda override {describe(override, reason=False)}",
           justification="coordinator's decision")
    follow = ("A published meeting follows within a minute (the worker re-syncs its spaces and itineraries); "
              f"preview with {command(caller.names, 'agenda', 'plan', (day or caller.local_now.date()).isoformat())}.")
    return Result(Reply(title="Override saved", lines=(text, follow)))


def listing(caller: Caller) -> Result:
    rows = list(caller.session.scalars(select(AgendaOverride).where(
        AgendaOverride.partnership_id == caller.partnership.id).order_by(AgendaOverride.id)))
    today = caller.local_now.date()
    current = [o for o in rows if o.day is None or o.day >= today]
    lines = tuple(describe(o) for o in current) or ("No overrides: every meeting follows the rule as it stands.",)
    return Result(Reply(title=f"Agenda overrides ({day_label(today, long=True, year=True)})", lines=lines,
                        footer=f"Clear one with {command(caller.names, 'agenda', 'clear', '<number>')}."))


def clear(caller: Caller, number: int) -> Result:
    override = caller.session.get(AgendaOverride, number)
    if override is None or override.partnership_id != caller.partnership.id:
        raise UsageError(f"there is no override #{number}: see the list",
                         example=command(caller.names, "agenda", "overrides"))
    text = describe(override)
    record(caller.session, at=caller.now, partnership_id=caller.partnership.id, kind="alteration",
           actor=caller.actor, actor_member_id=caller.member.id, target_id=override.target_id,
           target_ref=override.target.ref if override.target else None,
           what=f"agenda override cleared: {describe(override, reason=False)}",
           justification="coordinator's decision")
    caller.session.delete(override)
    return Result(Reply(title="Override cleared", lines=(text,)))
