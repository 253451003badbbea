"""Reading an action's due date from what UK users type: pure functions, no Slack, no clock.

Every reading is relative to `now` (aware) seen in the partnership's time zone, so "tomorrow" typed at
00:30 in London on 1 July is 2 July even though UTC still says 30 June. Times of day are ignored.

The common British forms are read by the small rules below, so their meaning is ours and documented;
anything else goes to dateparser (DMY, future-preferring, English only). Readings:

- "Friday", "this Friday", "on Fri": the coming Friday; today counts if today is Friday.
- "next Friday": the first Friday after today, flagged for confirmation because many Britons mean the
  Friday after that, which is offered as the alternative.
- "a week on Friday", "Friday week": the coming Friday plus seven days.
- "5/12", "05/12/26", "5.12.2026": always day/month, without a question. With no year, a date already past this
  year means next year. The US reading (12 May) is offered for confirmation only when it is plausible too: both
  parts could be a month and neither reading is past (typed on 1 March, "5/6" could be 5 June or 6 May; typed on
  1 December, "9/12/2026" can only be 9 December, because 12 September has gone).
- "2026-12-05": ISO, unambiguous (hints show a date two weeks ahead of the day they are given).
- "in 3 days", "in 2 weeks", "in a fortnight", "in 2 months" (same day of month, clipped), "2 weeks' time".
- "next week": Monday of next week. "next month" / "next year": the 1st of that month / 1 January.
- "end of week" / "this week": Friday of this week (the coming Friday at weekends); "end of next week".
- "end of month", "end of next month", "end of December", "end of the year", "end of next year".
- "5th", "the 25th": the next such day of the month (today counts).
- "5 December", "5th of Dec", "December 5th", "5 December 2027": the named day; with no year, the next one (today
  counts), as dateparser reads it. The most common written form is read here rather than by dateparser, which
  costs about a millisecond a reading (twice an /action: once to split the clause off, once to read it).

A date in the past is returned but flagged for confirmation; one more than two years ahead is refused.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import dateparser

from commands.core.dates import DAY_NAMES, MONTH_NAMES, day_label
from commands.core.errors import UsageError


def _try(today: date) -> str:
    """The forms to try, with an ISO example computed from today (a fixed date in a hint would age)."""
    return f'try "by Friday", "in 2 weeks", "5/12", "end of month" or "{(today + timedelta(days=14)).isoformat()}"'
MAX_YEARS_AHEAD = 2
PAST = "that date is in the past"

_WEEKDAYS = {"mon": 0, "monday": 0, "tue": 1, "tues": 1, "tuesday": 1, "wed": 2, "weds": 2, "wednesday": 2,
             "thu": 3, "thur": 3, "thurs": 3, "thursday": 3, "fri": 4, "friday": 4, "sat": 5, "saturday": 5,
             "sun": 6, "sunday": 6}
# English names (commands/core/dates.py): calendar.month_name and strftime("%b") follow the process locale.
_MONTHS = {name.lower(): i for i, name in enumerate(MONTH_NAMES, start=1)}
_MONTHS |= {name[:3].lower(): i for i, name in enumerate(MONTH_NAMES, start=1)} | {"sept": 9}
_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
            "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12}
_UNIT_DAYS = {"day": 1, "week": 7, "fortnight": 14}
# Words without which a phrase is never handed to dateparser (it reads "a" or "one" as the 1st of the month).
_DATE_WORDS = set(_WEEKDAYS) | set(_MONTHS) | {
    "today", "tomorrow", "yesterday", "tonight", "day", "days", "week", "weeks", "fortnight", "fortnights",
    "month", "months", "year", "years", "weekend"}

_WD = "|".join(sorted(_WEEKDAYS, key=len, reverse=True))
_MN = "|".join(sorted(_MONTHS, key=len, reverse=True))
_NUM = r"\d+|" + "|".join(_NUMBERS)
_RE_WEEKDAY = re.compile(rf"(?:(this coming|this|coming|on|next) )?({_WD})")
_RE_WEEK_ON = re.compile(rf"a week on ({_WD})|({_WD}) week")
_RE_ISO = re.compile(r"(\d{4})([-/])(\d{1,2})\2(\d{1,2})")
_RE_DMY = re.compile(r"(\d{1,2})/(\d{1,2})|(\d{1,2})([/.-])(\d{1,2})\4(\d{2}|\d{4})")
_RE_NAMED = re.compile(rf"(?:the )?(\d{{1,2}})(?:st|nd|rd|th)? (?:of )?({_MN})(?: (\d{{4}}))?"
                       rf"|({_MN}) (?:the )?(\d{{1,2}})(?:st|nd|rd|th)?(?: (\d{{4}}))?")
_RE_ORDINAL = re.compile(r"(?:the )?(\d{1,2})(?:st|nd|rd|th)")
_RE_IN = re.compile(rf"(?:in |within )?(?:({_NUM}) )?(day|week|fortnight|month|year)s?"
                    r"(?:'?s? time| from (?:now|today))?")
_RE_END = re.compile(rf"(?:the )?end of (?:the )?(?:(this|next) )?(week|month|year|{_MN})")
_RE_NEXT = re.compile(r"next (week|month|year)")
_RE_TIME = re.compile(
    r"\b(?:at |by )?(?:\d{1,2}(?:[:.]\d{2})? ?(?:am|pm)|\d{1,2}:\d{2}|noon|midday|midnight|eod|cob"
    r"|end of (?:the )?(?:day|play)|close of (?:play|business)|lunchtime)\b"
    r"|\b(?:in the |first thing )?(?:morning|afternoon|evening)\b")
_RE_CLAUSE = re.compile(r"(?<!\S)(?:due\s+(?:by|on)|due|by)\s+", re.IGNORECASE)


@dataclass(frozen=True)
class DueDate:
    day: date
    needs_confirmation: bool
    reason: str | None
    alternatives: tuple[date, ...]


def read_due(text: str, *, now: datetime, tz: str = "Europe/London", example: str | None = None) -> DueDate:
    """The due date `text` means when typed at `now` in `tz`; UsageError (with `example`, a command the caller
    could type) when nothing sensible can be read."""
    try:
        return _read_due(text, now=now, tz=tz)
    except UsageError as exc:
        raise UsageError(exc.message, example=example) from None


def _read_due(text: str, *, now: datetime, tz: str) -> DueDate:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    zone = ZoneInfo(tz)
    local = now.astimezone(zone).replace(tzinfo=None)
    today = local.date()
    shown = _shown(text)
    if not shown:
        raise UsageError(f"no due date given: {_try(today)}")
    reading = _recognise(_normalise(text), local, zone)
    if reading is None:
        raise UsageError(f'can\'t read "{shown}" as a due date: {_try(today)}')
    day, reasons, alternatives = reading
    if day > _limit(today):
        raise UsageError(f'"{shown}" is too far ahead: a due date must be no later than '
                         f"{day_label(_limit(today), today, weekday=False)}")
    if day < today:
        reasons = [*reasons, PAST]
    return DueDate(day=day, needs_confirmation=bool(reasons), reason="; ".join(reasons) or None,
                   alternatives=tuple(alternatives))


def split_due(text: str) -> tuple[str, str | None]:
    """Split a trailing "by <when>" / "due <when>" clause off an action's wording.

    The last "by"/"due" (or "due by"/"due on") whose remainder reads as a date wins; "arrange visit by car"
    keeps its "by". A remainder shaped like a date but not valid ("by 31/11") is still split off, so that
    read_due can say what is wrong rather than the date silently becoming part of the wording.
    """
    for match in reversed(list(_RE_CLAUSE.finditer(text))):
        clause = text[match.end():].strip()
        if clause and _looks_like_due(clause):
            return text[:match.start()].rstrip(), clause
    return text.strip(), None


# ------------------------------------------------------------------------------------------ recognising

_Reading = tuple[date, list[str], list[date]]
# split_due asks only "is this shaped like a date?", which no rule answers differently by day.
_SHAPE_REFERENCE = datetime(2026, 1, 1, 12)  # noqa: DTZ001 (local wall-clock time, as dateparser wants)


def _looks_like_due(clause: str) -> bool:
    try:
        return _recognise(_normalise(clause), _SHAPE_REFERENCE, ZoneInfo("Europe/London")) is not None
    except UsageError:
        return True


def _shown(text: str) -> str:
    shown = " ".join(text.split())
    return shown if len(shown) <= 40 else shown[:39] + "…"


def _normalise(text: str) -> str:
    phrase = " ".join(text.lower().replace("’", "'").split()).strip(" .,!;")
    phrase = re.sub(r"^(?:due (?:by|on)|due|by|on) ", "", phrase)
    stripped = " ".join(_RE_TIME.sub(" ", phrase).replace(",", " ").split())
    if not stripped and phrase:
        return "today"  # only a time of day: "by 5pm", "end of day"
    return re.sub(r"^(?:on|by|at) |(?: on| at)$", "", stripped)


def _recognise(phrase: str, local: datetime, zone: ZoneInfo) -> _Reading | None:
    """The reading of a normalised phrase at the naive local time `local`, or None if it is not a date."""
    if not phrase or len(phrase) > 60:
        return None
    today = local.date()
    for rule in (_fixed, _iso, _dmy, _named, _weekday, _relative, _end_of, _ordinal):
        reading = rule(phrase, today)
        if reading is not None:
            return reading
    return _dateparser(phrase, local, zone)


def _fixed(phrase: str, today: date) -> _Reading | None:
    offsets = {"today": 0, "tonight": 0, "tomorrow": 1, "tmrw": 1, "yesterday": -1}
    if phrase in offsets:
        return today + timedelta(days=offsets[phrase]), [], []
    if match := _RE_NEXT.fullmatch(phrase):
        unit = match[1]
        if unit == "week":
            return today + timedelta(days=7 - today.weekday()), [], []
        if unit == "month":
            return _add_months(today, 1).replace(day=1), [], []
        return date(today.year + 1, 1, 1), [], []
    return None


def _iso(phrase: str, today: date) -> _Reading | None:
    if match := _RE_ISO.fullmatch(phrase):
        return _valid(int(match[1]), int(match[3]), int(match[4]), phrase), [], []
    return None


def _dmy(phrase: str, today: date) -> _Reading | None:
    match = _RE_DMY.fullmatch(phrase)
    if match is None:
        return None
    if match[1]:
        d, m, y = int(match[1]), int(match[2]), None
    else:
        d, m, y = int(match[3]), int(match[5]), int(match[6])
        y = y + 2000 if y < 100 else y

    def on(day: int, month: int) -> date:
        if y is not None:
            return _valid(y, month, day, phrase)
        year = today.year + ((month, day) < (today.month, today.day) and 1 <= month <= 12)
        return _valid(year, month, day, phrase)

    def ahead(day: int, month: int) -> bool:
        """The reading falls today or later without being moved to next year (a past date is not plausible)."""
        return (y, month, day) >= (today.year, today.month, today.day) if y is not None else \
            (month, day) >= (today.month, today.day)

    day = on(d, m)
    if d <= 12 and m <= 12 and d != m and ahead(d, m) and ahead(m, d) and on(m, d) <= _limit(today):
        read = day_label(day, today, weekday=False, long=True)
        return day, [f"{phrase} is read as {read} (day/month)"], [on(m, d)]
    return day, [], []


def _named(phrase: str, today: date) -> _Reading | None:
    """"5 December", "December 5th", "5th of Dec 2027": a month name is never ambiguous; with no year, this
    year's date unless it has gone (today counts), then next year's: dateparser's future-preferring reading."""
    match = _RE_NAMED.fullmatch(phrase)
    if match is None:
        return None
    day, month, year = (match[1], match[2], match[3]) if match[1] else (match[5], match[4], match[6])
    d, m = int(day), _MONTHS[month]
    if year is not None:
        return _valid(int(year), m, d, phrase), [], []
    return _valid(today.year + ((m, d) < (today.month, today.day)), m, d, phrase), [], []


