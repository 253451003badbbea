"""Attendance through the runner on the Northtown sample, published for Tuesday 8 December 2026: marking present
(self, button, chair), apologies with a substitute, the chair's view of the day, and the section-start post.

sam.patel (DWP) is in the OCG section; bea.morris is not; rose.gill chairs; tara.bell is sam's DWP colleague.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from actions_support import reply_text
from sqlalchemy import func, select

from bot import db
from bot.clock import TickingClock
from bot.config import DEFAULT_COMMANDS
from bot.runner import Request, Runner
from bot.scheduler import JOBS
from commands.core import router
from commands.core.replies import Result
from models import Attendance, AttendanceStatus, OutboxMessage, Section

PUBLISHED = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


@pytest.fixture
def env(northtown_loaded):  # type: ignore[no-untyped-def]
    clock = TickingClock(PUBLISHED)
    runner = Runner(factory=northtown_loaded, names=dict(DEFAULT_COMMANDS), clock=clock)
    assert "Published the agenda" in reply_text(say(runner, "U0JO", "publish 2026-12-08"))
    with db.unit_of_work(northtown_loaded) as session:
        for s in session.scalars(select(Section)):
            s.space_ref = f"C0{s.cohort.key.upper().replace('-', '')}"
        ocg = session.scalar(select(Section).where(Section.space_ref == "C0OCG"))
        assert ocg is not None
        times = (ocg.id, ocg.starts_at, ocg.ends_at)
    return runner, clock, times


def say(runner: Runner, user: str, text: str, channel: str | None = None) -> Result:
    return runner.run(Request("slack", "T0TEST", user, "agenda", text, channel=channel), lambda _u: None)


def marks(factory) -> dict[str, AttendanceStatus]:  # type: ignore[no-untyped-def]
    with factory() as session:
        return {a.member.key: a.status for a in session.scalars(select(Attendance))}


def test_members_mark_themselves_present_in_their_section_only(env) -> None:  # type: ignore[no-untyped-def]
    runner, clock, (ocg_id, starts, _ends) = env
    clock.set(starts + timedelta(minutes=1))
    wrong = reply_text(say(runner, "U0SAM", "here", channel="CMAIN"))
    assert "works in a section's own channel, and this is not a section channel" in wrong
    assert "Marked present at Organised crime groups" in reply_text(say(runner, "U0SAM", "here", channel="C0OCG"))
    refused = reply_text(say(runner, "U0BEA", "here", channel="C0OCG"))
    assert "either it doesn't exist or you are not in that section" in refused
    pressed = runner.run(Request("slack", "T0TEST", "U0TOM", "button:attend.here", ""), lambda _u: None,
                         lambda caller: router.press("attend.here", caller, str(ocg_id)))
    assert "Marked present" in reply_text(pressed)
    assert marks(runner.factory) == {"sam.patel": AttendanceStatus.PRESENT, "tom.ashby": AttendanceStatus.PRESENT}


def test_the_chair_marks_others_and_partners_cannot(env) -> None:  # type: ignore[no-untyped-def]
    runner, clock, (_ocg, starts, _ends) = env
    clock.set(starts)
    said = reply_text(say(runner, "U0ROSE", "present @sam.patel @bea.morris", channel="C0OCG"))
    assert "Marked present at Organised crime groups: Sam Patel." in said
    assert "Not in this section, so not marked: Bea Morris." in said
    assert "Only the chair or a coordinator can do that" in reply_text(say(runner, "U0SAM", "present @tom.ashby",
                                                                           channel="C0OCG"))
    assert "is not a member of" in reply_text(say(runner, "U0ROSE", "present @nobody", channel="C0OCG"))
    assert marks(runner.factory) == {"sam.patel": AttendanceStatus.PRESENT}


def test_apologies_with_a_substitute_tell_the_chair_and_show_in_the_day(env) -> None:  # type: ignore[no-untyped-def]
    runner, clock, (_ocg, starts, _ends) = env
    clock.set(datetime(2026, 12, 5, 12, 0, tzinfo=UTC))
    result = say(runner, "U0SAM", "apologies 2026-12-08 sub @tara.bell")
    said = reply_text(result)
    assert "Apologies recorded for" in said and "Organised crime groups" in said
    assert "Tara Bell comes instead. They are not in" in said  # the rule decides what a substitute sees
    [chair] = result.notices
    assert chair.to.ref == "rose.gill" and chair.about == ()
    assert "Sam Patel (Department for Work and Pensions) sends apologies for" in chair.message.lines[0]
    assert "substitute: Tara Bell" in chair.message.lines[0]
    assert set(marks(runner.factory).values()) == {AttendanceStatus.APOLOGIES}
    bad = reply_text(say(runner, "U0SAM", "apologies 2026-12-08 sub @tom.ashby"))
    assert "a substitute must be another active member of Department for Work and Pensions" in bad
    assert "no meeting is published for" in reply_text(say(runner, "U0SAM", "apologies 2026-12-09"))

    clock.set(starts + timedelta(minutes=2))
    say(runner, "U0TOM", "here", channel="C0OCG")
    day = reply_text(say(runner, "U0ROSE", "day"))
    assert "The day: Tuesday 8 December 2026" in day
    assert "Organised crime groups (now)" in day
    assert "here (1): Tom Ashby (" in day
    assert "Sam Patel (Department for Work and Pensions), substitute Tara Bell" in day
    assert "accepted the statement: 0 of" in day
    assert "Only the chair or a coordinator can do that" in reply_text(say(runner, "U0SAM", "day"))


def test_the_section_start_post_goes_once_to_the_section_channel(env) -> None:  # type: ignore[no-untyped-def]
    runner, _clock, (ocg_id, starts, _ends) = env
    job = JOBS["section-start"]
    assert job.run(runner.factory, starts - timedelta(minutes=1), {}) == "0 section start posts queued"
    first = job.run(runner.factory, starts + timedelta(minutes=1), {})
    assert first != "0 section start posts queued"
    assert job.run(runner.factory, starts + timedelta(minutes=2), {}) == "0 section start posts queued"
    with runner.factory() as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.idempotency_key == f"section:{ocg_id}:start")).all()
        assert len(rows) == 1
        assert "I'm here" in str(rows[0].payload)
        assert session.scalar(select(func.count(OutboxMessage.id)).where(
            OutboxMessage.idempotency_key.like("section:%:start"))) == int(first.split()[0])
