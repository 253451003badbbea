"""Which meeting, and which section of it, a command is about: the published meeting of a date, the section
whose channel a command was typed in, the meeting a target's record belongs to."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from commands.agenda.plan_json import parse_date
from commands.core.context import Caller
from commands.core.dates import day_label
from commands.core.errors import UsageError
from models import Meeting, MeetingStatus, Section, Target


def meeting_day(word: str, example: str) -> date:
    """A meeting date as typed (YYYY-MM-DD), or UsageError with `example`."""
    try:
        return parse_date(word)
    except UsageError as exc:
        raise UsageError(exc.message, example=example) from None


def published_meeting(caller: Caller, day: date, example: str) -> Meeting:
    """The partnership's meeting published for `day`, or UsageError with `example`."""
    meeting = caller.session.scalar(select(Meeting).where(Meeting.partnership_id == caller.partnership.id,
                                                          Meeting.date == day,
                                                          Meeting.status == MeetingStatus.PUBLISHED))
    if meeting is None:
        raise UsageError(f"no meeting is published for {day_label(day, long=True, year=True)}", example=example)
    return meeting


def section_here(caller: Caller) -> Section | None:
    """The section whose chat space the command was typed in; None anywhere else (the main channel, a DM). It
    says nothing of entitlement: the caller checks that (commands/core/access.py)."""
    if not caller.channel:
        return None
    return caller.session.scalar(select(Section).where(Section.partnership_id == caller.partnership.id,
                                                       Section.space_ref == caller.channel))


def latest_section(caller: Caller, target: Target) -> Section | None:
    """The section of the latest published meeting, on or before today (the partnership's time zone), that had
    `target` on its agenda: decisions are recorded at the meeting or in the days after it, never ahead of it."""
    today = caller.local_now.date()
    sections = caller.session.scalars(
        select(Section).join(Meeting, Section.meeting_id == Meeting.id)
        .where(Section.partnership_id == caller.partnership.id, Section.cohort_id == target.cohort_id,
               Meeting.status == MeetingStatus.PUBLISHED, Meeting.date <= today)
        .order_by(Meeting.date.desc()))
    return next((s for s in sections if target.ref in (s.target_refs or [])), None)