def _weekday(phrase: str, today: date) -> _Reading | None:
    if match := _RE_WEEK_ON.fullmatch(phrase):
        return _coming(today, _WEEKDAYS[match[1] or match[2]]) + timedelta(days=7), [], []
    match = _RE_WEEKDAY.fullmatch(phrase)
    if match is None:
        return None
    wanted = _WEEKDAYS[match[2]]
    if match[1] != "next":
        return _coming(today, wanted), [], []
    day = _coming(today + timedelta(days=1), wanted)  # dateparser's reading: strictly after today
    later = day + timedelta(days=7)
    name = DAY_NAMES[wanted]
    return day, [f'"next {name}" can mean {day_label(day, today, weekday=False)} or '
                 f"{day_label(later, today, weekday=False)}"], [later]


def _relative(phrase: str, today: date) -> _Reading | None:
    match = _RE_IN.fullmatch(phrase)
    if match is None or (match[1] is None and not phrase.startswith(("in ", "within "))):
        return None  # a bare "week" or "month" is not a date
    count = int(match[1]) if match[1] and match[1].isdecimal() else _NUMBERS.get(match[1] or "a", 1)
    unit = match[2]
    too_far = today + timedelta(days=10_000)  # any date past the limit; read_due refuses it
    if unit in _UNIT_DAYS:
        days = count * _UNIT_DAYS[unit]
        return (today + timedelta(days=days) if days < 10_000 else too_far), [], []
    months = count * (12 if unit == "year" else 1)
    return (_add_months(today, months) if months <= 12 * MAX_YEARS_AHEAD else too_far), [], []


