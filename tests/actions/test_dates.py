"""Reading due dates: a table of cases at a fixed `now`, the time-zone edges, split_due, and properties."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import dateparser
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from commands.actions.due_dates import DueDate, read_due, split_due
from commands.core.errors import UsageError

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=LONDON)  # a Tuesday
TRY = 'try "by Friday", "in 2 weeks", "5/12", "end of month" or "2026-12-08"'  # two weeks after NOW


def d(month: int, day: int, year: int = 2026) -> date:
    return date(year, month, day)


# text, expected day, needs_confirmation, alternatives
CASES = [
    # weekdays: plain and "this" mean the coming one, today included
    ("Friday", d(11, 27), False, ()),
    ("by Friday", d(11, 27), False, ()),
    ("fri", d(11, 27), False, ()),
    ("Friday.", d(11, 27), False, ()),
    ("Monday", d(11, 30), False, ()),
    ("this Thursday", d(11, 26), False, ()),
    ("weds", d(11, 25), False, ()),
    ("Tuesday", d(11, 24), False, ()),
    ("on Tuesday", d(11, 24), False, ()),
    # "next <day>": dateparser's reading, with the week after offered
    ("next Friday", d(11, 27), True, (d(12, 4),)),
    ("next Tuesday", d(12, 1), True, (d(12, 8),)),
    ("a week on Friday", d(12, 4), False, ()),
    ("Friday week", d(12, 4), False, ()),
    # numeric dates are day/month; only when the US reading is plausible too (not past) is it offered
    ("5/12", d(12, 5), False, ()),  # 12 May has gone
    ("05/12", d(12, 5), False, ()),
    ("5/12/27", d(12, 5, 2027), True, (d(5, 12, 2027),)),  # both ahead: asked
    ("1/2/27", d(2, 1, 2027), True, (d(1, 2, 2027),)),
    ("13/12", d(12, 13), False, ()),
    ("30/11", d(11, 30), False, ()),
    ("5/5", d(5, 5, 2027), False, ()),
    ("20/11", d(11, 20, 2027), False, ()),  # past this year: next year
    ("1/2", d(2, 1, 2027), False, ()),  # both readings gone this year: day/month, next year
    ("25/12/26", d(12, 25), False, ()),
    ("25.12.2026", d(12, 25), False, ()),
    ("5/12/26", d(12, 5), False, ()),  # 12 May 2026 is past
    ("29/2/28", d(2, 29, 2028), False, ()),
    ("2026-12-05", d(12, 5), False, ()),
    ("2026/12/05", d(12, 5), False, ()),
    # relative
    ("today", d(11, 24), False, ()),
    ("tomorrow", d(11, 25), False, ()),
    ("day after tomorrow", d(11, 26), False, ()),
    ("in 3 days", d(11, 27), False, ()),
    ("in 2 weeks", d(12, 8), False, ()),
    ("2 weeks' time", d(12, 8), False, ()),
    ("in a week", d(12, 1), False, ()),
    ("in a fortnight", d(12, 8), False, ()),
    ("in two months", d(1, 24, 2027), False, ()),
    ("in a year", d(11, 24, 2027), False, ()),
    ("next week", d(11, 30), False, ()),  # Monday of next week
    ("next month", d(12, 1), False, ()),
    ("next year", d(1, 1, 2027), False, ()),
    # ends of periods
    ("end of week", d(11, 27), False, ()),
    ("this week", d(11, 27), False, ()),
    ("end of next week", d(12, 4), False, ()),
    ("end of month", d(11, 30), False, ()),
    ("by the end of the month", d(11, 30), False, ()),
    ("end of next month", d(12, 31), False, ()),
    ("end of the year", d(12, 31), False, ()),
    ("end of next year", d(12, 31, 2027), False, ()),
    ("end of February", d(2, 28, 2027), False, ()),
    # days of the month and named dates (dateparser)
    ("the 25th", d(11, 25), False, ()),
    ("5th", d(12, 5), False, ()),
    ("the 31st", d(12, 31), False, ()),
    ("1st December", d(12, 1), False, ()),
    ("December 5th", d(12, 5), False, ()),
    ("5 December", d(12, 5), False, ()),
    ("5th of Dec", d(12, 5), False, ()),
    ("the 5th of December", d(12, 5), False, ()),
    ("Dec 5, 2027", d(12, 5, 2027), False, ()),
    ("24 November", d(11, 24), False, ()),  # today counts (dateparser would say next year)
    ("20 November", d(11, 20, 2027), False, ()),  # gone this year: next year's
    ("29 Feb 2028", d(2, 29, 2028), False, ()),
    ("December", d(12, 1), False, ()),
    # times of day are ignored
    ("Friday 3pm", d(11, 27), False, ()),
    ("tomorrow at 16:30", d(11, 25), False, ()),
    ("tomorrow morning", d(11, 25), False, ()),
    ("by 5pm", d(11, 24), False, ()),
    ("end of day", d(11, 24), False, ()),
    # the past is read, but confirmed
    ("yesterday", d(11, 23), True, ()),
    ("last Friday", d(11, 20), True, ()),
    ("2 days ago", d(11, 22), True, ()),
    ("5 December 2025", d(12, 5, 2025), True, ()),
    ("2026-01-05", d(1, 5), True, ()),
    # exactly at the limit
    ("in 2 years", d(11, 24, 2028), False, ()),
]


@pytest.mark.parametrize(("text", "day", "confirm", "alternatives"), CASES)
def test_read_due(text: str, day: date, confirm: bool, alternatives: tuple[date, ...]) -> None:
    due = read_due(text, now=NOW)
    assert (due.day, due.needs_confirmation, due.alternatives) == (day, confirm, alternatives)
    assert (due.reason is not None) == confirm


@pytest.mark.parametrize(("text", "reason"), [
    ("next Friday", '"next Friday" can mean 27 Nov or 4 Dec'),
    ("5/12/27", "5/12/27 is read as 5 December 2027 (day/month)"),
    ("1/2/27", "1/2/27 is read as 1 February 2027 (day/month)"),
    ("yesterday", "that date is in the past"),
    ("5/12/25", "that date is in the past"),
])
def test_reasons(text: str, reason: str) -> None:
    assert read_due(text, now=NOW).reason == reason


def test_yesterday_is_a_confirmation_not_an_error() -> None:
    assert read_due("yesterday", now=NOW) == DueDate(
        day=d(11, 23), needs_confirmation=True, reason="that date is in the past", alternatives=())


@pytest.mark.parametrize(("text", "message"), [
    ("31/11", "31/11 is not a date: November has 30 days"),
    ("", f"no due date given: {TRY}"),
    ("   ", f"no due date given: {TRY}"),
    ("gibberish words", f'can\'t read "gibberish words" as a due date: {TRY}'),
    ("29/2", "29/2 is not a date: February 2027 has 28 days"),
    ("31 November", "31 november is not a date: November has 30 days"),
    ("29th of February", "29th of february is not a date: February 2027 has 28 days"),
    ("2026-02-30", "2026-02-30 is not a date: February 2026 has 28 days"),
    ("5/13", "5/13 is not a date: there is no month 13 (dates are day/month)"),
    ("the 32nd", "the 32nd is not a day of the month"),
    ("in 3 years", '"in 3 years" is too far ahead: a due date must be no later than 24 Nov 2028'),
    ("2099-01-01", '"2099-01-01" is too far ahead: a due date must be no later than 24 Nov 2028'),
    ("in 99999999999 weeks", '"in 99999999999 weeks" is too far ahead: a due date must be no later than '
                             "24 Nov 2028"),
    # dateparser reads these as the 1st or 10th of this month, or 2050; they are wording, not dates
    ("a", f'can\'t read "a" as a due date: {TRY}'),
    ("one", f'can\'t read "one" as a due date: {TRY}'),
    ("10%", f'can\'t read "10%" as a due date: {TRY}'),
    ("50", f'can\'t read "50" as a due date: {TRY}'),
])
def test_errors(text: str, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        read_due(text, now=NOW, example="/od-action OCG-07 @sam check benefits claim by Friday")
    assert caught.value.message == message
    assert caught.value.example == "/od-action OCG-07 @sam check benefits claim by Friday"  # the caller's command


def test_on_a_friday_friday_is_today_and_next_friday_is_ambiguous() -> None:
    friday = datetime(2026, 11, 27, 9, 0, tzinfo=LONDON)
    assert read_due("Friday", now=friday).day == d(11, 27)
    due = read_due("next Friday", now=friday)
    assert (due.day, due.alternatives, due.reason) == (d(12, 4), (d(12, 11),),
                                                       '"next Friday" can mean 4 Dec or 11 Dec')


def test_end_of_week_at_the_weekend_is_the_coming_friday() -> None:
    saturday = datetime(2026, 11, 28, 9, 0, tzinfo=LONDON)
    assert read_due("end of week", now=saturday).day == d(12, 4)


@pytest.mark.parametrize("start", range(7))
@pytest.mark.parametrize("weekday", ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
                                     "Sunday"])
def test_next_weekday_is_dateparsers_reading(start: int, weekday: str) -> None:
    base = datetime(2026, 11, 23 + start, 10, 0)  # noqa: DTZ001 (dateparser's naive local base)
    theirs = dateparser.parse(f"next {weekday}", languages=["en"],
                              settings={"RELATIVE_BASE": base, "PREFER_DATES_FROM": "future"})
    assert theirs is not None
    assert read_due(f"next {weekday}", now=base.replace(tzinfo=LONDON)).day == theirs.date()


@pytest.mark.parametrize("now", [datetime(2026, 11, 24, 10), datetime(2026, 1, 1, 0, 30),  # noqa: DTZ001
                                 datetime(2026, 12, 31, 23), datetime(2028, 2, 29, 9)])  # noqa: DTZ001
def test_named_dates_are_dateparsers_reading(now: datetime) -> None:
    """"5 December" and its forms are read by a rule of ours (dateparser costs ~1 ms a reading), which keeps
    dateparser's meaning, except on the two points the rule decides otherwise: the named day today is today (not
    next year's), and a 29 February with no year in a year without one is refused, not moved to a leap year."""
    settings = {"DATE_ORDER": "DMY", "PREFER_DATES_FROM": "future", "RELATIVE_BASE": now}
    forms = ["{d} {m}", "{d}th of {m}", "{m} {d}", "{d} {m} {y}", "{m} {d}, {y}"]
    compared = 0
    for month in ("January", "Feb", "February", "March", "Nov", "December"):
        for day in (1, 2, 13, 24, 28, 29, 30, 31):
            for form in forms:
                text = form.format(d=day, m=month, y=now.year + 1)
                theirs = dateparser.parse(text, languages=["en"], settings=settings)  # type: ignore[arg-type]
                try:
                    mine = read_due(text, now=now.replace(tzinfo=LONDON)).day
                except UsageError:
                    assert theirs is None or (theirs.month, theirs.day) == (2, 29), text
                    continue
                if mine == now.date():
                    assert theirs is not None and theirs.date() > mine, text  # the next one after today
                    assert (theirs.month, theirs.day) == (mine.month, mine.day), text
                    continue
                assert theirs is not None and theirs.date() == mine, text
                compared += 1
    assert compared > 100


