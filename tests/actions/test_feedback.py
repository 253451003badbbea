"""The feedback loop end to end: an outcome is told to those who contributed to the target (action owners, the
agencies that opened its pack, the lead), each told why, and to nobody else; a flag that merely matches is not
a contribution."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from slack_requests import block_actions_payload, send_action
from sqlalchemy import select

from models import ChatIdentity, Member, Partnership, Section
from models.planning import plan_day

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def _slack(factory) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with factory() as session:
        return dict(session.execute(select(Member.key, ChatIdentity.user_id).join(
            ChatIdentity, ChatIdentity.member_id == Member.id)).all())


def _told(env) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Slack user -> the text of the outcome or feedback DM they received about OCG-07 (if any)."""
    told: dict[str, str] = {}
    for call in env.fake.calls_to("conversations.open"):
        users = call.args["users"] if isinstance(call.args["users"], list) else call.args["users"].split(",")
        for post in env.posts_to(call.response["channel"]["id"]):
            blocks = json.dumps(post.get("blocks"))
            if "What your information led to: OCG-07" in blocks or "Outcome for action #1 on OCG-07" in blocks:
                told.update({u: blocks for u in users})
    return told


def test_outcome_tells_the_contributors_why_and_nobody_else(slack_env) -> None:  # type: ignore[no-untyped-def]
    from slack_harness import SECRET

    env = slack_env
    env.clock.set(NOW)
    ids = _slack(env.factory)
    assert env.command("U0JO", "/agenda", "publish 2026-12-08").status == 200
    env.drain()
    with env.factory() as session:
        section_id = next(str(s.id) for s in session.scalars(select(Section)) if "OCG-07" in s.target_refs)
    # mark.dunn (housing, entitled to OCG-07) opens the pack: housing contributed
    env.press(ids["mark.dunn"], "pack.view", section_id)
    payload = block_actions_payload("pack.accept", section_id, user_id=ids["mark.dunn"],
                                    view={"id": "V0PACK", "type": "modal"})
    assert send_action(env.url, SECRET, payload)[0] == 200

    created = env.command("U0TOM", "/action", "OCG-07 @sam.patel check benefit claims by 2026-12-30")
    assert "Action #1" in created.text, created.text
    closed = env.command("U0SAM", "/outcome", "1 claims suspended pending review benefit-sanction")
    assert "Action #1 closed" in closed.text, closed.text
    env.drain()
    told = _told(env)
    with env.factory() as session:
        housing = sorted(m.key for m in session.scalars(select(Member)) if m.agency.key == "housing" and m.active)

    with env.factory() as session:
        day = plan_day(session, session.scalar(select(Partnership)), date(2026, 12, 8))
        ocg07 = next(sl for s in day.sections for sl in s.slots if sl.target == "OCG-07")
    entitled_housing = [k for k in housing if k in ocg07.members]
    expected = {ids[k] for k in ["tom.ashby", *entitled_housing] if k in ids}
    assert set(told) == expected  # the lead (who recorded it) and housing; not sam, who closed it
    assert "opened the pack for OCG-07" in told[ids["mark.dunn"]]
    # DWP and others merely matching a flag are not told; nor is anyone not entitled to OCG-07
    assert not {ids[k] for k in ids if k not in ocg07.members and k not in ("jo.bloggs", "rose.gill")} & set(told)
    for post in env.fake.calls_to("chat.postMessage"):
        assert "Cannabis cultivation" not in json.dumps(post.args)
    env.fake.assert_no_rejections()
