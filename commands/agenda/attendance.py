"""Who came: attendance marks, apologies with substitutes, and the chair's view of the day.

- `/agenda here` in a section's channel, or its "I'm here" button (posted there when the section starts): the
  member marks themselves present. Only members in the section now (the need-to-know rule) can.
- `/agenda present @sam @jo` in a section's channel: the chair or a coordinator marks others present.
- `/agenda apologies 2026-12-08 [sub @jo]`: apologies, ahead of time, for each section of that meeting the member
  is in and that has not ended; a substitute must be an active member of the same agency. The chairs are told by
  DM (no target is named). Whether the substitute sees anything is still the rule's call: the answer says if the
  substitute is not in the section, so the coordinator can add them.
- `/agenda day [date]`: the chair's and coordinators' view of the day: each section's times (done, now, next),
  who is here, who sent apologies (and their substitute), who has not come yet, who has accepted the statement.

Attendance names people and agencies, never a target: it is not a disclosure about any target.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from commands.core import access, mentions
from commands.core.context import Caller
from commands.core.dates import day_label
from commands.core.errors import Refused, UsageError
from commands.core.help import example_day
from commands.core.names import command
from commands.core.replies import Button, Destination, Emphasis, Notice, Reply, Result
from commands.meeting.sections import meeting_day, published_meeting, section_here
from models import Attendance, AttendanceStatus, Meeting, MeetingStatus, Member, Partnership, Section

HERE = "attend.here"
VERBS = ("here", "present", "apologies", "day")


def run(caller: Caller, verb: str, rest: str) -> Result:
    if verb == "here":
        return _mark_self(caller, _section_here(caller, "here"))
    if verb == "present":
        return _present(caller, rest)
    if verb == "apologies":
        return _apologies(caller, rest)
    return _day(caller, rest)


def press_here(caller: Caller, value: str) -> Result:
    """The "I'm here" button in a section's channel."""
    section = access.require_section(caller, int(value) if value.isdigit() else None, purpose="attendance")
    return _mark_self(caller, section)


# ------------------------------------------------------------------------------------------ marking


def _section_here(caller: Caller, verb: str) -> Section:
    section = section_here(caller)
    if section is None:
        raise UsageError(f"'{command(caller.names, 'agenda', verb)}' works in a section's own channel, and this is "
                         "not a section channel: type it there, or press I'm here when the section starts",
                         example=command(caller.names, "agenda", verb, *(("@sam",) if verb == "present" else ())))
    return section


def _in_section(caller: Caller, member: Member, section: Section) -> bool:
    return access.may_see_section(replace(caller, member=member), section)


def _mark(caller: Caller, section: Section, member: Member, status: AttendanceStatus,
          substitute: Member | None = None) -> None:
    row = caller.session.scalar(select(Attendance).where(Attendance.section_id == section.id,
                                                         Attendance.member_id == member.id))
    if row is None:
        row = Attendance(partnership_id=caller.partnership.id, section_id=section.id, member_id=member.id,
                         status=status, marked_by_id=caller.member.id, at=caller.now)
        caller.session.add(row)
    row.status, row.substitute_id, row.marked_by_id, row.at = (status, substitute.id if substitute else None,
                                                               caller.member.id, caller.now)


def _mark_self(caller: Caller, section: Section) -> Result:
    section = access.require_section(caller, section.id, purpose="attendance")
    _mark(caller, section, caller.member, AttendanceStatus.PRESENT)
    when = day_label(section.meeting.date, long=True, year=True)
    return Result(Reply(lines=(f"Marked present at {section.cohort.name}, {when}. Thank you.",)))


def _require_runs_the_day(caller: Caller, what: str) -> None:
    if caller.member.active and caller.member.has_role("chair", "coordinator"):
        return
    access.log_refusal(caller, what=what, justification="chair or coordinator role required")
    raise Refused("Only the chair or a coordinator can do that. Mark yourself present with "
                  f"{command(caller.names, 'agenda', 'here')} in your section's channel.")


def _present(caller: Caller, rest: str) -> Result:
    example = command(caller.names, "agenda", "present", "@sam.patel @jo.baker")
    _require_runs_the_day(caller, "agenda present")
    section = _section_here(caller, "present")
    words = rest.split()
    if not words:
        raise UsageError("name who is here with @", example=example)
    marked, refused = [], []
    for word in words:
        member = mentions.find(caller, word)
        if member is None:
            raise UsageError(f"{mentions.shown(word)} is not a member of {caller.partnership.name}; nobody was "
                             "marked", example=example)
        if not _in_section(caller, member, section):
            refused.append(member.name)
            continue
        _mark(caller, section, member, AttendanceStatus.PRESENT)
        marked.append(member.name)
    lines = [f"Marked present at {section.cohort.name}: {', '.join(marked)}." if marked else "Nobody was marked."]
    if refused:
        lines.append(f"Not in this section, so not marked: {', '.join(refused)}.")
    return Result(Reply(lines=tuple(lines)))


