"""The reminder schedule as a pure function: working days, bank holidays, clock changes, missed windows."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from models.reminders import (
    ReminderPolicy,
    in_working_hours,
    latest_round,
    overdue_working_days,
    schedule,
    should_escalate,
)

LONDON = ZoneInfo("Europe/London")
POLICY = ReminderPolicy()  # 2 working days before, chase every 2 working days, escalate after 3 chases


def days(rounds) -> list[tuple[str, date]]:  # type: ignore[no-untyped-def]
    return [(r.key, r.day) for r in rounds]


def test_plain_weeks() -> None:
    rounds = schedule(date(2026, 12, 4), POLICY, "Europe/London", through=date(2026, 12, 14))
    assert days(rounds) == [("before", date(2026, 12, 2)), ("due", date(2026, 12, 4)),
                            ("overdue-1", date(2026, 12, 8)), ("overdue-2", date(2026, 12, 10)),
                            ("overdue-3", date(2026, 12, 14))]
    assert all(r.at.hour == 9 and r.at.minute == 0 for r in rounds)


def test_christmas_bank_holidays_and_weekends_move_the_chases() -> None:
    rounds = schedule(date(2026, 12, 23), POLICY, "Europe/London", through=date(2027, 1, 6))
    # Fri 25 Dec, Mon 28 Dec (Boxing Day substitute) and Fri 1 Jan are bank holidays
    assert days(rounds) == [("before", date(2026, 12, 21)), ("due", date(2026, 12, 23)),
                            ("overdue-1", date(2026, 12, 29)), ("overdue-2", date(2026, 12, 31)),
                            ("overdue-3", date(2027, 1, 5))]


def test_due_on_a_saturday_is_reminded_on_the_friday() -> None:
    rounds = schedule(date(2026, 12, 5), POLICY, "Europe/London", through=date(2026, 12, 8))
    assert days(rounds) == [("before", date(2026, 12, 2)), ("due", date(2026, 12, 4)),
                            ("overdue-1", date(2026, 12, 8))]


def test_nine_oclock_local_across_the_october_clock_change() -> None:
    rounds = schedule(date(2026, 10, 23), POLICY, "Europe/London", through=date(2026, 10, 27))
    by_key = {r.key: r.at.astimezone(UTC) for r in rounds}
    assert by_key["before"] == datetime(2026, 10, 21, 8, 0, tzinfo=UTC)  # 09:00 BST
    assert by_key["overdue-1"] == datetime(2026, 10, 27, 9, 0, tzinfo=UTC)  # 09:00 GMT


def test_nine_oclock_local_across_the_march_clock_change() -> None:
    # clocks go forward on Sunday 28 March 2027; Good Friday (26th) and Easter Monday (29th) are bank holidays
    rounds = schedule(date(2027, 3, 24), POLICY, "Europe/London", through=date(2027, 3, 30))
    by_key = {r.key: r.at.astimezone(UTC) for r in rounds}
    assert by_key["due"] == datetime(2027, 3, 24, 9, 0, tzinfo=UTC)  # GMT
    assert by_key["overdue-1"] == datetime(2027, 3, 30, 8, 0, tzinfo=UTC)  # BST, after the Easter weekend


@pytest.mark.parametrize(("local_now", "expected"), [
    (datetime(2026, 12, 2, 8, 59, tzinfo=LONDON), None),
    (datetime(2026, 12, 2, 9, 0, tzinfo=LONDON), "before"),
    (datetime(2026, 12, 4, 16, 0, tzinfo=LONDON), "due"),
    (datetime(2026, 12, 7, 12, 0, tzinfo=LONDON), "due"),  # Monday: the next chase is Tuesday
    (datetime(2026, 12, 8, 9, 0, tzinfo=LONDON), "overdue-1"),
    (datetime(2026, 12, 14, 10, 0, tzinfo=LONDON), "overdue-3"),  # missed runs collapse to the latest round
])
def test_latest_round(local_now: datetime, expected: str | None) -> None:
    r = latest_round(date(2026, 12, 4), POLICY, "Europe/London", local_now)
    assert (r.key if r else None) == expected


def test_escalation_after_the_configured_number_of_chases() -> None:
    now = datetime(2026, 12, 10, 9, 30, tzinfo=LONDON)
    assert not should_escalate(latest_round(date(2026, 12, 4), POLICY, "Europe/London", now), POLICY)
    later = datetime(2026, 12, 14, 9, 30, tzinfo=LONDON)
    assert should_escalate(latest_round(date(2026, 12, 4), POLICY, "Europe/London", later), POLICY)
    eager = ReminderPolicy(escalate_after_chases=1)
    assert should_escalate(latest_round(date(2026, 12, 4), eager, "Europe/London", now), eager)


@pytest.mark.parametrize(("local_now", "expected"), [
    (datetime(2026, 12, 7, 9, 0, tzinfo=LONDON), True),
    (datetime(2026, 12, 7, 8, 59, tzinfo=LONDON), False),
    (datetime(2026, 12, 7, 17, 0, tzinfo=LONDON), False),
    (datetime(2026, 12, 5, 10, 0, tzinfo=LONDON), False),  # Saturday
    (datetime(2026, 12, 28, 10, 0, tzinfo=LONDON), False),  # Boxing Day substitute bank holiday
])
def test_working_hours(local_now: datetime, expected: bool) -> None:
    assert in_working_hours(local_now, POLICY, "Europe/London") is expected


def test_policy_from_partnership_settings() -> None:
    p = ReminderPolicy.from_settings({"first_working_days_before": 1, "overdue_every_working_days": 3,
                                      "escalate_after_chases": 2, "working_hours": {"start": "08:30", "end": "16:00"}})
    assert (p.first_working_days_before, p.overdue_every_working_days, p.escalate_after_chases) == (1, 3, 2)
    assert (p.start.isoformat(), p.end.isoformat()) == ("08:30:00", "16:00:00")
    assert ReminderPolicy.from_settings(None) == ReminderPolicy()


def test_overdue_working_days_skip_weekend() -> None:
    assert overdue_working_days(date(2026, 12, 4), date(2026, 12, 8)) == 2
    assert overdue_working_days(date(2026, 12, 4), date(2026, 12, 4)) == 0
