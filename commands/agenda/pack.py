"""The section pack: shown on demand, privately, after the confidentiality statement; never posted.

Three ways in: the pointer's "View pack" button (`pack.view`), the statement's "I accept" button
(`pack.accept`) and `/agenda show` typed in a section channel. Each one checks entitlement now, through
`access.require_section`: a button can outlive the right to press it, and then that the meeting's pack is still
open: from publication until `meeting.pack_open_working_days` working days after the meeting (partnership
file, default 5; local time), for everyone, coordinators and chairs too. Each showing is a consultation in the
processing log, one event per target shown, justified by the meeting date and section (DPA 2018 s.62).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from commands.agenda.publish import RUNS_THE_DAY
from commands.core import access
from commands.core.context import Caller
from commands.core.dates import day_label
from commands.core.errors import Refused, UsageError
from commands.core.names import command
from commands.core.replies import Button, Emphasis, Reply, Result
from commands.meeting.sections import section_here
from commands.meeting.templates import render_theirs
from models import (
    Action,
    ActionStatus,
    Invitation,
    Meeting,
    Member,
    Outcome,
    PartnerInformation,
    PartnerView,
    Section,
    Target,
)
from models.audit import record_many
from models.calendar import pack_closes
from models.target import fact_lines

ACCEPT = "pack.accept"
# What each consultation record says was shown, by the view the viewer got (commands/core/access.partner_view_for).
SHOWN = {
    PartnerView.FULL: "section pack shown (full details): details, lead officer, open actions, outcomes and "
                      "partners' information since the last meeting",
    PartnerView.SUMMARY: "section pack shown (partner summary): the lead's partner summary, lead officer, open "
                         "actions, outcomes since the last meeting",
    PartnerView.ASK: "section pack shown (reference and ask): reference, what is asked of partners, lead officer",
}
DEFAULT_OPEN_WORKING_DAYS = 5  # meeting.pack_open_working_days when the partnership file leaves it out
# With no earlier meeting to count from, outcomes of the last six weeks are shown (the usual cycle).
DEFAULT_LOOKBACK = timedelta(weeks=6)


def _section_id(value: str) -> int | None:
    return int(value) if value.strip().isdecimal() else None


def view(caller: Caller, value: str) -> Result:
    """The pointer's button: the pack, or first the confidentiality statement."""
    section = _require_open(caller, access.require_section(caller, _section_id(value), purpose="section pack"))
    return _pack_or_statement(caller, section)


def show_here(caller: Caller) -> Result:
    """`/agenda show` in a section channel: the same as pressing View pack there."""
    section = section_here(caller)
    if section is None:
        # Typed in the wrong place (the main channel, a DM): say where it works. This names no section or
        # target, so it tells nobody anything the need-to-know rule hides.
        raise UsageError(f"'{command(caller.names, 'agenda', 'show')}' shows a section's pack in that section's "
                         "own channel, and this is not a section channel. Type it in your section's channel, or "
                         "press View pack in your itinerary (sent to you by direct message)",
                         example=command(caller.names, "agenda", "show"))
    section = access.require_section(caller, section.id, purpose="section pack")
    return _pack_or_statement(caller, _require_open(caller, section))


def accept(caller: Caller, value: str) -> Result:
    """'I accept': record the acceptance for this section of this meeting, then show the pack."""
    section = _require_open(caller, access.require_section(caller, _section_id(value), purpose="section pack"))
    invitation = _invitation(caller, section)
    if invitation is None:  # entitled without an invitation row (a coordinator or chair, or since publication)
        invitation = Invitation(partnership_id=caller.partnership.id, section_id=section.id,
                                member_id=caller.member.id, reasons=[RUNS_THE_DAY])
        caller.session.add(invitation)
    if invitation.confidentiality_accepted_at is None:
        invitation.confidentiality_accepted_at = caller.now
    return _pack(caller, section)


def open_working_days(caller: Caller) -> int:
    return int((caller.partnership.meeting or {}).get("pack_open_working_days", DEFAULT_OPEN_WORKING_DAYS))


