"""Meetings that recur: every N weeks on a weekday, from a first date, around England and Wales bank holidays.

`meeting.recurrence` in the partnership file: `{every_weeks: 6, weekday: tuesday, from: 2026-12-08,
until: 2027-12-31, except: [2027-04-06], on_bank_holiday: next-working-day}`. An occurrence that falls on a bank
holiday moves to the next working day (`next-working-day`, the default: the partners keep their cycle) or is
dropped (`skip`). Dates in `except` are dropped; `meeting.dates` adds one-off meetings. Pure functions of dates.
"""

from __future__ import annotations

from collections.abc import Container, Mapping
from datetime import date, timedelta
from typing import Any

from models.calendar import ENGLAND_AND_WALES, is_working_day

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday")
ON_BANK_HOLIDAY = ("next-working-day", "skip")


def occurrences(rule: Mapping[str, Any], start: date, end: date,
                closed: Container[date] = ENGLAND_AND_WALES) -> list[date]:
    """The meeting days of `rule` from `start` to `end` (both included), in order."""
    first = date.fromisoformat(str(rule["from"]))
    step = timedelta(weeks=int(rule["every_weeks"]))
    weekday = WEEKDAYS.index(str(rule["weekday"]))
    first += timedelta(days=(weekday - first.weekday()) % 7)  # the first such weekday on or after `from`
    until = date.fromisoformat(str(rule["until"])) if rule.get("until") else None
    dropped = {date.fromisoformat(str(d)) for d in rule.get("except") or []}
    skip = rule.get("on_bank_holiday") == "skip"
    days: list[date] = []
    day = first
    while day <= end and (until is None or day <= until):
        held = day
        while held in closed and not skip and not is_working_day(held, closed):
            held += timedelta(days=1)
        if not (skip and day in closed) and start <= held <= end and not {day, held} & dropped:
            days.append(held)
        day += step
    return days
