"""Help for every command, built from the configured command names."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

from commands.core.replies import Reply

# intent -> (summary, [(usage, what it does)])
HELP: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "oneday": ("Oneday: the one day, one conversation meeting.", [
        ("{oneday} whoami", "who Oneday thinks you are: member, agency, roles, sections you may see"),
        ("{oneday} toolkit", "what every agency can bring: flags it acts on, powers, information, and what its "
                             "actions led to (counts); add a flag, e.g. {oneday} toolkit benefits"),
        ("{oneday} report {period}", "analyst, chair or coordinator: the partnership's figures for a "
                                                  "period (counts only; the chart comes by direct message)"),
        ("{oneday} help", "this help"),
    ]),
    "agenda": ("The meeting day: sections by offender group, each for the partners who have a role in it.", [
        ("{agenda} plan {day}", "coordinator or chair: preview the day with the reason each agency is invited"),
        ("{agenda} publish {day}", "coordinator: publish, create section channels, send itineraries"),
        ("{agenda} show", "in a section channel: view the section pack (after the confidentiality statement)"),
        ("{agenda} add probation OCG-07 licence conditions", "coordinator: bring an agency to a target's slot "
                                                             "(or to a meeting: a date), with the reason"),
        ("{agenda} drop fire {day} no premises this time", "coordinator: keep an agency away (lead officers "
                                                                "and action owners stay)"),
        ("{agenda} skip N-0412 {day} in custody", "coordinator: a target does not come up at that meeting"),
        ("{agenda} overrides", "coordinator: the overrides in force; clear one with {agenda} clear 3"),
        ("{agenda} here", "in your section's channel: mark yourself present (or press I'm here when it starts)"),
        ("{agenda} apologies {day} sub @jo", "send apologies for your sections of a meeting, with a substitute "
                                                  "from your agency"),
        ("{agenda} present @sam", "chair or coordinator, in a section's channel: mark others present"),
        ("{agenda} day", "chair or coordinator: the day so far: sections now and next, who is here, apologies, "
                         "statements accepted"),
        ("{agenda} minutes {day} release", "chair or coordinator: preview (no word after the date), add a "
                                                "section note (note ocg <text>) or release the minutes: each member "
                                                "gets only the targets they are entitled to"),
        ("{agenda} share OCG-07 summary <text>", "lead officer, coordinator or chair: what partners outside the core "
                                                 "agencies see of a target in the pack: full, summary <text> (a "
                                                 "partner summary you write) or ask <text> (reference and ask only)"),
        ("{agenda} onward OCG-07 @bea.morris <why>", "ask a chair to share a target's pack once with someone outside "
                                                     "its slot (onward disclosure; logged)"),
    ]),
    "action": ("Record and manage actions on targets.", [
        ("{action} OCG-07 @sam check benefits claim by Friday", "record an action for an owner"),
        ("{action} update 12 visited, no answer", "add a progress note"),
        ("{action} reassign 12 @jo", "hand the action to someone else entitled to the target"),
        ("{action} due 12 5/12 awaiting DWP reply", "move the due date (a reason is required)"),
        ("{action} cancel 12 duplicate of #9", "cancel with a reason"),
        ("{action}", "open the action form (targets you may see); a date to check gets a preview first"),
    ]),
    "outcome": ("Close an action with what happened.", [
        ("{outcome} 12 claim suspended pending review benefit-sanction", "record the outcome and category"),
        ("{outcome} 12 nothing found nfa", "categories: arrest, charge, eviction, benefit-sanction, licence-review, "
                                           "safeguarding-referral, no-further-action (nfa), not possible: "
                                           "circumstances changed, not done by the agency, ..."),
        ("{outcome}", "open the outcome form; without a category the form opens too"),
    ]),
    "decision": ("The meeting's record of each target: its status and what was decided.", [
        ("{decision} OCG-07 escalated refer to ROCU tasking", "chair, coordinator or lead officer: set the status "
                                                              "(discussed, no-update, deferred, escalated, closed) "
                                                              "and record a decision"),
        ("{decision} OCG-07 licence recall requested", "record a decision alone"),
        ("{decision} OCG-07", "what is recorded for the target at its latest meeting"),
    ]),
    "inform": ("Bring information about a target to the table.", [
        ("{inform} OCG-07 seen at the Riverside flats with a new vehicle", "sent to the target's lead officer (never "
                                                                          "to a channel) and kept for the next pack"),
    ]),
    "actions": ("List actions you are entitled to see.", [
        ("{actions}", "your open actions"),
        ("{actions} overdue", "overdue actions you may see"),
        ("{actions} OCG-07", "actions on one target"),
        ("{actions} @sam", "one member's actions"),
        ("{actions} overdue page 2", "the next page (newest due date first; actions with no date are never overdue)"),
    ]),
}


def example_day(today: date | None = None) -> str:
    """A meeting date for an example, computed so that it never ages: the Tuesday at least a week after `today`
    (meetings are often on Tuesdays); with no `today` (the app manifest, written once) the form itself."""
    if today is None:
        return "YYYY-MM-DD"
    return (today + timedelta(days=7 + (1 - today.weekday()) % 7)).isoformat()


def _values(names: Mapping[str, str], today: date | None) -> dict[str, str]:
    period = (f"{(today - timedelta(days=90)).isoformat()} {today.isoformat()}" if today
              else "YYYY-MM-DD YYYY-MM-DD")
    return {**names, "day": example_day(today), "period": period}


def usage_line(usage: str, names: Mapping[str, str], today: date | None = None) -> str:
    return usage.format(**_values(names, today))


def help_reply(intent: str, names: Mapping[str, str], today: date | None = None) -> Reply:
    summary, usages = HELP[intent]
    lines = tuple(f"{usage_line(usage, names, today)}  -  {what}" for usage, what in usages)
    return Reply(title=f"{names[intent]} help", lines=(summary, *lines),
                 footer="Target details are shown only to the partners in that target's section.")


def example(intent: str, names: Mapping[str, str], index: int = 0, today: date | None = None) -> str:
    return usage_line(HELP[intent][1][index][0], names, today)