def test_everything_is_read_in_the_partnerships_time_zone() -> None:
    late = datetime(2026, 6, 30, 23, 30, tzinfo=UTC)  # 00:30 on 1 July in London (BST)
    assert read_due("today", now=late).day == d(7, 1)
    assert read_due("tomorrow", now=late).day == d(7, 2)
    assert read_due("end of month", now=late).day == d(7, 31)
    assert read_due("in 3 days", now=late).day == d(7, 4)
    assert read_due("30/6", now=late).day == d(6, 30, 2027)  # already past in London
    assert read_due("Wednesday", now=late).day == d(7, 1)  # 1 July 2026 is a Wednesday
    assert read_due("today", now=late, tz="UTC").day == d(6, 30)
    assert read_due("end of month", now=late, tz="UTC").day == d(6, 30)


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        read_due("Friday", now=datetime(2026, 11, 24, 10, 0))  # noqa: DTZ001 (the point of the test)


@pytest.mark.parametrize(("text", "expected"), [
    ("check benefits claim by Friday", ("check benefits claim", "Friday")),
    ("arrange visit by car", ("arrange visit by car", None)),
    ("arrange visit by car by Friday", ("arrange visit by car", "Friday")),
    ("arrange visit by car due 5/12", ("arrange visit by car", "5/12")),
    ("chase payment due by end of month", ("chase payment", "end of month")),
    ("chase payment due on 2026-12-05", ("chase payment", "2026-12-05")),
    ("check claim By next Friday", ("check claim", "next Friday")),
    ("review by a week on Friday", ("review", "a week on Friday")),
    ("check by 31/11", ("check", "31/11")),  # date-shaped: read_due explains what is wrong
    ("reduce arrears by 50", ("reduce arrears by 50", None)),
    ("raise attendance by 10%", ("raise attendance by 10%", None)),
    ("check in by phone", ("check in by phone", None)),
    ("drive by sat nav", ("drive by sat nav", None)),
    ("pay the amount due", ("pay the amount due", None)),
    ("by Friday", ("", "Friday")),
    ("  home visit  ", ("home visit", None)),
])
def test_split_due(text: str, expected: tuple[str, str | None]) -> None:
    assert split_due(text) == expected