def _end_of(phrase: str, today: date) -> _Reading | None:
    match = _RE_END.fullmatch("end of week" if phrase == "this week" else phrase)
    if match is None:
        return None
    which, unit = match[1], match[2]
    ahead = 1 if which == "next" else 0
    if unit == "week":
        friday = today + timedelta(days=4 - today.weekday() + 7 * ahead)
        return (friday if friday >= today else friday + timedelta(days=7)), [], []
    if unit == "month":
        return _last_of_month(_add_months(today, ahead)), [], []
    if unit == "year":
        return date(today.year + ahead, 12, 31), [], []
    if which is not None:
        return None  # "end of next December" is not a thing people type
    month = _MONTHS[unit]
    return _last_of_month(date(today.year + (month < today.month), month, 1)), [], []


def _ordinal(phrase: str, today: date) -> _Reading | None:
    match = _RE_ORDINAL.fullmatch(phrase)
    if match is None:
        return None
    wanted = int(match[1])
    if not 1 <= wanted <= 31:
        raise UsageError(f"{phrase} is not a day of the month")
    month = today.replace(day=1) if wanted >= today.day else _add_months(today, 1).replace(day=1)
    while calendar.monthrange(month.year, month.month)[1] < wanted:
        month = _add_months(month, 1)
    return month.replace(day=wanted), [], []


