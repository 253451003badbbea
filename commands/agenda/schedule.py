"""Automatic publication: each meeting's agenda goes out N working days before it (England and Wales).

The meeting days are the partnership file's `meeting.dates` and its `meeting.recurrence` (models/recurrence.py);
N is `meeting.publish_working_days_before`.
A meeting is published by the worker once, when its publish date has arrived and it is not yet published;
publishing is idempotent anyway, so a job that runs twice (or two workers) sends nothing twice.

After that, the published meetings still to come follow the partnership (`follow`): every worker cycle applies
the rule again, so a member removed, an ISP lapsing, a role changing, a flag or an action added re-syncs the
section spaces, invitations, itineraries and confidentiality statements within one cycle, without anyone
re-publishing. Only what changed is sent; a cycle with nothing changed sends and records nothing.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from commands.agenda.publish import publish
from commands.core.errors import UsageError
from commands.core.replies import Reply, Result
from models import Meeting, MeetingStatus, Partnership
from models.calendar import publish_date
from models.recurrence import occurrences

ACTOR = "worker"


HORIZON = timedelta(days=366)  # how far ahead a recurrence is unrolled


def meeting_dates(partnership: Partnership, today: date) -> list[date]:
    """The meeting days from `today` on: `meeting.dates` and, unrolled for a year, `meeting.recurrence`."""
    meeting = partnership.meeting or {}
    days = {date.fromisoformat(d) for d in meeting.get("dates") or []}
    if meeting.get("recurrence"):
        days |= set(occurrences(meeting["recurrence"], today, today + HORIZON))
    return sorted(d for d in days if d >= today)


def due(partnership: Partnership, today: date, published: set[date]) -> list[date]:
    """Meeting days, today or later, whose publish date has arrived and which are not published yet."""
    n = int((partnership.meeting or {}).get("publish_working_days_before", 3))
    return [d for d in meeting_dates(partnership, today) if d not in published and publish_date(d, n) <= today]


def publish_due(session: Session, partnership: Partnership, now: datetime) -> Result:
    """Publish every meeting that is due (in the caller's transaction). The reply says what was done."""
    today = now.astimezone(ZoneInfo(partnership.timezone or "Europe/London")).date()
    published = set(session.scalars(select(Meeting.date).where(Meeting.partnership_id == partnership.id,
                                                               Meeting.status == MeetingStatus.PUBLISHED)))
    lines: list[str] = []
    notices = []
    for day in due(partnership, today, published):
        try:
            result = publish(session, partnership, day, actor=ACTOR, now=now, tell_coordinators=True)
        except UsageError as exc:  # e.g. no cohort has a target: say so, publish the others
            lines.append(f"{day.isoformat()}: not published: {exc.message}")
            continue
        notices.extend(result.notices)
        lines.append(f"{day.isoformat()}: published ({result.sections} sections, {len(result.notices)} messages)")
    return Result(Reply(title=f"{partnership.name}: agenda publication", lines=tuple(lines)), notices=tuple(notices))


def follow(session: Session, partnership: Partnership, now: datetime) -> Result:
    """Re-apply the rule to every published meeting from today on (in the caller's transaction)."""
    today = now.astimezone(ZoneInfo(partnership.timezone or "Europe/London")).date()
    days = list(session.scalars(select(Meeting.date).where(
        Meeting.partnership_id == partnership.id, Meeting.status == MeetingStatus.PUBLISHED,
        Meeting.date >= today).order_by(Meeting.date)))
    lines: list[str] = []
    notices = []
    for day in days:
        try:
            result = publish(session, partnership, day, actor=ACTOR, now=now)
        except UsageError as exc:  # e.g. every target closed: say so; the spaces stay as they were
            lines.append(f"{day.isoformat()}: not re-synced: {exc.message}")
            continue
        if result.notices:
            notices.extend(result.notices)
            lines.append(f"{day.isoformat()}: re-synced with the partnership ({len(result.notices)} messages)")
    return Result(Reply(title=f"{partnership.name}: published meetings re-synced", lines=tuple(lines)),
                  notices=tuple(notices))
