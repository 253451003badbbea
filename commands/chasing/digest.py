"""The chair's weekly digest: overdue and completed actions by agency, as a DM to each chair.

Sent at the first run in working hours of each ISO week; the week is in the idempotency key, so running the
job again (or on several workers) sends it once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from commands.core.access import active_with_role
from commands.core.names import DEFAULT_NAMES, command
from commands.core.replies import Destination, Notice, Reply
from models import Action, ActionStatus, Member, Outcome, Partnership
from models.reminders import ReminderPolicy, in_working_hours


def weekly_digest(session: Session, p: Partnership, now: datetime, *,
                  names: Mapping[str, str] = DEFAULT_NAMES) -> list[Notice]:
    policy = ReminderPolicy.from_settings(p.reminders)
    if not in_working_hours(now, policy, p.timezone):
        return []
    local = now.astimezone(ZoneInfo(p.timezone))
    today = local.date()
    year, week, _ = today.isocalendar()
    since = now - timedelta(days=7)
    overdue = session.scalars(select(Action).where(
        Action.partnership_id == p.id, Action.status == ActionStatus.OPEN, Action.due.is_not(None), Action.due < today)
        .options(joinedload(Action.owner).joinedload(Member.agency))).all()
    done = session.execute(select(Action, Outcome).join(Outcome, Outcome.action_id == Action.id).where(
        Action.partnership_id == p.id, Outcome.recorded_at >= since)
        .options(joinedload(Action.owner).joinedload(Member.agency))).all()
    late = Counter(a.owner.agency.name for a in overdue)
    closed = Counter(a.owner.agency.name for a, _ in done)
    agencies = sorted(set(late) | set(closed))
    lines = tuple(f"{name}: {late[name]} overdue, {closed[name]} completed" for name in agencies) or (
        "No overdue actions and none completed this week.",)
    reply = Reply(title=f"Weekly digest, week {week} of {year}",
                  fields=(("Overdue", str(sum(late.values()))), ("Completed in the last 7 days", str(len(done)))),
                  lines=lines, footer=f"Counts only; open {command(names, 'actions', 'overdue')} for the details "
                                      "you may see.")
    return [Notice(Destination.member(c.key), reply, f"digest:{c.key}:{year}-W{week:02d}")
            for c in active_with_role(session, p.id, "chair")]
