"""Dates as replies show them, in English whatever the process locale: "Tue 8 Dec", "Tuesday 8 December 2026".

strftime's %a, %b, %A and %B follow the locale, and %-d exists only in glibc: every date a command shows is
written by `day_label`, from the names below.
"""

from __future__ import annotations

from datetime import date

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
               "November", "December")


def day_label(day: date, today: date | None = None, *, weekday: bool = True, long: bool = False,
              year: bool = False) -> str:
    """'Tue 8 Dec'. The year follows when `year` is set, or when `today` is given and is in another year
    ('Tue 12 Jan 2027'); `long` spells the names out ('Tuesday 8 December 2026' with `year`); without
    `weekday` the day's name is left out ('8 Dec')."""
    name, month = DAY_NAMES[day.weekday()], MONTH_NAMES[day.month - 1]
    if not long:
        name, month = name[:3], month[:3]
    words = [name] if weekday else []
    words += [str(day.day), month]
    if year or (today is not None and day.year != today.year):
        words.append(str(day.year))
    return " ".join(words)
