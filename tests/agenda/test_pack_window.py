"""Packs close `meeting.pack_open_working_days` working days after the meeting (partnership file, default 5).

Driven through the runner (the same path as Slack's listeners) on the Northtown sample, published for Tuesday
8 December 2026: View pack, I accept and `/agenda show` are refused once the window has passed, for chairs too,
and each refusal is written to the processing log while nothing is shown.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from actions_support import reply_text
from sqlalchemy import select

from bot import db
from bot.config import DEFAULT_COMMANDS
from bot.runner import Request, Runner
from commands.core import router
from commands.core.replies import Result
from commands.partnership import spec as partnership_spec
from models import AuditEvent, Partnership, Section
from models.calendar import pack_closes

DAY = date(2026, 12, 8)  # a Tuesday
PUBLISHED = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def published(northtown_loaded):  # type: ignore[no-untyped-def]
    clock = Clock(PUBLISHED)
    runner = Runner(factory=northtown_loaded, names=dict(DEFAULT_COMMANDS), clock=clock)
    result = runner.run(Request("slack", "T0TEST", "U0JO", "agenda", f"publish {DAY.isoformat()}"), lambda _u: None)
    assert "Published the agenda" in reply_text(result), reply_text(result)
    with db.unit_of_work(northtown_loaded) as session:  # as the sender records the channels it creates
        for s in session.scalars(select(Section)):
            s.space_ref = f"C0{s.cohort.key.upper().replace('-', '')}"
        sections = {s.cohort.key: (s.id, s.space_ref) for s in session.scalars(select(Section))}
    return runner, clock, sections


def press(runner: Runner, user: str, action_id: str, value: str) -> Result:
    return runner.run(Request("slack", "T0TEST", user, f"button:{action_id}", ""), lambda _u: None,
                      lambda caller: router.press(action_id, caller, value))


def set_window(factory, days: int) -> None:  # type: ignore[no-untyped-def]
    with db.unit_of_work(factory) as session:
        p = session.scalar(select(Partnership))
        p.meeting = {**p.meeting, "pack_open_working_days": days}


def refusals(factory) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    with factory() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.kind == "refusal").order_by(AuditEvent.id)))


def consultations(factory) -> int:  # type: ignore[no-untyped-def]
    with factory() as session:
        return len(session.scalars(select(AuditEvent.id).where(AuditEvent.kind == "consultation")).all())


def test_the_window_counts_working_days_after_the_meeting() -> None:
    assert pack_closes(DAY, 5) == date(2026, 12, 15)  # Wed, Thu, Fri, Mon, Tue
    assert pack_closes(DAY, 3) == date(2026, 12, 11)  # Friday: the weekend is not counted
    assert pack_closes(DAY, 0) == DAY
    # Christmas Day, Boxing Day's substitute (Monday 28) and the weekend don't count
    assert pack_closes(date(2026, 12, 22), 5) == date(2026, 12, 31)


def test_the_sample_keeps_the_documented_default() -> None:
    assert partnership_spec.MEETING["pack_open_working_days"][2] == 5
    spec, errors = partnership_spec.validate({"partnership": {"name": "X", "isp_version": "1"}})
    assert errors == [] and spec is not None and spec["meeting"]["pack_open_working_days"] == 5


@pytest.mark.parametrize("bad", [-1, 61, "5", 2.5, True])
def test_the_setting_is_a_whole_number_from_0_to_60(bad: object) -> None:
    spec, errors = partnership_spec.validate({"partnership": {"name": "X", "isp_version": "1"},
                                              "meeting": {"pack_open_working_days": bad}})
    assert spec is None
    assert [e for e in errors if e.startswith("meeting.pack_open_working_days: expected a whole number from 0 to 60")]


def test_open_on_the_last_working_day_and_closed_the_next_across_a_weekend(published) -> None:  # type: ignore[no-untyped-def]
    runner, clock, sections = published
    factory = runner.factory
    set_window(factory, 3)  # Tuesday's meeting: Wednesday, Thursday, Friday 11 December
    gangs, space = sections["gangs"]

    clock.now = datetime(2026, 12, 11, 23, 59, tzinfo=UTC)  # Friday 23:59 in London (GMT): still open
    opened = press(runner, "U0ROSE", "pack.accept", str(gangs))
    assert opened.modal is not None and opened.modal.title == "Section pack"
    assert consultations(factory) > 0 and refusals(factory) == []
    shown = consultations(factory)

    clock.now = datetime(2026, 12, 12, 0, 1, tzinfo=UTC)  # Saturday: closed, for the chair too
    expected = ("The Gangs and guns pack for Tuesday 8 December 2026 closed on Friday 11 December 2026. Packs stay "
                "open 3 working days after the meeting; ask your coordinator if you need something from it.")
    for result in (press(runner, "U0ROSE", "pack.view", str(gangs)),
                   press(runner, "U0ROSE", "pack.accept", str(gangs)),
                   runner.run(Request("slack", "T0TEST", "U0ROSE", "agenda", "show", channel=space), lambda _u: None)):
        assert result.modal is None
        assert reply_text(result).strip() == expected
    assert consultations(factory) == shown  # nothing more was shown
    logged = refusals(factory)
    assert len(logged) == 3
    assert {e.actor for e in logged} == {"member:rose.gill"}
    assert {e.justification for e in logged} == {"pack window closed"}
    assert all(f"section {gangs}" in e.what and "closed 2026-12-11" in e.what for e in logged)


def test_default_window_is_five_working_days_in_the_partnerships_time_zone(published) -> None:  # type: ignore[no-untyped-def]
    runner, clock, sections = published
    ocg, _ = sections["ocg"]
    with runner.factory() as session:
        assert "pack_open_working_days" in session.scalar(select(Partnership)).meeting  # the sample says 5
    set_window(runner.factory, 5)
    clock.now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # before the meeting (since publication): open
    assert press(runner, "U0JO", "pack.accept", str(ocg)).modal is not None
    clock.now = datetime(2026, 12, 15, 23, 30, tzinfo=UTC)  # Tuesday 15 December, last day
    assert press(runner, "U0JO", "pack.view", str(ocg)).modal is not None
    clock.now = datetime(2026, 12, 16, 0, 0, tzinfo=UTC)  # Wednesday: closed for the coordinator too
    result = press(runner, "U0JO", "pack.view", str(ocg))
    assert result.modal is None and "closed on Tuesday 15 December 2026" in reply_text(result)
    assert "Packs stay open 5 working days" in reply_text(result)
    [refusal] = refusals(runner.factory)
    assert refusal.actor == "member:jo.bloggs" and refusal.justification == "pack window closed"


def test_a_partnership_without_the_setting_gets_five_working_days(published) -> None:  # type: ignore[no-untyped-def]
    runner, clock, sections = published
    with db.unit_of_work(runner.factory) as session:
        p = session.scalar(select(Partnership))
        p.meeting = {k: v for k, v in p.meeting.items() if k != "pack_open_working_days"}
    clock.now = datetime(2026, 12, 16, 9, 0, tzinfo=UTC)
    result = press(runner, "U0JO", "pack.view", str(sections["ocg"][0]))
    assert "closed on Tuesday 15 December 2026" in reply_text(result)