def _require_open(caller: Caller, section: Section) -> Section:
    """The section, if its meeting's pack is still open today in the partnership's time zone; otherwise Refused
    (and the refusal logged). Nothing of the pack is shown once it has closed, whoever asks."""
    day, n = section.meeting.date, open_working_days(caller)
    closes = pack_closes(day, n)
    if caller.local_now.date() <= closes:
        return section
    access.log_refusal(caller, what=f"section pack: section {section.id} ({day.isoformat()} {section.cohort.key}, "
                                    f"closed {closes.isoformat()})", justification="pack window closed")
    stays = (f"Packs stay open {n} working day{'' if n == 1 else 's'} after the meeting" if n
             else "Packs close at the end of the meeting day")
    raise Refused(f"The {section.cohort.name} pack for {day_label(day, long=True, year=True)} closed on "
                  f"{day_label(closes, long=True, year=True)}. {stays}; ask your coordinator if you need something "
                  "from it.")


def _invitation(caller: Caller, section: Section) -> Invitation | None:
    return caller.session.scalar(select(Invitation).where(Invitation.section_id == section.id,
                                                          Invitation.member_id == caller.member.id))


def statement(section: Section) -> str:
    """The section's confidentiality statement. A partnership's own wording (`confidentiality:` of a cohort) is a
    Jinja2 template rendered sandboxed, with `section`, `handling` and `date` (e.g. "Shared for {{ section }} on
    {{ date }} only")."""
    cohort = section.cohort
    if cohort.confidentiality:
        return render_theirs(cohort.confidentiality, {
            "section": cohort.name, "handling": cohort.handling,
            "date": day_label(section.meeting.date, long=True, year=True)})
    return (f"Information shared in this section is {cohort.handling}, shared under the partnership's information "
            "sharing protocol for this meeting alone; do not record or pass it on outside this meeting.")


def _pack_or_statement(caller: Caller, section: Section) -> Result:
    invitation = _invitation(caller, section)
    if invitation is not None and invitation.confidentiality_accepted_at is not None:
        return _pack(caller, section)
    day = section.meeting.date
    modal = Reply(title="Confidentiality",
                  lines=(f"{section.cohort.name}, {day_label(day, long=True, year=True)} ({section.cohort.handling})",
                         statement(section),
                         "Press I accept to confirm; the pack opens next. You are asked once per section per "
                         "meeting, and again if the section's attendees change."),
                  buttons=(Button("I accept", ACCEPT, str(section.id), Emphasis.PRIMARY),))
    return Result(Reply(lines=("Accept the section's confidentiality statement to see its pack.",)), modal=modal)


def _since(caller: Caller, section: Section) -> datetime:
    """Local midnight of the previous meeting day, or six weeks before this one."""
    tz = ZoneInfo(caller.partnership.timezone)
    day = section.meeting.date
    previous = caller.session.scalar(select(Meeting.date).where(Meeting.partnership_id == caller.partnership.id,
                                                                Meeting.date < day).order_by(Meeting.date.desc()))
    start = datetime.combine(previous or day, time(0), tzinfo=tz)
    return start if previous else start - DEFAULT_LOOKBACK


