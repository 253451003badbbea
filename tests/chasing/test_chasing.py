"""Chasing owners with a frozen clock, through the real jobs, outbox, bolt stack and fake Slack.

One action walks through before-due, due, three overdue chases and escalation; a bank holiday and a weekend
move the chases; the October clock change keeps 09:00 local. Out-of-office owners are not chased and the
chair is told who covers.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bot import db
from bot.scheduler import reminders, weekly_digest
from models import Action, Member, ReminderMark, Target

LONDON = ZoneInfo("Europe/London")


def add_action(factory, *, ref: str, owner: str, text: str, due: date, number: int) -> None:  # type: ignore[no-untyped-def]
    with db.unit_of_work(factory) as session:
        target = session.scalar(select(Target).where(Target.ref == ref))
        member = session.scalar(select(Member).where(Member.key == owner))
        session.add(Action(partnership_id=target.partnership_id, number=number, target_id=target.id,
                           owner_id=member.id, created_by_id=target.lead_id, text=text, due=due, status="open",
                           created_at=datetime(2026, 10, 1, tzinfo=UTC), updated_at=datetime(2026, 10, 1, tzinfo=UTC)))


def run_at(env, local: datetime) -> None:  # type: ignore[no-untyped-def]
    env.clock.set(local.astimezone(UTC))
    reminders(env.factory, local)
    env.drain()


def dm_texts(env, user: str) -> list[str]:  # type: ignore[no-untyped-def]
    """Each DM to `user` as one string: header, item sections and context, as Slack renders them."""
    texts = []
    for post in env.dms_to(user):
        blocks = post["blocks"] if isinstance(post["blocks"], list) else json.loads(post["blocks"])
        parts = []
        for b in blocks:
            if b["type"] in ("header", "section") and "text" in b:
                parts.append(b["text"]["text"])
            elif b["type"] == "context":
                parts.extend(e["text"] for e in b["elements"])
        texts.append("\n".join(parts))
    return texts


def buttons_of(env, user: str) -> list[list[str]]:  # type: ignore[no-untyped-def]
    post = env.dms_to(user)[-1]
    blocks = post["blocks"] if isinstance(post["blocks"], list) else json.loads(post["blocks"])
    return [[e["action_id"] for e in b["elements"]] for b in blocks if b["type"] == "actions"]


def test_one_action_walks_through_every_round_to_escalation(slack_env) -> None:  # type: ignore[no-untyped-def]
    env = slack_env
    add_action(env.factory, ref="OCG-07", owner="sam.patel", text="check benefit claims at the grow addresses",
               due=date(2026, 12, 4), number=1)
    item = "#1 OCG-07: check benefit claims at the grow addresses"

    run_at(env, datetime(2026, 12, 1, 9, 30, tzinfo=LONDON))  # Tuesday: too early
    assert env.dms_to("U0SAM") == []

    run_at(env, datetime(2026, 12, 2, 9, 30, tzinfo=LONDON))  # Wed: 2 working days before
    assert dm_texts(env, "U0SAM") == [
        "Your actions: 1 to report on\n" + item + " - due Fri 4 Dec\n"
        "Done records the outcome; the partners who contributed are told what happened."]
    assert buttons_of(env, "U0SAM") == [["action.done", "action.update", "action.more_time", "action.not_mine"]]

    run_at(env, datetime(2026, 12, 2, 15, 0, tzinfo=LONDON))  # same day again: nothing new
    run_at(env, datetime(2026, 12, 4, 8, 0, tzinfo=LONDON))  # before working hours
    assert len(env.dms_to("U0SAM")) == 1

    run_at(env, datetime(2026, 12, 4, 9, 5, tzinfo=LONDON))  # due day
    assert dm_texts(env, "U0SAM")[-1].splitlines()[1] == item + " - due today"

    run_at(env, datetime(2026, 12, 5, 10, 0, tzinfo=LONDON))  # Saturday: never
    run_at(env, datetime(2026, 12, 7, 10, 0, tzinfo=LONDON))  # Monday: next chase is Tuesday
    assert len(env.dms_to("U0SAM")) == 2

    run_at(env, datetime(2026, 12, 8, 9, 0, tzinfo=LONDON))
    assert dm_texts(env, "U0SAM")[-1].splitlines()[:2] == [
        "Your actions: 1 to report on (1 overdue)", item + " - overdue since Fri 4 Dec (2 working days)"]
    run_at(env, datetime(2026, 12, 10, 9, 0, tzinfo=LONDON))
    assert dm_texts(env, "U0SAM")[-1].splitlines()[1] == item + " - overdue since Fri 4 Dec (4 working days)"
    assert env.dms_to("U0ROSE") == [] and env.dms_to("U0TOM") == []

    run_at(env, datetime(2026, 12, 14, 9, 0, tzinfo=LONDON))  # third chase: escalate
    assert dm_texts(env, "U0SAM")[-1].splitlines()[1] == item + " - overdue since Fri 4 Dec (6 working days)"
    for chair_or_lead in ("U0ROSE", "U0TOM"):  # the chair and OCG-07's lead officer
        [escalation] = dm_texts(env, chair_or_lead)
        assert escalation.splitlines()[:2] == [
            "Escalation: 1 action overdue after repeated reminders",
            item + " - overdue since Fri 4 Dec (6 working days) (owner Sam Patel, Department for Work and Pensions)"]
    assert len(env.dms_to("U0SAM")) == 5

    run_at(env, datetime(2026, 12, 14, 16, 0, tzinfo=LONDON))  # replaying the same window sends nothing
    assert len(env.dms_to("U0SAM")) == 5 and len(env.dms_to("U0ROSE")) == 1
    env.fake.assert_no_rejections()


def test_bank_holidays_and_weekend_move_the_chases(slack_env) -> None:  # type: ignore[no-untyped-def]
    env = slack_env
    add_action(env.factory, ref="OCG-07", owner="sam.patel", text="serve notice", due=date(2026, 12, 23), number=1)
    run_at(env, datetime(2026, 12, 23, 9, 30, tzinfo=LONDON))
    assert len(env.dms_to("U0SAM")) == 1
    for day in (24, 25, 28):  # 25 Dec and 28 Dec (Boxing Day substitute) are bank holidays
        run_at(env, datetime(2026, 12, day, 10, 0, tzinfo=LONDON))
    assert len(env.dms_to("U0SAM")) == 1
    run_at(env, datetime(2026, 12, 29, 9, 30, tzinfo=LONDON))
    assert "overdue since Wed 23 Dec (2 working days)" in dm_texts(env, "U0SAM")[-1]


def test_nine_oclock_local_after_the_clocks_go_back(slack_env) -> None:  # type: ignore[no-untyped-def]
    env = slack_env
    add_action(env.factory, ref="OCG-07", owner="sam.patel", text="visit", due=date(2026, 10, 23), number=1)
    run_at(env, datetime(2026, 10, 23, 9, 0, tzinfo=LONDON))  # 08:00 UTC in BST
    assert len(env.dms_to("U0SAM")) == 1
    run_at(env, datetime(2026, 10, 27, 8, 59, tzinfo=UTC))  # 08:59 GMT: not yet
    assert len(env.dms_to("U0SAM")) == 1
    run_at(env, datetime(2026, 10, 27, 9, 0, tzinfo=UTC))  # 09:00 GMT
    assert len(env.dms_to("U0SAM")) == 2


def test_missed_rounds_are_sent_once_at_the_next_run(slack_env) -> None:  # type: ignore[no-untyped-def]
    env = slack_env
    add_action(env.factory, ref="OCG-07", owner="sam.patel", text="a", due=date(2026, 12, 4), number=1)
    add_action(env.factory, ref="OCG-07", owner="sam.patel", text="b", due=date(2026, 12, 9), number=2)
    run_at(env, datetime(2026, 12, 8, 11, 0, tzinfo=LONDON))  # no worker ran before: one DM with both
    [text] = dm_texts(env, "U0SAM")
    assert "#1 OCG-07: a - overdue since Fri 4 Dec (2 working days)" in text
    assert "#2 OCG-07: b - due Wed 9 Dec" in text
    with env.factory() as session:
        assert session.scalar(select(func.count()).select_from(ReminderMark)) == 2


def test_out_of_office_owner_is_not_chased_and_chair_is_told_who_covers(slack_env) -> None:  # type: ignore[no-untyped-def]
    env = slack_env
    # ben.ng (children's services) is out of office until 4 Dec 2026
    add_action(env.factory, ref="CL-01", owner="ben.ng", text="strategy meeting", due=date(2026, 12, 2), number=1)
    run_at(env, datetime(2026, 12, 2, 9, 30, tzinfo=LONDON))
    assert env.dms_to("U0BEN") == []
    [told] = dm_texts(env, "U0ROSE")
    assert told.startswith("Out of office: reminders paused\nBen Ng is out of office until 4 Dec 2026")
    assert "covers for" in told
    run_at(env, datetime(2026, 12, 3, 9, 30, tzinfo=LONDON))
    assert len(env.dms_to("U0ROSE")) == 1  # told once
    run_at(env, datetime(2026, 12, 7, 9, 30, tzinfo=LONDON))  # back: chased for the latest round
    assert "#1 CL-01: strategy meeting - overdue since Wed 2 Dec (3 working days)" in dm_texts(env, "U0BEN")[0]


def test_weekly_digest_goes_to_the_chair_once_a_week(slack_env) -> None:  # type: ignore[no-untyped-def]
    env = slack_env
    add_action(env.factory, ref="OCG-07", owner="sam.patel", text="a", due=date(2026, 12, 1), number=1)
    for when in (datetime(2026, 12, 7, 9, 5, tzinfo=LONDON), datetime(2026, 12, 8, 9, 5, tzinfo=LONDON)):
        env.clock.set(when.astimezone(UTC))
        weekly_digest(env.factory, when)
        env.drain()
    [digest] = dm_texts(env, "U0ROSE")
    assert digest.startswith("Weekly digest, week 50 of 2026")
    assert "Department for Work and Pensions: 1 overdue, 0 completed" in digest
    assert env.dms_to("U0SAM") == []


def test_an_owner_no_longer_entitled_is_not_chased_and_the_coordinator_is_told_once(slack_env) -> None:  # type: ignore[no-untyped-def]
    env = slack_env
    add_action(env.factory, ref="OCG-07", owner="sam.patel", text="check benefits claim", due=date(2026, 12, 2),
               number=1)
    with db.unit_of_work(env.factory) as session:  # DWP's ISP lapses
        from models import Agency

        dwp = session.scalar(select(Agency).where(Agency.key == "dwp"))
        dwp.isp_signed = "2025-1"
    run_at(env, datetime(2026, 12, 2, 9, 30, tzinfo=LONDON))
    assert env.dms_to("U0SAM") == []  # nothing about OCG-07 reaches him, not even a reminder
    [told] = dm_texts(env, "U0JO")
    assert told.startswith("Action #1 on OCG-07: its owner is no longer entitled")
    assert "Sam Patel (Department for Work and Pensions) is no longer entitled to OCG-07" in told
    run_at(env, datetime(2026, 12, 3, 9, 30, tzinfo=LONDON))
    assert len(env.dms_to("U0JO")) == 1  # told once
    assert env.dms_to("U0SAM") == []
    with env.factory() as session:
        assert session.scalar(select(func.count()).select_from(ReminderMark).where(
            ReminderMark.round == "not-entitled")) == 1