# ------------------------------------------------------------------------------------------ properties

WORDS = ["by", "due", "on", "next", "this", "end", "of", "the", "in", "a", "week", "weeks", "month", "year",
         "Friday", "fri", "tomorrow", "yesterday", "fortnight", "December", "may", "5/12", "31/11", "29/2",
         "2026-12-05", "0/0", "99/99", "5th", "32nd", "3pm", "12:30", "ago", "last", "car", "visit", "2",
         "1000000", "0", "-", "/", ".", "%", "'s", "time", "now", "from", "at"]
phrases = st.one_of(
    st.text(max_size=40),
    st.lists(st.sampled_from(WORDS), max_size=6).map(" ".join),
    st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=5)), max_size=5).map(" ".join),
)
nows = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2090, 12, 31),  # noqa: DTZ001
                    timezones=st.sampled_from([UTC, LONDON, ZoneInfo("Pacific/Kiritimati")]))


@settings(max_examples=400, deadline=None)
@given(text=phrases, now=nows)
def test_read_due_returns_a_due_date_or_raises_usage_error(text: str, now: datetime) -> None:
    try:
        due = read_due(text, now=now)
    except UsageError as error:
        assert error.message
        return
    today = now.astimezone(LONDON).date()
    assert due.day <= today + timedelta(days=2 * 366)
    assert due.needs_confirmation == (due.reason is not None)
    assert due.needs_confirmation or due.day >= today


