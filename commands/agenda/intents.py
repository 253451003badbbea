"""`/agenda`: plan (preview), publish and show the meeting day.

- `plan <date>`: coordinator or chair; an ephemeral preview with each agency's reasons and each exclusion.
- `publish <date>`: coordinator only; saves the meeting and queues the overview, the section spaces and
  pointers and everyone's itinerary (commands/agenda/publish.py). Publishing again sends only what changed.
- `show`: in a section channel, the section pack (commands/agenda/pack.py).
- `add|drop|skip|overrides|clear`: the coordinator's overrides of the rule (commands/agenda/overrides.py).
- `here`, `present @member`, `apologies <date> [sub @member]`, `day [date]`: attendance and the chair's view of
  the day (commands/agenda/attendance.py).
- `minutes <date> [note <section> <text> | release]`: the chair's minutes (commands/meeting/minutes.py).
- `share <REF> full | summary <text> | ask <text>`: the lead officer (or a coordinator or chair) sets what partners
  outside the core agencies see of a target in the pack (commands/agenda/share.py).
- `onward <REF> @member <reason>`: ask a chair to share a target's pack once with someone outside its slot
  (commands/governance/onward.py).
"""

from __future__ import annotations

from datetime import date

from commands.agenda import attendance, overrides, pack, share
from commands.agenda import plan_json as agenda_plan
from commands.agenda.plan_json import hhmm
from commands.agenda.publish import PACK_VIEW, publish
from commands.core import access
from commands.core.context import Caller
from commands.core.dates import day_label
from commands.core.errors import Refused, UsageError
from commands.core.help import example, example_day
from commands.core.names import command
from commands.core.replies import Reply, Result
from commands.governance import onward
from commands.governance.showing import shown_to_caller
from commands.meeting import minutes
from models.gc_pause import builds_acyclic
from models.planning import plan_day

BUTTONS = {PACK_VIEW: pack.view, pack.ACCEPT: pack.accept, attendance.HERE: attendance.press_here, **minutes.BUTTONS}
VIEW_BUTTONS = frozenset({PACK_VIEW, pack.ACCEPT})  # the pack and its statement (see commands/core/router.py)


def run(caller: Caller, text: str) -> Result:
    names, words = caller.names, text.split()
    verb = words[0].lower() if words else ""
    if verb in ("plan", "publish"):
        if len(words) != 2:
            raise UsageError(f"'{command(names, 'agenda', verb)}' takes the meeting date",
                             example=command(names, "agenda", verb, example_day(caller.local_now.date())))
        if verb == "plan":
            _require_planner(caller, what=f"agenda plan {words[1][:10]}")
        else:
            access.require_coordinator(caller, what=f"agenda publish {words[1][:10]}")
        day = read_date(words[1], command(names, "agenda", verb, example_day(caller.local_now.date())))
        return preview(caller, day) if verb == "plan" else publish_now(caller, day)
    if verb in overrides.VERBS:
        return overrides.run(caller, verb, text.split(None, 1)[1] if len(words) > 1 else "")
    if verb == "show":
        if len(words) > 1:
            raise UsageError(f"'{command(names, 'agenda', 'show')}' takes no arguments; run it in a section channel",
                             example=command(names, "agenda", "show"))
        return pack.show_here(caller)
    if verb == "minutes":
        return minutes.run(caller, text.split(None, 1)[1] if len(words) > 1 else "")
    if verb in attendance.VERBS:
        return attendance.run(caller, verb, text.split(None, 1)[1] if len(words) > 1 else "")
    if verb == "share":
        return share.run(caller, text.strip()[len(words[0]):])
    if verb == "onward":
        return onward.run(caller, text.strip()[len(words[0]):])
    what = f"unknown subcommand '{verb}'" if verb else "say what to do"
    raise UsageError(what, example=example("agenda", names, today=caller.local_now.date()))


def _require_planner(caller: Caller, *, what: str) -> None:
    """A coordinator or a chair may preview the day: the chair runs it and sees every target anyway, and
    previewing sends and saves nothing. Publishing stays the coordinator's."""
    member = caller.member
    if member.active and member.has_role("coordinator", "chair"):
        return
    access.log_refusal(caller, what=what, justification="coordinator or chair role required")
    raise Refused("Only a coordinator or a chair can preview the agenda. Ask your coordinator if you need to "
                  "know when your slots are: your itinerary arrives by direct message when the day is published.")


