"""Which meeting a target's record belongs to."""

from __future__ import annotations

from sqlalchemy import select

from commands.core.context import Caller
from models import Meeting, MeetingStatus, Section, Target


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
