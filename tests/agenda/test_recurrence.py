"""`meeting.recurrence`: every N weeks on a weekday, around England and Wales bank holidays (models/recurrence.py),
read from the partnership file and published by the worker's job on time; plus `meeting.venue` and `dial_in`."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import yaml
from sqlalchemy import select

from bot import db
from bot.scheduler import JOBS
from commands.partnership import file as partnership_cmd
from commands.partnership import spec as partnership_spec
from models import Meeting, MeetingStatus, OutboxMessage
from models.recurrence import occurrences

SIX_WEEKLY = {"every_weeks": 6, "weekday": "monday", "from": "2027-02-15"}  # 29 March 2027 is Easter Monday


def test_an_occurrence_on_a_bank_holiday_moves_to_the_next_working_day() -> None:
    got = occurrences(SIX_WEEKLY, date(2027, 2, 1), date(2027, 6, 1))
    assert got == [date(2027, 2, 15), date(2027, 3, 30), date(2027, 5, 10)]


def test_skip_drops_it_and_except_and_until_are_kept() -> None:
    skip = {**SIX_WEEKLY, "on_bank_holiday": "skip"}
    assert occurrences(skip, date(2027, 2, 1), date(2027, 6, 30)) == [date(2027, 2, 15), date(2027, 5, 10),
                                                                     date(2027, 6, 21)]
    dropped = {**SIX_WEEKLY, "except": ["2027-05-10"], "until": "2027-06-30"}
    assert occurrences(dropped, date(2027, 2, 1), date(2027, 12, 31)) == [date(2027, 2, 15), date(2027, 3, 30),
                                                                          date(2027, 6, 21)]
    # `from` on another weekday starts at the first such weekday after it
    assert occurrences({**SIX_WEEKLY, "from": "2027-02-11"}, date(2027, 2, 1), date(2027, 2, 28)) == [
        date(2027, 2, 15)]


def _with_meeting(text: str, **meeting: object) -> str:
    data = yaml.safe_load(text)
    data["meeting"] = {**data["meeting"], **meeting}
    return yaml.safe_dump(data, sort_keys=False)


@pytest.mark.parametrize(("recurrence", "error"), [
    ({"every_weeks": 6, "weekday": "funday", "from": "2027-02-15"}, "meeting.recurrence.weekday: 'funday' is not one of"),
    ({"weekday": "monday", "from": "2027-02-15"}, "meeting.recurrence.every_weeks: is required"),
    ({"every_weeks": 0, "weekday": "monday", "from": "2027-02-15"}, "meeting.recurrence.every_weeks: expected a whole "
                                                                    "number from 1 to 26"),
    ({"every_weeks": 6, "weekday": "monday", "from": "15/2/27"}, "meeting.recurrence.from: '15/2/27' is not a date"),
    ({"every_weeks": 6, "weekday": "monday", "from": "2027-02-15", "often": 1}, "meeting.recurrence.often: unknown "
                                                                               "field"),
])
def test_a_bad_recurrence_is_named_with_its_path(northtown_text: str, recurrence: dict, error: str) -> None:
    spec, errors = partnership_spec.validate(yaml.safe_load(_with_meeting(northtown_text, recurrence=recurrence)))
    assert spec is None
    assert any(error in e for e in errors), errors


def test_the_worker_publishes_the_next_three_meetings_on_time_around_easter(factory, northtown_text: str) -> None:  # type: ignore[no-untyped-def]
    text = _with_meeting(northtown_text, recurrence=SIX_WEEKLY, venue="Town Hall, Committee Room 2",
                         dial_in="https://meet.example/northtown-oneday")
    with db.unit_of_work(factory) as session:
        partnership_cmd.load(session, text, source="test", now=datetime(2027, 1, 4, 9, 0, tzinfo=UTC))
    job = JOBS["publish-agenda"]

    def published() -> list[date]:
        with factory() as session:
            return list(session.scalars(select(Meeting.date).where(Meeting.status == MeetingStatus.PUBLISHED)
                                        .order_by(Meeting.date)))

    # three working days before each: Wed 10 Feb; Tue 23 Mar (Good Friday and Easter Monday don't count); Wed 5 May
    for when, expected in [(datetime(2027, 2, 9, 9, 0, tzinfo=UTC), []),
                           (datetime(2027, 2, 10, 9, 0, tzinfo=UTC), [date(2027, 2, 15)]),
                           (datetime(2027, 3, 22, 9, 0, tzinfo=UTC), [date(2027, 2, 15)]),
                           (datetime(2027, 3, 23, 9, 0, tzinfo=UTC), [date(2027, 2, 15), date(2027, 3, 30)]),
                           (datetime(2027, 5, 5, 9, 0, tzinfo=UTC), [date(2027, 2, 15), date(2027, 3, 30),
                                                                      date(2027, 5, 10)])]:
        job.run(factory, when, {})
        assert published() == expected, when
    with factory() as session:  # the itineraries say where and how to join, in the DM and in the .ics
        rows = session.scalars(select(OutboxMessage).where(
            OutboxMessage.idempotency_key.like("publish:2027-02-15:itinerary:%"))).all()
        assert rows
        message = rows[0].payload["message"]
        assert "Where: Town Hall, Committee Room 2" in message["lines"]
        assert "Join remotely: https://meet.example/northtown-oneday" in message["lines"]
        ics = rows[0].payload["attachment"]["content"]
        assert "LOCATION:Town Hall\\, Committee Room 2" in ics
        assert "https://meet.example/northtown-oneday" in ics.replace("\r\n ", "")
    with db.unit_of_work(factory) as session:  # the file round-trips: exported, it loads back with no change
        exported = partnership_cmd.export(session, partnership_cmd.select_partnership(session, None))
        assert "every_weeks: 6" in exported and "Committee Room 2" in exported
        assert partnership_cmd.load(session, exported, source="export",
                                    now=datetime(2027, 5, 5, 10, 0, tzinfo=UTC)) == []