def _dateparser(phrase: str, local: datetime, zone: ZoneInfo) -> _Reading | None:
    words = set(re.findall(r"[a-z]+", phrase))
    if not re.fullmatch(r"[a-z0-9 ./:'-]+", phrase) or not words & _DATE_WORDS:
        return None  # dateparser reads "a", "one", "10%" or "50" as dates; those are wording, not due dates
    settings = {"DATE_ORDER": "DMY", "PREFER_DATES_FROM": "future", "TIMEZONE": zone.key,
                "RETURN_AS_TIMEZONE_AWARE": True, "RELATIVE_BASE": local, "PREFER_DAY_OF_MONTH": "first"}
    found = dateparser.parse(phrase, languages=["en"], settings=settings)
    return None if found is None else (found.astimezone(zone).date(), [], [])


# ------------------------------------------------------------------------------------------ arithmetic


def _valid(year: int, month: int, day: int, shown: str) -> date:
    if not 1 <= month <= 12:
        raise UsageError(f"{shown} is not a date: there is no month {month} (dates are day/month)")
    if not 1 <= year <= 9999:
        raise UsageError(f"{shown} is not a date: there is no year {year}")
    length = calendar.monthrange(year, month)[1]
    if not 1 <= day <= length:
        name = MONTH_NAMES[month - 1] + (f" {year}" if month == 2 else "")
        raise UsageError(f"{shown} is not a date: {name} has {length} days")
    return date(year, month, day)


def _coming(start: date, weekday: int) -> date:
    return start + timedelta(days=(weekday - start.weekday()) % 7)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _last_of_month(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _limit(today: date) -> date:
    return _add_months(today, 12 * MAX_YEARS_AHEAD)
