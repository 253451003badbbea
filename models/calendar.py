"""Working days in England and Wales: weekends and bank holidays don't count.

Pure functions of dates. The bank holidays come from the `holidays` package (England's list, which is also
Wales's: the two share every bank holiday), including substitute days such as Monday 28 December 2026 when
Boxing Day falls on a Saturday.
"""

from __future__ import annotations

from collections.abc import Container
from datetime import date, timedelta
from functools import lru_cache

import holidays


@lru_cache(maxsize=64)
def bank_holidays(year: int) -> frozenset[date]:
    """England and Wales bank holidays in `year` (substitute days included)."""
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year))


class _EnglandAndWales:
    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and day in bank_holidays(day.year)


ENGLAND_AND_WALES: Container[date] = _EnglandAndWales()


def is_working_day(day: date, closed: Container[date] = ENGLAND_AND_WALES) -> bool:
    return day.weekday() < 5 and day not in closed


def working_days_before(day: date, n: int, closed: Container[date] = ENGLAND_AND_WALES) -> date:
    """The working day that is `n` working days before `day` (`day` itself when n is 0).

    A meeting on Tuesday 8 December 2026 with n=3 gives Thursday 3 December (Mon 7, Fri 4, Thu 3).
    """
    if n < 0:
        raise ValueError("n must be 0 or more")
    current, left = day, n
    while left:
        current -= timedelta(days=1)
        if is_working_day(current, closed):
            left -= 1
    return current


def working_days_after(day: date, n: int, closed: Container[date] = ENGLAND_AND_WALES) -> date:
    """The working day that is `n` working days after `day` (`day` itself when n is 0)."""
    current, left = day, n
    while left:
        current += timedelta(days=1)
        if is_working_day(current, closed):
            left -= 1
    return current


def pack_closes(meeting_day: date, working_days: int, closed: Container[date] = ENGLAND_AND_WALES) -> date:
    """The last day a meeting's pack is open: `working_days` working days after the meeting (the meeting day
    itself when 0). Tuesday 8 December 2026 with 5 gives Tuesday 15 December (Wed, Thu, Fri, Mon, Tue)."""
    if working_days < 0:
        raise ValueError("working_days must be 0 or more")
    return working_days_after(meeting_day, working_days, closed)


def publish_date(meeting_day: date, working_days: int, closed: Container[date] = ENGLAND_AND_WALES) -> date:
    """When a meeting's agenda is published: `working_days` working days before the meeting."""
    return working_days_before(meeting_day, working_days, closed)
