"""Spaces follow the partnership: after publication, any change to the people or the rule's inputs re-syncs the
published meeting's section spaces, invitations, itineraries and statements within one worker cycle, without a
re-publish; a cycle with nothing changed sends nothing and writes nothing."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from slack_harness import SECRET
from slack_requests import block_actions_payload, send_action
from sqlalchemy import func, select

from bot.scheduler import JOBS
from models import Agency, AuditEvent, Invitation, Member, OutboxMessage, Partnership, Section
from models.planning import plan_day

DAY = "2026-12-08"
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def _follow(env) -> str:  # type: ignore[no-untyped-def]
    said = JOBS["follow-partnership"].run(env.factory, env.clock(), {})
    env.drain()
    return said


def _counts(factory) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    with factory() as session:
        return (session.scalar(select(func.count()).select_from(OutboxMessage)) or 0,
                session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


def _spaces(env) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {c.args["name"]: c.response["channel"]["id"] for c in env.fake.calls_to("conversations.create")}


def test_a_removed_member_and_a_lapsed_isp_leave_the_spaces_within_one_cycle(slack_env) -> None:  # type: ignore[no-untyped-def]
    env = slack_env
    env.clock.set(NOW)
    assert env.command("U0JO", "/agenda", f"publish {DAY}").status == 200
    env.drain()

    before = _counts(env.factory)
    assert _follow(env) == "0 messages queued to keep published meetings in step"
    assert _counts(env.factory) == before  # nothing changed: nothing sent, nothing logged

    with env.factory() as session:
        p = session.scalar(select(Partnership))
        day = plan_day(session, p, date.fromisoformat(DAY))
        section = next(s for s in day.sections if "sam.patel" in s.members)
        space = _spaces(env)[f"oneday-{DAY}-{section.cohort}"]
        sam = session.scalar(select(Member).where(Member.key == "sam.patel"))
        assert sam is not None
        section_id = session.scalar(select(Section.id).where(Section.space_ref == space))
        # somebody accepted the statement before the change
        inv = session.scalar(select(Invitation).where(Invitation.section_id == section_id,
                                                      Invitation.member_id == sam.id))
        assert inv is not None
    assert "U0SAM" in env.fake.members(space)
    # tom.ashby (police, in the same section) accepts the statement before the change
    assert "tom.ashby" in section.members
    env.press("U0TOM", "pack.view", str(section_id))
    payload = block_actions_payload("pack.accept", str(section_id), user_id="U0TOM",
                                    view={"id": "V0PACK", "type": "modal"})
    assert send_action(env.url, SECRET, payload)[0] == 200
    with env.factory() as session:
        accepted = session.scalars(select(Invitation.confidentiality_accepted_at).where(
            Invitation.section_id == section_id, Invitation.confidentiality_accepted_at.is_not(None))).all()
        assert accepted

    # DWP's ISP lapses: DWP's members leave every space at the next cycle, and are told
    with env.factory() as session:
        dwp = session.scalar(select(Agency).where(Agency.key == "dwp"))
        assert dwp is not None
        dwp.isp_signed = "2025-1"
        session.commit()
    said = _follow(env)
    assert said != "0 messages queued to keep published meetings in step"
    assert "U0SAM" not in env.fake.members(space)
    uploads = [json.dumps(c.args) for c in env.fake.calls_to("files.completeUploadExternal")
               if c.args.get("channel_id") == env.dm_channel("U0SAM")]
    assert any("no longer invited to any section" in text for text in uploads), uploads
    with env.factory() as session:
        remaining = session.scalars(select(Invitation).where(Invitation.section_id == section_id,
                                                             Invitation.member_id.is_not(None))).all()
        assert sam.id not in {i.member_id for i in remaining}
        # the attendees changed: everyone left reads the statement again before the next showing
        assert all(i.confidentiality_accepted_at is None for i in remaining)
    assert env.press("U0SAM", "pack.view", str(section_id)) == 200
    assert "either it doesn't exist or you are not in that section" in json.dumps(env.responses()[-1])

    # a member removed (made inactive) leaves too, within one cycle
    with env.factory() as session:
        member = session.scalar(select(Member).where(Member.key == "mark.dunn"))
        assert member is not None
        member.active = False
        session.commit()
    _follow(env)
    assert "U0MARK" not in {u for s in _spaces(env).values() for u in env.fake.members(s)}
