"""The reminder schedule: a pure function of the policy, the due date, the calendar and the time.

Rounds for an action due on D (all at the start of working hours, local time, on working days):
- ``before``: N working days before D;
- ``due``: on D, or the last working day before it when D is not a working day;
- ``overdue-1``, ``overdue-2``, ...: every K working days after D;
- escalation to the chair and the lead officer once ``overdue-M`` has come.
A run sends only the latest round that has come and not been sent, so rounds missed while no worker ran
(outage, weekend, bank holiday) are sent once at the next run in working hours: never dropped, never doubled.
Times are built as local wall-clock times, so 09:00 stays 09:00 across the clock changes.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from models.calendar import ENGLAND_AND_WALES, is_working_day, working_days_before
from models.calendar import working_days_after as working_days_after  # where it lived first


@dataclass(frozen=True)
class ReminderPolicy:
    first_working_days_before: int = 2
    overdue_every_working_days: int = 2
    escalate_after_chases: int = 3
    start: time = time(9, 0)
    end: time = time(17, 0)

    @classmethod
    def from_settings(cls, settings: dict[str, Any] | None) -> ReminderPolicy:
        s = settings or {}
        hours = s.get("working_hours") or {}
        default = cls()
        return cls(
            first_working_days_before=s.get("first_working_days_before", default.first_working_days_before),
            overdue_every_working_days=s.get("overdue_every_working_days", default.overdue_every_working_days),
            escalate_after_chases=s.get("escalate_after_chases", default.escalate_after_chases),
            start=time.fromisoformat(hours["start"]) if hours.get("start") else default.start,
            end=time.fromisoformat(hours["end"]) if hours.get("end") else default.end,
        )


@dataclass(frozen=True)
class Round:
    key: str  # "before", "due", "overdue-3"
    day: date
    at: datetime  # aware, local start of working hours on `day`

    @property
    def chase(self) -> int:
        """0 for before/due; n for overdue-n."""
        return int(self.key.split("-")[1]) if self.key.startswith("overdue-") else 0


def last_working_day_on_or_before(day: date, closed: Container[date] = ENGLAND_AND_WALES) -> date:
    while not is_working_day(day, closed):
        day -= timedelta(days=1)
    return day


def _at(day: date, policy: ReminderPolicy, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, policy.start, tzinfo=tz)


def schedule(due: date, policy: ReminderPolicy, tz: str, *, through: date,
             closed: Container[date] = ENGLAND_AND_WALES) -> list[Round]:
    """Every round for an action due on `due`, up to and including the day `through`."""
    zone = ZoneInfo(tz)
    rounds: list[Round] = []
    if policy.first_working_days_before > 0:
        before = working_days_before(last_working_day_on_or_before(due, closed), policy.first_working_days_before,
                                     closed)
        rounds.append(Round("before", before, _at(before, policy, zone)))
    due_day = last_working_day_on_or_before(due, closed)
    rounds.append(Round("due", due_day, _at(due_day, policy, zone)))
    n, day = 1, due
    while True:
        day = working_days_after(due, policy.overdue_every_working_days * n, closed)
        if day > through:
            break
        rounds.append(Round(f"overdue-{n}", day, _at(day, policy, zone)))
        n += 1
    return [r for r in rounds if r.day <= through]


def latest_round(due: date, policy: ReminderPolicy, tz: str, now: datetime,
                 closed: Container[date] = ENGLAND_AND_WALES) -> Round | None:
    """The latest round whose time has come at `now`, or None before the first."""
    local = now.astimezone(ZoneInfo(tz))
    passed = [r for r in schedule(due, policy, tz, through=local.date(), closed=closed) if r.at <= local]
    return passed[-1] if passed else None


def in_working_hours(now: datetime, policy: ReminderPolicy, tz: str,
                     closed: Container[date] = ENGLAND_AND_WALES) -> bool:
    """Reminders go out only on working days between the start and end of working hours, local time."""
    local = now.astimezone(ZoneInfo(tz))
    return is_working_day(local.date(), closed) and policy.start <= local.time() < policy.end


def should_escalate(round_: Round | None, policy: ReminderPolicy) -> bool:
    return round_ is not None and round_.chase >= policy.escalate_after_chases


def overdue_working_days(due: date, today: date, closed: Container[date] = ENGLAND_AND_WALES) -> int:
    """Working days since the due date (0 when not overdue)."""
    count, day = 0, due
    while day < today:
        day += timedelta(days=1)
        if is_working_day(day, closed):
            count += 1
    return count