@settings(max_examples=400, deadline=None)
@given(text=phrases)
def test_split_due_never_loses_words(text: str) -> None:
    wording, when = split_due(text)
    if when is None:
        assert wording.split() == text.split()
        return
    keywords = text.split()[len(wording.split()):len(text.split()) - len(when.split())]
    assert text.split() == wording.split() + keywords + when.split()
    assert [k.lower() for k in keywords] in (["by"], ["due"], ["due", "by"], ["due", "on"])


@pytest.mark.parametrize(("text", "now", "day", "alternatives"), [
    # the bar: typed on 1 December, 12 September has gone, so no question
    ("9/12/2026", datetime(2026, 12, 1, 9, 0, tzinfo=LONDON), date(2026, 12, 9), ()),
    # typed on 1 March, both 5 June and 6 May are ahead: asked
    ("5/6", datetime(2027, 3, 1, 9, 0, tzinfo=LONDON), date(2027, 6, 5), (date(2027, 5, 6),)),
    # the US reading beyond the two-year limit is not offered
    ("10/3/2028", datetime(2026, 3, 15, 9, 0, tzinfo=LONDON), date(2028, 3, 10), ()),
])
def test_day_month_is_asked_only_when_both_readings_are_ahead(
        text: str, now: datetime, day: date, alternatives: tuple[date, ...]) -> None:
    due = read_due(text, now=now)
    assert (due.day, due.alternatives, due.needs_confirmation) == (day, alternatives, bool(alternatives))
