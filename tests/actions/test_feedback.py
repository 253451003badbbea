"""The feedback loop end to end: an outcome is told to the contributing agencies' section members, nobody else."""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import select

from commands.agenda.plan_json import plan
from models import ChatIdentity, Member, Partnership


def expected_recipients(factory) -> set[str]:  # type: ignore[no-untyped-def]
    """Computed from the published rule, independently of commands/actions/feedback.py."""
    with factory() as session:
        p = session.scalar(select(Partnership))
        day = plan(session, p, date(2026, 12, 8))
        [ocg] = [s for s in day["sections"] if s["cohort"] == "ocg"]
        contributing = {a["key"] for a in ocg["agencies"]
                        if any(r.startswith("flag:") and r.endswith("(OCG-07)") for r in a["reasons"])}
        contributing.add("dwp")  # the owner's agency (sam.patel) owned an action on OCG-07
        members = session.scalars(select(Member).where(Member.key.in_(ocg["members"]))).all()
        keys = {m.key for m in members if m.agency.key in contributing}
        ids = dict(session.execute(select(Member.key, ChatIdentity.user_id).join(
            ChatIdentity, ChatIdentity.member_id == Member.id)).all())
        return {ids[k] for k in keys if k in ids}


def test_outcome_tells_contributing_agencies_section_members_and_nobody_else(slack_env) -> None:  # type: ignore[no-untyped-def]
    env = slack_env
    created = env.command("U0TOM", "/action", "OCG-07 @sam.patel check benefit claims by 2026-12-30")
    assert "Action #1" in created.text, created.text
    closed = env.command("U0SAM", "/outcome", "1 claims suspended pending review benefit-sanction")
    assert "Action #1 closed" in closed.text, closed.text
    env.drain()
    told = set()
    for call in env.fake.calls_to("conversations.open"):
        users = call.args["users"] if isinstance(call.args["users"], list) else call.args["users"].split(",")
        channel = call.response["channel"]["id"]
        for post in env.posts_to(channel):
            blocks = json.dumps(post.get("blocks"))
            if "What your information led to: OCG-07" in blocks or "Outcome for action #1 on OCG-07" in blocks:
                told.update(users)
    # the recorder (tom, the lead) gets the outcome itself; the other contributors the feedback message;
    # the one who closed it is not told
    expected = expected_recipients(env.factory) - {"U0SAM"}
    assert told == expected
    assert "U0SAM" not in told
    assert len(told) >= 3  # police, housing and DWP-side partners at least
    # nobody outside the section, and nothing about the target's details
    for post in env.fake.calls_to("chat.postMessage"):
        assert "Cannabis cultivation" not in json.dumps(post.args)
    env.fake.assert_no_rejections()