def _apologies(caller: Caller, rest: str) -> Result:
    example = command(caller.names, "agenda", "apologies", example_day(caller.local_now.date()), "sub @jo.baker")
    words = rest.split()
    if not words:
        raise UsageError("say which meeting (its date)", example=example)
    day = meeting_day(words[0], example)
    substitute = None
    if len(words) > 1:
        if words[1].lower() not in ("sub", "substitute") or len(words) != 3:
            raise UsageError("after the date, only 'sub @member' (who comes instead) may follow", example=example)
        substitute = mentions.find(caller, words[2])
        member = caller.member
        if substitute is None or substitute.id == member.id or substitute.agency_id != member.agency_id:
            raise UsageError(f"a substitute must be another active member of {member.agency.name}", example=example)
    meeting = published_meeting(caller, day, example)
    sections = [s for s in meeting.sections if s.ends_at > caller.now and access.may_see_section(caller, s)]
    if not sections:
        raise UsageError(f"you are in no section of the meeting on {day_label(day, long=True, year=True)} that has "
                         "not already ended, so there is nothing to send apologies for", example=example)
    for section in sections:
        _mark(caller, section, caller.member, AttendanceStatus.APOLOGIES, substitute)
    names = ", ".join(s.cohort.name for s in sections)
    when = day_label(day, long=True, year=True)
    lines = [f"Apologies recorded for {names}, {when}."]
    sub = ""
    if substitute is not None:
        sub = f"; substitute: {substitute.name}"
        outside = [s.cohort.name for s in sections if not _in_section(caller, substitute, s)]
        lines.append(f"{substitute.name} comes instead."
                     + (f" They are not in {', '.join(outside)}: ask your coordinator to add them if they should "
                        "see those targets." if outside else ""))
    chairs = access.active_with_role(caller.session, caller.partnership.id, "chair")
    notices = tuple(Notice(to=Destination.member(c.key), key=f"apologies:{meeting.id}:{caller.member.key}:"
                                                              f"{substitute.key if substitute else '-'}",
                           message=Reply(lines=(f"{caller.member.name} ({caller.member.agency.name}) sends apologies "
                                                f"for {names}, {when}{sub}.",)))
                    for c in chairs if c.id != caller.member.id)
    return Result(Reply(lines=tuple(lines)), notices=notices)


# ------------------------------------------------------------------------------------------ the chair's view


def _day(caller: Caller, rest: str) -> Result:
    example = command(caller.names, "agenda", "day")
    _require_runs_the_day(caller, "agenda day")
    words = rest.split()
    if len(words) > 1:
        raise UsageError("takes at most a meeting date (today's meeting when left out)", example=example)
    day = meeting_day(words[0], example) if words else caller.local_now.date()
    meeting = published_meeting(caller, day, example)
    tz = ZoneInfo(caller.partnership.timezone)
    s = caller.session
    marks = {(a.section_id, a.member_id): a for a in s.scalars(
        select(Attendance).where(Attendance.section_id.in_([x.id for x in meeting.sections])))}
    lines: list[str] = []
    upcoming = [x for x in meeting.sections if x.ends_at > caller.now]
    for section in meeting.sections:
        state = ("done" if section.ends_at <= caller.now else "now" if section.starts_at <= caller.now
                 else "next" if upcoming and section is upcoming[0] else "later")
        lines.append(f"{section.starts_at.astimezone(tz):%H:%M}-{section.ends_at.astimezone(tz):%H:%M} "
                     f"{section.cohort.name} ({state})")
        invited = [i for i in section.invitations if i.member_id is not None and not i.excluded]
        here, apologies, waiting, accepted = [], [], [], 0
        for inv in sorted(invited, key=lambda i: i.member.name if i.member else ""):
            member = inv.member
            assert member is not None
            accepted += inv.confidentiality_accepted_at is not None
            mark = marks.get((section.id, member.id))
            who = f"{member.name} ({member.agency.name})"
            if mark is not None and mark.status == AttendanceStatus.PRESENT:
                here.append(who)
            elif mark is not None:
                apologies.append(who + (f", substitute {mark.substitute.name}" if mark.substitute else ""))
            else:
                waiting.append(who)
        lines.append(f"    here ({len(here)}): {', '.join(here) or 'nobody yet'}")
        if apologies:
            lines.append(f"    apologies ({len(apologies)}): {'; '.join(apologies)}")
        if waiting and state != "done":
            lines.append(f"    not here yet ({len(waiting)}): {', '.join(waiting)}")
        lines.append(f"    accepted the statement: {accepted} of {len(invited)}")
    return Result(Reply(title=f"The day: {day_label(day, long=True, year=True)}", lines=tuple(lines),
                        footer="Members mark themselves present with I'm here in their section's channel, or "
                               f"{command(caller.names, 'agenda', 'here')}; you can mark others with "
                               f"{command(caller.names, 'agenda', 'present', '@member')}."))


# ------------------------------------------------------------------------------------------ the job


def section_starts(session: Session, partnership: Partnership, now: datetime) -> Result:
    """The "I'm here" post in each section's channel once the section has started (and until it ends), for
    today's published meetings; its key makes it one post per section however often the job runs."""
    today = now.astimezone(ZoneInfo(partnership.timezone)).date()
    meetings = session.scalars(select(Meeting).where(Meeting.partnership_id == partnership.id, Meeting.date == today,
                                                     Meeting.status == MeetingStatus.PUBLISHED))
    notices = []
    for meeting in meetings:
        for section in meeting.sections:
            if section.starts_at <= now < section.ends_at:
                notices.append(Notice(
                    to=Destination.section(section.id), key=f"section:{section.id}:start",
                    message=Reply(lines=(f"{section.cohort.name} is starting. Press I'm here so the chair knows "
                                         "you are in the room.",),
                                  buttons=(Button("I'm here", HERE, str(section.id), Emphasis.PRIMARY),))))
    return Result(Reply(lines=(f"{len(notices)} section start posts planned",)), notices=tuple(notices))

