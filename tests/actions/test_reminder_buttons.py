"""The reminder DM's extra buttons, pressed over signed HTTP: Need more time and Not mine."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from sqlalchemy import select

from bot import db
from models import Action, Member, Target


def seed(factory) -> None:  # type: ignore[no-untyped-def]
    with db.unit_of_work(factory) as session:
        target = session.scalar(select(Target).where(Target.ref == "OCG-07"))
        sam = session.scalar(select(Member).where(Member.key == "sam.patel"))
        session.add(Action(partnership_id=target.partnership_id, number=1, target_id=target.id, owner_id=sam.id,
                           created_by_id=target.lead_id, text="check claims", due=date(2026, 12, 4), status="open",
                           created_at=datetime(2026, 11, 1, tzinfo=UTC), updated_at=datetime(2026, 11, 1, tzinfo=UTC)))


def test_not_mine_tells_the_coordinators_and_only_the_owner_may_press_it(slack_env) -> None:  # type: ignore[no-untyped-def]
    seed(slack_env.factory)
    assert slack_env.press("U0SAM", "action.not_mine", "1") == 200
    assert "coordinators told" in json.dumps(slack_env.responses()[-1])
    slack_env.drain()
    [dm] = slack_env.dms_to("U0JO")  # jo.bloggs, the coordinator
    assert "Action #1 on OCG-07 needs a new owner" in json.dumps(dm["blocks"])
    assert slack_env.press("U0TOM", "action.not_mine", "1") == 200  # the lead is not the owner
    assert "is not yours" in json.dumps(slack_env.responses()[-1])


def test_not_mine_from_someone_outside_the_section_is_refused_without_a_hint(slack_env) -> None:  # type: ignore[no-untyped-def]
    seed(slack_env.factory)
    with slack_env.factory() as session:
        from commands.agenda.plan_json import plan
        from models import Partnership

        p = session.scalar(select(Partnership))
        [ocg] = [s for s in plan(session, p, date(2026, 12, 8))["sections"] if s["cohort"] == "ocg"]
        outsider = session.scalars(select(Member).where(Member.key.not_in(ocg["members"]),
                                                        Member.active.is_(True))).all()
        slack_id = next(m.identity("slack") for m in outsider if m.identity("slack") and not m.has_role(
            "coordinator", "chair"))
    assert slack_env.press(slack_id, "action.not_mine", "1") == 200
    text = json.dumps(slack_env.responses()[-1])
    assert "You can't see action 1: either it doesn't exist or you are not in its target's section" in text
    assert "OCG-07" not in text


def test_need_more_time_opens_a_form_and_the_chair_is_told(slack_env) -> None:  # type: ignore[no-untyped-def]
    seed(slack_env.factory)
    slack_env.clock.set(datetime(2026, 12, 3, 10, 0, tzinfo=UTC))
    assert slack_env.press("U0SAM", "action.more_time", "1") == 200
    [form] = slack_env.modals()
    assert form["callback_id"] == "action.more_time" and form["private_metadata"] == "1"
    bad = slack_env.submit("U0SAM", "action.more_time", {"due": "2026-11-01", "reason": ""}, context="1")
    assert bad.body["response_action"] == "errors"
    assert set(bad.body["errors"]) == {"due", "reason"}
    ok = slack_env.submit("U0SAM", "action.more_time", {"due": "2026-12-18", "reason": "waiting for DWP data"},
                          context="1")
    assert ok.body["response_action"] == "update"
    with slack_env.factory() as session:
        assert session.scalar(select(Action.due).where(Action.number == 1)) == date(2026, 12, 18)
    slack_env.drain()
    [told] = slack_env.dms_to("U0ROSE")  # the chair
    assert "waiting for DWP data" in json.dumps(told["blocks"])
