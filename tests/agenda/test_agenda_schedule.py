"""Working days, the .ics itinerary, and automatic publication by the worker's job."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import icalendar
import pytest
from sqlalchemy import func, select

from bot import db
from bot.jobs import publish_agenda_job
from commands.agenda.itinerary import Visit, calendar
from commands.agenda.schedule import due
from models import Meeting, OutboxMessage, Partnership
from models.calendar import is_working_day, publish_date, working_days_before

LONDON = "Europe/London"


@pytest.mark.parametrize(("meeting", "n", "expected"), [
    (date(2026, 12, 8), 3, date(2026, 12, 3)),  # Tue -> Mon 7, Fri 4, Thu 3 (the weekend doesn't count)
    (date(2026, 12, 8), 0, date(2026, 12, 8)),
    # Tue 29 Dec 2026: Mon 28 is Boxing Day's substitute, Fri 25 Christmas, 26-27 the weekend
    (date(2026, 12, 29), 1, date(2026, 12, 24)),
    (date(2026, 12, 29), 3, date(2026, 12, 22)),
    (date(2027, 3, 30), 1, date(2027, 3, 25)),  # Easter 2027: Good Friday 26 Mar, Easter Monday 29 Mar
    (date(2026, 5, 26), 1, date(2026, 5, 22)),  # Spring bank holiday Mon 25 May 2026
])
def test_publish_date_skips_weekends_and_bank_holidays(meeting: date, n: int, expected: date) -> None:
    assert publish_date(meeting, n) == expected


def test_working_days() -> None:
    assert not is_working_day(date(2026, 12, 25))  # Christmas Day
    assert not is_working_day(date(2026, 12, 28))  # Boxing Day (substitute)
    assert not is_working_day(date(2026, 12, 26))  # Saturday
    assert is_working_day(date(2026, 12, 24))
    assert not is_working_day(date(2027, 8, 30))  # summer bank holiday in England and Wales (not Scotland's)
    assert working_days_before(date(2026, 12, 8), 2, closed=set()) == date(2026, 12, 4)
    with pytest.raises(ValueError):
        working_days_before(date(2026, 12, 8), -1)


@pytest.mark.parametrize(("day", "utc_hour"), [(date(2026, 12, 8), 9), (date(2026, 6, 9), 8)])
def test_ics_is_in_london_time_gmt_in_winter_bst_in_summer(day: date, utc_hour: int) -> None:
    start = datetime(day.year, day.month, day.day, 9, 30, tzinfo=UTC).replace(hour=utc_hour)
    visit = Visit("ocg", "Organised crime groups", start, start + timedelta(minutes=89), "#oneday-ocg")
    text = calendar(day=day, partnership_key="northtown", partnership_name="Northtown CSP", timezone=LONDON,
                    visits=[visit], stamp=datetime(2026, 12, 1, tzinfo=UTC))
    assert "DTSTART;TZID=Europe/London:" + f"{day:%Y%m%d}T093000" in text
    cal = icalendar.Calendar.from_ical(text)
    [tz] = cal.walk("VTIMEZONE")
    assert str(tz["tzid"]) == LONDON
    [event] = cal.walk("VEVENT")
    local = event.decoded("dtstart")
    assert (local.hour, local.minute) == (9, 30)
    assert local.utcoffset() == timedelta(hours=0 if day.month == 12 else 1)
    assert local == start
    assert str(event["uid"]) == f"{day.isoformat()}-ocg.northtown@oneday"
    assert "OCG-" not in text


def test_ics_cancels_a_section_no_longer_attended() -> None:
    start = datetime(2026, 12, 8, 9, 30, tzinfo=UTC)
    keep = Visit("ocg", "Organised crime groups", start, start + timedelta(hours=1), "#a")
    gone = Visit("gangs", "Gangs and guns", start + timedelta(hours=4), start + timedelta(hours=5), "#b")
    cal = icalendar.Calendar.from_ical(calendar(
        day=date(2026, 12, 8), partnership_key="northtown", partnership_name="Northtown CSP", timezone=LONDON,
        visits=[keep], cancelled=[gone], sequence=2, stamp=start))
    assert [(str(e["uid"]).split(".")[0], str(e["status"]), int(e["sequence"])) for e in cal.walk("VEVENT")] == [
        ("2026-12-08-ocg", "CONFIRMED", 2), ("2026-12-08-gangs", "CANCELLED", 2)]


def test_due_meetings() -> None:
    p = Partnership(key="x", name="X", isp_version="1", timezone=LONDON,
                    meeting={"publish_working_days_before": 3, "dates": ["2026-12-08", "2026-12-29", "2026-11-03"]})
    assert due(p, date(2026, 12, 2), set()) == []
    assert due(p, date(2026, 12, 3), set()) == [date(2026, 12, 8)]
    assert due(p, date(2026, 12, 3), {date(2026, 12, 8)}) == []
    assert due(p, date(2026, 12, 22), set()) == [date(2026, 12, 29)]  # 8 Dec has passed; 3 Nov long gone


def _set_dates(factory, dates: list[str]) -> None:  # type: ignore[no-untyped-def]
    with db.unit_of_work(factory) as session:
        p = session.scalar(select(Partnership))
        p.meeting = {**p.meeting, "dates": dates}


def _rows(factory) -> int:  # type: ignore[no-untyped-def]
    with factory() as session:
        return session.scalar(select(func.count()).select_from(OutboxMessage)) or 0


def test_worker_publishes_once_when_the_publish_date_arrives(northtown_loaded) -> None:  # type: ignore[no-untyped-def]
    factory = northtown_loaded
    _set_dates(factory, ["2026-12-08"])
    assert publish_agenda_job(factory, datetime(2026, 12, 2, 23, 30, tzinfo=UTC)) == 0  # Wed: too early
    # the publish date (Thu 3 Dec, three working days before) has arrived in London
    queued = publish_agenda_job(factory, datetime(2026, 12, 3, 0, 30, tzinfo=UTC))
    assert queued > 0 and _rows(factory) == queued
    with factory() as session:
        meeting = session.scalar(select(Meeting))
        assert (meeting.date, meeting.status) == (date(2026, 12, 8), "published")
        assert len(meeting.sections) == 5
    assert publish_agenda_job(factory, datetime(2026, 12, 4, 8, 0, tzinfo=UTC)) == 0
    assert _rows(factory) == queued


def test_partnership_file_meeting_dates_are_validated(northtown_text: str) -> None:
    from commands.core.errors import FileErrors
    from commands.partnership.file import parse_file

    good = northtown_text.replace("reorder_sections: false}", 'reorder_sections: false, dates: ["2026-12-08"]}')
    assert parse_file(good, source="n.yaml")["meeting"]["dates"] == ["2026-12-08"]
    bad = northtown_text.replace("reorder_sections: false}", 'reorder_sections: false, dates: ["8/12/2026"]}')
    with pytest.raises(FileErrors) as info:
        parse_file(bad, source="n.yaml")
    assert any("meeting.dates[0]" in e and "YYYY-MM-DD" in e for e in info.value.errors)


def test_cli_publish_queues_for_the_worker_and_is_idempotent(northtown_loaded, sqlite_db_url: str,  # type: ignore[no-untyped-def]
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import typer
    from typer.testing import CliRunner

    from bot import cli
    from bot.cli_agenda import agenda_app

    monkeypatch.setattr(cli.State, "settings", cli.State.settings)
    root = typer.Typer()
    root.callback()(cli._global)
    root.add_typer(agenda_app, name="agenda")
    args = ["--database-url", sqlite_db_url, "agenda", "publish", "--date", "2030-12-10"]
    first = CliRunner().invoke(root, args)
    assert first.exit_code == 0, first.output
    assert "messages queued for the worker" in first.output
    rows = _rows(northtown_loaded)
    with northtown_loaded() as session:
        assert {r.status for r in session.scalars(select(OutboxMessage))} == {"pending"}  # nothing sent here
    again = CliRunner().invoke(root, args)
    assert again.exit_code == 0 and "nothing new queued" in again.output
    assert _rows(northtown_loaded) == rows
    bad = CliRunner().invoke(root, ["--database-url", sqlite_db_url, "agenda", "publish", "--date", "10/12/2030"])
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output


def _publish(factory, day: date = date(2026, 12, 8)):  # type: ignore[no-untyped-def]
    from bot.outbox import enqueue
    from commands.agenda.publish import publish

    with db.unit_of_work(factory) as session:
        p = session.scalar(select(Partnership))
        now = datetime(2026, 12, 1, tzinfo=UTC)
        published = publish(session, p, day, actor="cli", now=now)
        return [n for n in published.notices if enqueue(session, p.id, n, now=now)], published.notes


def test_a_plan_that_changes_back_is_sent_again(northtown_loaded) -> None:  # type: ignore[no-untyped-def]
    """A, B, A: the third publication must restore the channel's members, not be swallowed by A's key."""
    from models import Cohort, Target

    factory = northtown_loaded
    first, _ = _publish(factory)
    gangs_space = [n for n in first if n.space and n.space.name.endswith("-gangs")]
    assert len(gangs_space) == 1

    def flag(add: bool) -> None:
        with db.unit_of_work(factory) as session:
            t = session.scalar(select(Target).join(Target.cohort).where(Cohort.key == "gangs").order_by(Target.ref))
            t.flags = [*t.flags, "benefits"] if add else [f for f in t.flags if f != "benefits"]

    flag(True)
    second, _ = _publish(factory)
    assert [n for n in second if n.space and n.space.name.endswith("-gangs")]
    flag(False)
    third, _ = _publish(factory)
    spaces = [n for n in third if n.space and n.space.name.endswith("-gangs")]
    assert len(spaces) == 1 and spaces[0].space.members == gangs_space[0].space.members
    assert spaces[0].key != gangs_space[0].key
    assert _publish(factory)[0] == []


def test_a_section_that_leaves_the_plan_has_its_channel_emptied(northtown_loaded) -> None:  # type: ignore[no-untyped-def]
    from models import Cohort, Target

    factory = northtown_loaded
    _publish(factory)
    with db.unit_of_work(factory) as session:
        ppo = session.scalar(select(Cohort).where(Cohort.key == "ppo"))
        for t in session.scalars(select(Target).where(Target.cohort_id == ppo.id)):
            t.status = "closed"
    queued, notes = _publish(factory)
    [emptied] = [n for n in queued if n.space and n.space.name.endswith("-ppo")]
    assert emptied.space.members == ()
    assert not [n for n in queued if n.to.kind == "section" and not n.space and "ppo" in n.key]
    assert any("ppo: no longer on the agenda" in note for note in notes)
    with factory() as session:
        from models import Invitation, Section

        section = session.scalar(select(Section).join(Section.cohort).where(Cohort.key == "ppo"))
        assert section.target_refs == []
        members = session.scalars(select(Invitation).where(Invitation.section_id == section.id,
                                                           Invitation.member_id.is_not(None))).all()
        # only those who run the day keep a row (they may see every section); nobody else is invited
        assert {tuple(i.reasons) for i in members} <= {("runs-the-day",)}
