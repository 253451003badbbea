"""A member's itinerary for the day: which sections, when, as a DM line and an iCalendar (.ics) file.

The calendar carries section names and times only, never target references: calendars are synced to phones
and shared with assistants. Times are written in Europe/London (TZID with its VTIMEZONE), so a December
meeting is GMT and a June one BST whatever the reader's own zone. UIDs are stable per section, so a re-sent
file updates the events it sent before (with a higher SEQUENCE) instead of adding copies; a section the
member no longer attends is sent as a cancelled event.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import icalendar

PRODID = "-//Oneday//one day, one conversation//EN"


@dataclass(frozen=True)
class Visit:
    cohort: str
    name: str  # the section's name (the cohort's name), never a target
    start: datetime  # aware
    end: datetime
    space: str  # where it is discussed, e.g. the section channel's name


def uid(day: date, cohort: str, partnership_key: str) -> str:
    return f"{day.isoformat()}-{cohort}.{partnership_key}@oneday"


def calendar(*, day: date, partnership_key: str, partnership_name: str, timezone: str, visits: Sequence[Visit],
             cancelled: Sequence[Visit] = (), sequence: int = 0, stamp: datetime) -> str:
    """The .ics text: one VEVENT per section attended (and one CANCELLED per section no longer attended)."""
    tz = ZoneInfo(timezone)
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    for visit, status in [(v, "CONFIRMED") for v in visits] + [(v, "CANCELLED") for v in cancelled]:
        event = icalendar.Event()
        event.add("uid", uid(day, visit.cohort, partnership_key))
        event.add("dtstamp", stamp)
        event.add("sequence", sequence)
        event.add("dtstart", visit.start.astimezone(tz))
        event.add("dtend", visit.end.astimezone(tz))
        event.add("summary", f"{partnership_name}: {visit.name}")
        event.add("location", visit.space)
        event.add("description", "One day, one conversation. The section pack is shown in the section "
                                 "channel with its View pack button; nothing about targets is in this invitation.")
        event.add("status", status)
        event.add("transp", "OPAQUE")
        cal.add_component(event)
    cal.add_missing_timezones()
    return str(cal.to_ical().decode("utf-8"))


def summary_line(visits: Sequence[Visit], timezone: str) -> str:
    """'Organised crime groups 09:30-10:47; High crime causers 13:15-14:20' in local time."""
    tz = ZoneInfo(timezone)
    return "; ".join(f"{v.name} {v.start.astimezone(tz):%H:%M}-{v.end.astimezone(tz):%H:%M}" for v in visits)
