"""A member's itinerary for the day: which sections, when, as a direct message (or an email) and an iCalendar
(.ics) file. The messages' wording is a template of ours (commands/meeting/templates.py ITINERARY,
ITINERARY_EMAIL); this module gives it the values.

The calendar carries section names and times only, never target references: calendars are synced to phones
and shared with assistants. Times are written in Europe/London (TZID with its VTIMEZONE), so a December
meeting is GMT and a June one BST whatever the reader's own zone. UIDs are stable per section, so a re-sent
file updates the events it sent before (with a higher SEQUENCE) instead of adding copies; a section the
member no longer attends is sent as a cancelled event.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

import icalendar

from commands.meeting.templates import ITINERARY, ITINERARY_EMAIL, render_lines

PRODID = "-//Oneday//one day, one conversation//EN"
CHAT_DESCRIPTION = ("One day, one conversation. The section pack is shown in the section channel with its View pack "
                    "button; nothing about targets is in this invitation.")
EMAIL_DESCRIPTION = ("One day, one conversation. Nothing about targets is in this invitation; the coordinator "
                     "tells you how to join and briefs you on your slots.")
# UK Government Security Classifications, least to most protective: an email carries the highest of its sections'.
MARKINGS = ("OFFICIAL", "OFFICIAL-SENSITIVE")


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
             cancelled: Sequence[Visit] = (), sequence: int = 0, stamp: datetime,
             description: str = CHAT_DESCRIPTION, venue: str | None = None, dial_in: str | None = None) -> str:
    """The .ics text: one VEVENT per section attended (and one CANCELLED per section no longer attended).
    `description` says where the pack is (the chat's section channel, or the coordinator for an emailed one).
    `venue` (the partnership file's `meeting.venue`) is the events' location, else the section's chat space;
    `dial_in` (`meeting.dial_in`) is how to join remotely, added to the description."""
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
        event.add("location", venue or visit.space)
        event.add("description", " ".join([description, *([f"Section channel: {visit.space}."] if venue else []),
                                           *([f"Join remotely: {dial_in}"] if dial_in else [])]))
        event.add("status", status)
        event.add("transp", "OPAQUE")
        cal.add_component(event)
    cal.add_missing_timezones()
    return str(cal.to_ical().decode("utf-8"))


@dataclass(frozen=True)
class Slot:
    """One of the member's slots in their direct message: its times, the target, why they are there and what
    is asked of partners ('' for nothing)."""

    start: datetime
    end: datetime
    target: str
    why: str
    ask: str = ""


@dataclass(frozen=True)
class Heading:
    """A section of the member's direct message: its name, its chat space and their slots in it."""

    name: str
    space: str
    slots: tuple[Slot, ...]


def chat_message(*, partnership_name: str, when: str, updated: bool, visits: Sequence[Visit],
                 sections: Sequence[Heading], agency: str, powers: str, meeting: Mapping[str, object],
                 timezone: str) -> tuple[str, tuple[str, ...]]:
    """(title, lines) of a member's itinerary by direct message (templates.ITINERARY): the title sums up their
    sections' times ('Organised crime groups 09:30-10:47; ...' in local time), the lines give each slot."""
    tz = ZoneInfo(timezone)
    title, *lines = render_lines(ITINERARY, {
        "partnership": partnership_name, "when": when, "updated": updated,
        "visits": [replace(v, start=v.start.astimezone(tz), end=v.end.astimezone(tz)) for v in visits],
        "sections": sections, "agency": agency, "powers": powers,
        "venue": meeting.get("venue"), "dial_in": meeting.get("dial_in")})
    return title, tuple(lines)


@dataclass(frozen=True)
class EmailSection:
    """One section of an emailed itinerary: its name, handling marking, times and the member's slot times. No
    target reference: the email goes outside chat, to someone Oneday cannot reach on a chat platform."""

    name: str
    handling: str
    start: datetime
    end: datetime
    slots: tuple[tuple[datetime, datetime], ...]


def highest_marking(markings: Sequence[str]) -> str:
    """The most protective marking among `markings` (OFFICIAL when there is none, e.g. a cancellation)."""
    known = [m for m in markings if m in MARKINGS]
    unknown = [m for m in markings if m not in MARKINGS]
    if unknown:  # a marking this code does not rank: keep it, and the reader sees it first
        return unknown[0]
    return max(known, key=MARKINGS.index) if known else MARKINGS[0]


def email_message(*, sections: Sequence[EmailSection], cancelled: Sequence[str], timezone: str, marking: str,
                  partnership_name: str, when: str, contacts: Sequence[str],
                  meeting: Mapping[str, object]) -> tuple[str, ...]:
    """The body of an emailed itinerary (templates.ITINERARY_EMAIL): the handling marking first (and last), each
    section's name and times with the member's slot times, the sections they no longer attend, whom to ask and
    where the meeting is. Times in the partnership's zone (Europe/London)."""
    tz = ZoneInfo(timezone)
    local = [replace(s, start=s.start.astimezone(tz), end=s.end.astimezone(tz),
                     slots=tuple((a.astimezone(tz), b.astimezone(tz)) for a, b in s.slots)) for s in sections]
    return render_lines(ITINERARY_EMAIL, {
        "marking": marking, "partnership": partnership_name, "when": when, "sections": local,
        "cancelled": cancelled, "contacts": contacts, "venue": meeting.get("venue"), "dial_in": meeting.get("dial_in")})