def read_date(text: str, usage: str) -> date:
    try:
        return agenda_plan.parse_date(text)
    except UsageError as exc:
        raise UsageError(exc.message, example=usage) from None


REFS_SHOWN = 3  # references named per reason: the preview says why, the JSON plan lists every one


def compact_reasons(reasons: tuple[str, ...] | list[str]) -> str:
    """'flag:benefits (OCG-07)', 'flag:benefits (OCG-09)', ... -> 'flag:benefits (OCG-07, OCG-09, +4)'.

    A big partnership lists an agency's flag for every matching target; grouping keeps the preview readable.
    """
    grouped: dict[str, list[str]] = {}
    for reason in reasons:
        head, _, ref = reason.partition(" (")
        grouped.setdefault(head, [])
        if ref:
            grouped[head].append(ref.rstrip(")"))
    parts = []
    for head, refs in grouped.items():
        if not refs:
            parts.append(head)
            continue
        shown = ", ".join(refs[:REFS_SHOWN]) + (f", +{len(refs) - REFS_SHOWN}" if len(refs) > REFS_SHOWN else "")
        parts.append(f"{head} ({shown})")
    return ", ".join(parts)


@builds_acyclic
def preview(caller: Caller, day: date) -> Result:
    """The day as it would be published now, with every reason and exclusion; nothing is saved or sent."""
    day_plan = plan_day(caller.session, caller.partnership, day)
    lines: list[str] = []
    for s in day_plan.sections:
        rel = s.relevance
        lines.append(f"{s.start:%H:%M}-{s.end:%H:%M}  {s.name}: {len(rel.targets)} targets, "
                     f"{len(rel.members)} members")
        for slot in s.slots:
            agencies = ", ".join(a.key for a in slot.relevance.agencies) or "none"
            lines.append(f"  {hhmm(slot.start)}-{hhmm(slot.end)} {slot.target}: {agencies} "
                         f"({len(slot.members)} members)")
        for a in rel.agencies:
            lines.append(f"    invited {a.key}: {compact_reasons(a.reasons)}")
        for e in rel.excluded:
            lines.append(f"    EXCLUDED {e.key} ({e.reason})")
    if not day_plan.sections:
        lines.append("No cohort has an active target: there is nothing to publish.")
    shown_to_caller(caller, [slot.target for s in day_plan.sections for slot in s.slots],
                    what=f"agenda plan for {day.isoformat()}: reference, slot, agencies invited and why",
                    justification=f"planning the meeting of {day.isoformat()}")
    for note in day_plan.notes:
        lines.append(f"note: {note}")
    footer = (f"Agency-target pairs invited: {day_plan.pairs_invited} of {day_plan.pairs_possible}. "
              f"Member-hours in the room: {day_plan.member_minutes_slots / 60:.1f} (whole sections would be "
              f"{day_plan.member_minutes_sections / 60:.1f}). Waiting between slots: {day_plan.waiting_after} min "
              "in total. Nothing is sent until you "
              f"publish: {command(caller.names, 'agenda', 'publish', day.isoformat())}")
    return Result(Reply(title=f"Agenda plan for {day_label(day, long=True, year=True)} (preview)", lines=tuple(lines),
                        footer=footer,
                        more=f"the whole plan is in `oneday agenda plan --date {day.isoformat()} --json`"))


def publish_now(caller: Caller, day: date) -> Result:
    published = publish(caller.session, caller.partnership, day, actor=caller.actor, now=caller.now,
                        actor_member_id=caller.member.id, names=caller.names)
    when = day_label(day, long=True, year=True)
    if published.notices:
        head = f"Published the agenda for {when}: {published.sections} sections, {published.members} members."
        body = f"{len(published.notices)} messages queued (overview, section channels, pointers, itineraries)."
    else:
        head = f"The agenda for {when} is already published as planned now."
        body = "Nothing changed since the last publication, so nothing new was sent."
    notes = tuple(f"note: {n}" for n in published.notes)
    return Result(Reply(title="Agenda published", lines=(head, body, *notes)), notices=tuple(published.notices))
