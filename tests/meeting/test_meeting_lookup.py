"""The one home of "which meeting, which section" (commands/meeting/sections.py), used by attendance, the pack,
the minutes and decisions: a published meeting by date, the section whose channel a command was typed in."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from bot import db
from commands.agenda.publish import publish
from commands.core.context import Caller
from commands.core.errors import UsageError
from commands.meeting.sections import meeting_day, published_meeting, section_here
from models import Meeting, Member, Partnership, Section

PUBLISHED = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
DAY = date(2026, 12, 8)
EXAMPLE = "/agenda day 2026-12-08"


@pytest.fixture
def published(northtown_loaded):  # type: ignore[no-untyped-def]
    with db.unit_of_work(northtown_loaded) as session:
        p = session.scalar(select(Partnership))
        publish(session, p, DAY, actor="test", now=PUBLISHED, mail=False)
        for s in session.scalars(select(Section)):
            s.space_ref = f"C0{s.cohort.key.upper().replace('-', '')}"
    return northtown_loaded


def caller(session, channel: str | None = None) -> Caller:  # type: ignore[no-untyped-def]
    jo = session.scalar(select(Member).where(Member.key == "jo.bloggs"))
    return Caller(session, session.scalar(select(Partnership)), jo, PUBLISHED, channel=channel)


def test_the_published_meeting_of_a_date_or_a_usage_error_with_the_example(published) -> None:  # type: ignore[no-untyped-def]
    with published() as session:
        meeting = published_meeting(caller(session), DAY, EXAMPLE)
        assert (meeting.date, meeting.id) == (DAY, session.scalar(select(Meeting.id)))
        with pytest.raises(UsageError) as refused:
            published_meeting(caller(session), date(2026, 12, 15), EXAMPLE)
    assert (refused.value.message, refused.value.example) == (
        "no meeting is published for Tuesday 15 December 2026", EXAMPLE)


def test_a_meeting_day_is_read_or_answered_with_the_example() -> None:
    assert meeting_day("2026-12-08", EXAMPLE) == DAY
    with pytest.raises(UsageError) as refused:
        meeting_day("8/12", EXAMPLE)
    assert refused.value.example == EXAMPLE and "YYYY-MM-DD" in refused.value.message


def test_the_section_here_is_the_one_whose_channel_it_is_and_none_elsewhere(published) -> None:  # type: ignore[no-untyped-def]
    with published() as session:
        here = section_here(caller(session, "C0OCG"))
        assert here is not None and here.cohort.key == "ocg"
        assert section_here(caller(session, "C0MAIN")) is None
        assert section_here(caller(session)) is None  # a DM, the CLI: no channel