def _pack(caller: Caller, section: Section) -> Result:
    s, pid, cohort, day = caller.session, caller.partnership.id, section.cohort, section.meeting.date
    refs = list(section.target_refs or [])
    # Everything the lines below read, loaded up front: a 10x section is hundreds of targets and actions, and one
    # lazy load each made View pack grow with the section (18x from 650 to 6,500 open actions).
    found = {t.ref: t for t in s.scalars(select(Target).where(Target.partnership_id == pid, Target.ref.in_(refs))
                                         .options(selectinload(Target.details),
                                                  selectinload(Target.lead).selectinload(Member.agency)))}
    targets = [found[r] for r in refs if r in found and found[r].cohort_id == section.cohort_id
               and access.member_may_see(caller, caller.member, found[r])]
    ids = [t.id for t in targets]
    since = _since(caller, section)
    actions = list(s.scalars(select(Action).where(Action.partnership_id == pid, Action.target_id.in_(ids),
                                                  Action.status == ActionStatus.OPEN).order_by(Action.number)
                             .options(selectinload(Action.owner))))
    outcomes = list(s.scalars(select(Outcome).join(Action, Outcome.action_id == Action.id)
                              .where(Outcome.partnership_id == pid, Action.target_id.in_(ids),
                                     Outcome.recorded_at >= since)
                              .order_by(Outcome.recorded_at).options(selectinload(Outcome.action))))
    actions_of: dict[int, list[Action]] = {}
    for a in actions:
        actions_of.setdefault(a.target_id, []).append(a)
    outcomes_of: dict[int, list[Outcome]] = {}
    for o in outcomes:
        outcomes_of.setdefault(o.action.target_id, []).append(o)
    informed = list(s.scalars(select(PartnerInformation).where(PartnerInformation.partnership_id == pid,
                                                               PartnerInformation.target_id.in_(ids),
                                                               PartnerInformation.at >= since)
                              .order_by(PartnerInformation.at, PartnerInformation.id)))
    tz = ZoneInfo(caller.partnership.timezone)
    views = {t.id: access.partner_view_for(caller.member, t) for t in targets}
    lines = [f"{cohort.name}, {day_label(day, long=True, year=True)} - {cohort.handling}", ""]
    for t in targets:
        lead, view = t.lead, views[t.id]
        if view == PartnerView.ASK:  # the reference, what is asked and whom to ask: nothing else about the target
            asked = t.details.ask if t.details and t.details.ask else "(nothing asked yet)"
            lines += [t.ref, f"    Asked of partners: {asked}", f"    Lead officer: {lead.name} ({lead.agency.name})"]
            continue
        lines.append(f"{t.ref} ({t.kind}, priority {t.priority}; flags: {', '.join(t.flags or []) or 'none'})")
        if view == PartnerView.SUMMARY:
            written = t.details.partner_summary if t.details and t.details.partner_summary else ""
            lines.append(f"    Partner summary: {written or '(no summary written yet)'}")
        else:
            lines.append(f"    {t.details.summary if t.details and t.details.summary else '(no details recorded)'}")
            lines += [f"    {fact}" for fact in fact_lines(t.details.facts or {} if t.details else {})]
        lines.append(f"    Lead officer: {lead.name} ({lead.agency.name})")
        for a in actions_of.get(t.id, ()):
            due = f", due {day_label(a.due, day, weekday=False)}" if a.due else ""
            lines.append(f"    Open action #{a.number}: {a.text} ({a.owner.name}{due})")
        for o in outcomes_of.get(t.id, ()):
            lines.append(f"    Outcome of #{o.action.number} "
                         f"({day_label(o.recorded_at.astimezone(tz).date(), day, weekday=False)}): "
                         f"{o.category}: {o.text}")
        if view == PartnerView.FULL:  # what partners brought (/inform) is detail: not for summary or ask views
            for i in (i for i in informed if i.target_id == t.id):
                lines.append(f"    From {i.from_member.name} ({i.from_member.agency.name}, "
                             f"{day_label(i.at.astimezone(tz).date(), day, weekday=False)}): {i.text}")
    if not targets:
        lines.append("No targets to show in this section.")
    justification = f"{day.isoformat()} {cohort.key} section pack"
    record_many(s, [(t.id, t.ref, SHOWN[views[t.id]]) for t in targets], at=caller.now, partnership_id=pid,
                kind="consultation", actor=caller.actor, actor_member_id=caller.member.id,
                recipients=[caller.member.key], justification=justification)
    modal = Reply(title="Section pack", lines=tuple(lines),
                  footer=f"{cohort.handling}. Shown to you alone and recorded in the processing log; "
                         "do not copy it into chat.")
    return Result(Reply(lines=(f"The {cohort.name} pack is open.",)), modal=modal)
