"""Usage hints name dates computed from the day they are shown, so they never point to the past (issue 18)."""

from __future__ import annotations

import re
from datetime import date

import pytest

from commands.core.help import HELP, example_day, help_reply
from commands.core.names import DEFAULT_NAMES


@pytest.mark.parametrize("today", [date(2026, 12, 1), date(2027, 6, 30), date(2028, 1, 8)])
def test_every_hint_date_is_today_or_later_and_a_meeting_example_is_a_week_on(today: date) -> None:
    shown = [date.fromisoformat(d) for intent in HELP for line in help_reply(intent, DEFAULT_NAMES, today).lines
             for d in re.findall(r"\d{4}-\d{2}-\d{2}", line)]
    meeting = date.fromisoformat(example_day(today))
    assert meeting.weekday() == 1 and 7 <= (meeting - today).days < 14
    assert meeting in shown
    report_from = [d for d in shown if d < today]
    assert all((today - d).days == 90 for d in report_from)  # only a report period's start, ending today


def test_without_a_day_the_hint_shows_the_form() -> None:
    assert example_day(None) == "YYYY-MM-DD"
