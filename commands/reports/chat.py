"""`/oneday report [from] [to]`: the partnership's figures, for the analyst, the chair and the coordinator.

The figures come back as the private answer; the chart comes as a PNG file in the requester's direct messages
(the outbox delivers it, like an itinerary's .ics). The request only queues the chart: the outbox draws it when
it delivers it (commands/reports/delivery.py), so the answer does not wait for matplotlib, which the serving
process does not load to answer. Nothing in either names a target, a person or free text
(commands/reports/figures.py), so making a report is not a disclosure about any target and is not logged as one;
a refusal (any other role) is logged like every refusal.

Dates are YYYY-MM-DD, in the partnership's time zone, both days included: none is the last 90 days to today,
one is from that day to today.
"""

from __future__ import annotations

from datetime import date, timedelta

from commands.core import access
from commands.core.context import Caller
from commands.core.errors import Refused, UsageError
from commands.core.names import command
from commands.core.replies import Item, Reply, Result
from commands.reports import delivery, render
from commands.reports.figures import Figures, compute

ROLES = delivery.ROLES  # asked here, and again when the chart is delivered
DEFAULT_DAYS = 90


def example(caller: Caller) -> str:
    """A period ending today (a fixed date in an example would age)."""
    today = caller.local_now.date()
    return command(caller.names, "oneday", "report", (today - timedelta(days=DEFAULT_DAYS)).isoformat(),
                   today.isoformat())


def _day(text: str, which: str, ex: str) -> date:
    try:
        if len(text) != 10:
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"the {which} date '{text}' is not a date; write it as YYYY-MM-DD", example=ex) from None


def period(words: list[str], today: date, ex: str) -> tuple[date, date]:
    """(from, to) from zero, one or two YYYY-MM-DD words."""
    if len(words) > 2:
        raise UsageError(f"a report takes at most two dates, from and to (got {len(words)} words)", example=ex)
    start = _day(words[0], "from", ex) if words else today - timedelta(days=DEFAULT_DAYS - 1)
    end = _day(words[1], "to", ex) if len(words) == 2 else today
    if start > end:
        raise UsageError(f"the period starts ({start.isoformat()}) after it ends ({end.isoformat()}); "
                         "give the earlier date first", example=ex)
    return start, end


def run(caller: Caller, words: list[str]) -> Result:
    member = caller.member
    if not (member.active and member.has_role(*ROLES)):
        access.log_refusal(caller, what="partnership report", justification="analyst, chair or coordinator role required")
        raise Refused("Only an analyst, a chair or a coordinator can have the partnership's figures. Ask your "
                      "coordinator if you need them.")
    ex = example(caller)
    start, end = period(words, caller.local_now.date(), ex)
    figures = compute(caller.session, caller.partnership, start, end, now=caller.now)
    chart = delivery.chart_notice(
        member.key, figures, key=f"report:{member.key}:{start.isoformat()}:{end.isoformat()}:{caller.now.isoformat()}")
    return Result(reply(figures), notices=(chart,))


def reply(f: Figures) -> Reply:
    """The figures in a message: the summary as fields, agencies as items (a renderer short of room shortens the
    longest group and says so)."""
    total, ttc = f.totals, f.time_to_outcome
    invited = sum(a.invited for a in f.attendance)
    present = sum(a.present for a in f.attendance)
    apologies = sum(a.apologies for a in f.attendance)
    median = "-" if ttc.median_days is None else f"{ttc.median_days:g}"
    p90 = "-" if ttc.p90_days is None else str(ttc.p90_days)
    fields = (
        ("Period", f"{f.period} (as of {f.as_of.isoformat()})"),
        ("Meetings held", f"{f.meetings_held} ({f.sections_held} sections)"),
        ("Actions", f"{total.raised} raised, {total.completed} completed, {total.cancelled} cancelled, "
                    f"{total.overdue} overdue"),
        ("Time to outcome", f"median {median} days, 90th percentile {p90} days ({ttc.outcomes} outcomes)"),
        ("Outcomes", ", ".join(f"{g} {n}" for g, n in f.outcomes_by_group)),
        ("Attendance", f"{present} present, {apologies} apologies, of {invited} member invitations"),
        ("Information sharing protocol", ", ".join(f"{s} {n}" for s, n in f.isp_counts)),
    )
    items: list[Item] = []
    if f.actions:
        items.append(Item("Actions by agency (raised, completed, overdue)", heading=True))
        items += [Item(f"{a.agency}: {a.raised} raised, {a.completed} completed, {a.overdue} overdue")
                  for a in f.actions]
    if f.attendance:
        items.append(Item("Attendance by agency", heading=True))
        items += [Item(f"{a.agency}: {a.present} present, {a.apologies} apologies, of {a.invited}")
                  for a in f.attendance]
    not_current = [(agency, status) for agency, status in f.isp if status != "signed current"]
    if not_current:
        items.append(Item("Agencies without the current ISP", heading=True))
        items += [Item(f"{agency}: {status}") for agency, status in not_current]
    return Reply(title=render.title(f), fields=fields, items=tuple(items),
                 footer="The chart is on its way to your direct messages. Counts only: no target, person or free "
                        "text. As HTML, PDF or CSV: `oneday report --from D --to D --format pdf` on the server.")
