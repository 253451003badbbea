"""The itinerary's wording is a template of ours (commands/meeting/templates.py ITINERARY, ITINERARY_EMAIL): it
says exactly what the code it replaced said. The reference below is that code as it was (commands/agenda/
publish.py `_slot_lines` and the title, commands/agenda/itinerary.py `summary_line`, `email_lines`,
`where_lines`), compared over generated itineraries: sections or none, asks, powers, a venue and a dial-in or
not, an update, cancellations, contacts or none, and text with template-like characters and line breaks in it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from commands.agenda.itinerary import EmailSection, Heading, Slot, Visit, chat_message, email_message

TZ = "Europe/London"


# ------------------------------------------------------------------------- the reference: the code as it was


def old_summary_line(visits: Sequence[Visit], timezone: str) -> str:
    tz = ZoneInfo(timezone)
    return "; ".join(f"{v.name} {v.start.astimezone(tz):%H:%M}-{v.end.astimezone(tz):%H:%M}" for v in visits)


def old_where_lines(meeting: dict[str, object]) -> list[str]:
    venue, dial_in = meeting.get("venue"), meeting.get("dial_in")
    return ([f"Where: {venue}"] if venue else []) + ([f"Join remotely: {dial_in}"] if dial_in else [])


def old_chat(p_name: str, when: str, sequence: int, visits: list[Visit], sections: list[Heading], agency: str | None,
             powers: str, meeting: dict[str, object]) -> tuple[str, tuple[str, ...]]:
    if visits:
        title = (f"{p_name}, {when}: your slots: {old_summary_line(visits, TZ)}"
                 if not sequence else f"Updated: {p_name}, {when}: your slots: "
                                      f"{old_summary_line(visits, TZ)}")
    else:
        title = f"{p_name}, {when}: you are no longer invited to any section"
    lines: list[str] = []
    for stop in sections:
        lines.append(f"{stop.name} (#{stop.space})")
        for slot in stop.slots:
            lines.append(f"  {slot.start:%H:%M}-{slot.end:%H:%M}  {slot.target}: {slot.why}")
            if slot.ask:
                lines.append(f"    Asked of partners: {slot.ask}")
    if powers and lines:
        lines.append(f"What {agency if agency else 'your agency'} can bring: {powers}")
    where = tuple(old_where_lines(meeting)) if visits else ()
    return title, (*lines, *where)


def old_email(*, sections: Sequence[EmailSection], cancelled: Sequence[str], timezone: str, marking: str,
              partnership_name: str, when: str, contacts: Sequence[str],
              meeting: dict[str, object]) -> tuple[str, ...]:
    tz = ZoneInfo(timezone)
    lines = [marking, ""]
    if sections:
        lines.append(f"You are invited to the {partnership_name} meeting on {when}, for these slots:")
        for s in sections:
            lines.append(f"{s.name}: {s.start.astimezone(tz):%H:%M}-{s.end.astimezone(tz):%H:%M} ({s.handling})")
            for i, (start, end) in enumerate(s.slots, 1):
                lines.append(f"  slot {i}: {start.astimezone(tz):%H:%M}-{end.astimezone(tz):%H:%M}")
    else:
        lines.append(f"You are no longer invited to any section of the {partnership_name} meeting on {when}.")
    for name in cancelled:
        lines.append(f"Cancelled: {name} (you are no longer invited to it)")
    lines += ["",
              "You have no account on the partnership's chat platform that Oneday knows of, so your itinerary "
              "comes by email. It names no target: the section packs are shown only in chat, to those entitled.",
              f"Ask {', '.join(contacts) if contacts else 'the partnership coordinator'} how to join and for what "
              "you need to know before your slots.",
              "The attached calendar file holds the sections' names and times.",
              "", marking]
    return (*lines, *(old_where_lines(meeting) if sections else ()))


# ------------------------------------------------------------------------------------------- generated input

words = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters="\0"), max_size=12)
optional = st.one_of(st.none(), st.just(""), words)
times = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31),  # noqa: DTZ001
                     timezones=st.just(UTC))
slots = st.builds(lambda start, target, why, ask: Slot(start, start + timedelta(minutes=5), target, why, ask),
                  times, words, words, st.one_of(st.just(""), words))
headings = st.builds(Heading, words, words, st.lists(slots, max_size=3).map(tuple))
meetings = st.fixed_dictionaries({}, optional={"venue": optional, "dial_in": optional})


@settings(max_examples=300, deadline=None)
@given(p_name=words, when=words, sequence=st.integers(0, 2), sections=st.lists(headings, max_size=3),
       agency=st.one_of(st.none(), words), powers=st.one_of(st.just(""), words), meeting=meetings)
def test_the_direct_message_says_what_it_said(p_name: str, when: str, sequence: int, sections: list[Heading],
                                              agency: str | None, powers: str, meeting: dict[str, object]) -> None:
    visits = [Visit(h.name, h.name, h.slots[0].start if h.slots else datetime(2026, 12, 8, 9, 30, tzinfo=UTC),
                    datetime(2026, 12, 8, 10, 47, tzinfo=UTC), "#" + h.space) for h in sections]
    new = chat_message(partnership_name=p_name, when=when, updated=bool(sequence), visits=visits, sections=sections,
                       agency=agency or "your agency", powers=powers, meeting=meeting, timezone=TZ)
    assert new == old_chat(p_name, when, sequence, visits, sections, agency, powers, meeting)


email_sections = st.builds(lambda name, handling, start, n: EmailSection(
    name, handling, start, start + timedelta(minutes=45),
    tuple((start + timedelta(minutes=5 * i), start + timedelta(minutes=5 * i + 5)) for i in range(n))),
    words, words, times, st.integers(0, 3))


@settings(max_examples=300, deadline=None)
@given(sections=st.lists(email_sections, max_size=3), cancelled=st.lists(words, max_size=2), marking=words,
       p_name=words, when=words, contacts=st.lists(words, max_size=2), meeting=meetings)
def test_the_email_says_what_it_said(sections: list[EmailSection], cancelled: list[str], marking: str, p_name: str,
                                     when: str, contacts: list[str], meeting: dict[str, object]) -> None:
    args = dict(sections=sections, cancelled=cancelled, timezone=TZ, marking=marking, partnership_name=p_name,
                when=when, contacts=contacts, meeting=meeting)
    assert email_message(**args) == old_email(**args)  # type: ignore[arg-type]


def test_template_like_text_is_shown_as_typed_not_run() -> None:
    slot = Slot(datetime(2026, 12, 8, 9, 30, tzinfo=UTC), datetime(2026, 12, 8, 9, 35, tzinfo=UTC), "OCG-07",
                "{{ 7 * 7 }}", "{% raw %}")
    title, lines = chat_message(partnership_name="{{ p }}", when="Tuesday 8 December 2026", updated=False,
                                visits=[], sections=[Heading("Gangs", "c", (slot,))], agency="DWP", powers="",
                                meeting={}, timezone=TZ)
    assert title == "{{ p }}, Tuesday 8 December 2026: you are no longer invited to any section"
    assert lines == ("Gangs (#c)", "  09:30-09:35  OCG-07: {{ 7 * 7 }}", "    Asked of partners: {% raw %}")
