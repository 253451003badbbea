"""Publishing the day and viewing packs, end to end: signed HTTP into bolt, the outbox, the fake Slack.

Each test asserts what people received at the wire (channels created, members, posts, uploads, modals) and
what the processing log holds.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import icalendar
import pytest
from slack_requests import block_actions_payload, send_action
from sqlalchemy import func, select

from bot import db
from models import Agency, AuditEvent, Invitation, Member, OutboxMessage, Partnership, Section, Target
from models.planning import plan_day

DAY = "2026-12-08"
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def env(slack_env):  # type: ignore[no-untyped-def]
    """Commands run at NOW (a week before the meeting); the sender's clock ticks on from NOW, so its
    per-channel pacing still lets rows fall due."""
    slack_env.clock.set(NOW)
    return slack_env


def plan(factory):  # type: ignore[no-untyped-def]
    with factory() as session:
        p = session.scalar(select(Partnership))
        return plan_day(session, p, date.fromisoformat(DAY))


def slack_ids(factory) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with factory() as session:
        return {m.key: m.identity("slack") for m in session.scalars(select(Member)) if m.identity("slack")}


def sample_secrets(factory) -> tuple[list[str], list[str]]:  # type: ignore[no-untyped-def]
    """Every target details summary and every member name in the sample: none may reach a channel."""
    with factory() as session:
        summaries = [t.details.summary for t in session.scalars(select(Target)) if t.details]
        names = [m.name for m in session.scalars(select(Member))]
    return summaries, names


def publish(env, user: str = "U0JO") -> str:  # type: ignore[no-untyped-def]
    answer = env.command(user, "/agenda", f"publish {DAY}")
    assert answer.status == 200
    env.drain()
    return answer.text


def created_spaces(env) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """channel name -> id of every conversations.create."""
    return {c.args["name"]: c.response["channel"]["id"] for c in env.fake.calls_to("conversations.create")}


def press_in_view(env, user: str, action_id: str, value: str) -> int:  # type: ignore[no-untyped-def]
    from slack_harness import SECRET

    payload = block_actions_payload(action_id, value, user_id=user, view={"id": "V0PACK", "type": "modal"})
    status, _, _ = send_action(env.url, SECRET, payload)
    return status


def section_ids(factory) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with factory() as session:
        return {s.cohort.key: s.id for s in session.scalars(select(Section))}


def test_publish_creates_private_spaces_posts_pointers_and_sends_itineraries(env) -> None:  # type: ignore[no-untyped-def]
    day_plan = plan(env.factory)
    ids = slack_ids(env.factory)
    text = publish(env)
    assert "Published the agenda" in text

    spaces = created_spaces(env)
    assert sorted(spaces) == sorted(f"oneday-{DAY}-{s.cohort}" for s in day_plan.sections)
    for call in env.fake.calls_to("conversations.create"):
        assert call.args["is_private"] in (True, "1", "true")
    for s in day_plan.sections:
        space = spaces[f"oneday-{DAY}-{s.cohort}"]
        expected = sorted(ids[m] for m in s.members if m in ids)
        assert sorted(set(env.fake.members(space)) - {"UBOT"}) == expected
        [pointer] = env.posts_to(space)
        assert not [ref for ref in s.targets if ref in json.dumps(pointer)]  # the space holds every slot's people
        assert "View pack" in json.dumps(pointer["blocks"]) and s.name in json.dumps(pointer["blocks"])

    summaries, names = sample_secrets(env.factory)
    [overview] = env.posts_to("C0MEET")
    overview_text = json.dumps(overview)
    refs = [r for s in day_plan.sections for r in s.targets]
    assert not [r for r in refs if r in overview_text]
    for s in day_plan.sections:
        assert s.name in overview_text
    chat = [json.dumps(c.args) for c in env.fake.calls_to("chat.postMessage")]
    assert not [x for x in summaries + names for c in chat if x in c]

    # one DM per invited member with a Slack account, carrying a parseable .ics of their sections
    uploads = env.fake.calls_to("files.completeUploadExternal")
    by_channel: dict[str, list] = {}
    for u in uploads:
        by_channel.setdefault(u.args["channel_id"], []).append(u)
    for member, stops in day_plan.itineraries.items():
        if member not in ids:
            continue
        [upload] = by_channel[env.dm_channel(ids[member])]
        file_id = upload.args["files"][0]["id"]
        cal = icalendar.Calendar.from_ical(env.fake.uploaded(file_id))
        events = [e for e in cal.walk("VEVENT")]
        assert [str(e["uid"]).split(".")[0] for e in events] == [f"{DAY}-{stop.cohort}" for stop in stops]
        for e, stop in zip(events, stops, strict=True):
            assert e.decoded("dtstart") == stop.start and e.decoded("dtstart").utcoffset().total_seconds() == 0
            assert e["dtstart"].params["TZID"] == "Europe/London"
    assert len(uploads) == len([m for m in day_plan.itineraries if m in ids])
    assert not [c for c in env.fake.calls_to("chat.postMessage") if str(c.args["channel"]).startswith("D")]
    env.fake.assert_no_rejections()


def test_publishing_again_sends_nothing_new(env) -> None:  # type: ignore[no-untyped-def]
    publish(env)
    section_id = section_ids(env.factory)["ocg"]
    press_in_view(env, "U0ROSE", "pack.accept", str(section_id))
    with env.factory() as session:
        rows = session.scalar(select(func.count()).select_from(OutboxMessage))
    calls = len(env.fake.calls)
    text = publish(env)
    assert "Nothing changed" in text
    with env.factory() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == rows
        assert session.scalar(select(func.count()).select_from(Section)) == len(plan(env.factory).sections)
    assert len(env.fake.calls) == calls
    assert len(env.fake.calls_to("conversations.create")) == len(plan(env.factory).sections)
    # nothing changed, so the chair's acceptance stands: View pack opens the pack directly
    env.press("U0ROSE", "pack.view", str(section_id))
    [pack] = env.modals()
    assert "Section pack" in json.dumps(pack) and "I accept" not in json.dumps(pack)


def test_republish_after_a_new_flag_adds_exactly_the_new_agencys_members(env) -> None:  # type: ignore[no-untyped-def]
    publish(env)
    before = plan(env.factory)
    gangs = next(s for s in before.sections if s.cohort == "gangs")
    section_id = section_ids(env.factory)["gangs"]
    env.press("U0JO", "pack.view", str(section_id))
    press_in_view(env, "U0JO", "pack.accept", str(section_id))
    assert len(env.fake.calls_to("views.update")) == 1  # the coordinator accepted and saw the pack
    assert "dwp" not in [a.key for a in gangs.relevance.agencies]
    with db.unit_of_work(env.factory) as session:
        target = session.scalar(select(Target).where(Target.ref == gangs.targets[0]))
        target.flags = [*target.flags, "benefits"]
    after = plan(env.factory)
    new_gangs = next(s for s in after.sections if s.cohort == "gangs")
    added = set(new_gangs.members) - set(gangs.members)
    assert added and not set(gangs.members) - set(new_gangs.members)
    ids = slack_ids(env.factory)
    space = created_spaces(env)[f"oneday-{DAY}-gangs"]
    posts_before = len(env.fake.calls_to("chat.postMessage"))
    uploads_before = len(env.fake.calls_to("files.completeUploadExternal"))

    publish(env)
    assert len(env.fake.calls_to("conversations.create")) == len(before.sections)
    invited = [u for c in env.fake.calls_to("conversations.invite") if c.args["channel"] == space
               for u in c.args["users"].split(",")]
    assert sorted(set(env.fake.members(space)) - {"UBOT"}) == sorted(ids[m] for m in new_gangs.members if m in ids)
    assert env.fake.calls_to("conversations.kick") == []
    assert {ids[m] for m in added} <= set(invited)
    # the changed plan posts an updated overview; the gangs pointer is unchanged (same refs, time, marking)
    new_posts = env.fake.calls_to("chat.postMessage")[posts_before:]
    assert [p.args["channel"] for p in new_posts] == ["C0MEET"]
    assert "updated" in new_posts[0].args["text"]
    # the newly invited members, and those whose slots changed, get their updated itinerary; nobody else
    def slots_of(day_plan, member):  # type: ignore[no-untyped-def]
        return [[t.target for t in stop.slots] for stop in day_plan.itineraries.get(member, ())]
    changed = {m for m in set(before.itineraries) | set(after.itineraries) if slots_of(before, m) != slots_of(after, m)}
    assert added <= changed
    new_uploads = env.fake.calls_to("files.completeUploadExternal")[uploads_before:]
    assert sorted(u.args["channel_id"] for u in new_uploads) == sorted(env.dm_channel(ids[m]) for m in changed
                                                                        if m in ids)
    new_uploads = [u for u in new_uploads if u.args["channel_id"] in {env.dm_channel(ids[m]) for m in added}]
    cal = icalendar.Calendar.from_ical(env.fake.uploaded(new_uploads[0].args["files"][0]["id"]))
    assert f"{DAY}-gangs.northtown@oneday" in [str(e["uid"]) for e in cal.walk("VEVENT")]
    assert all(int(e["sequence"]) == 1 for e in cal.walk("VEVENT"))
    # the section's attendees changed: the statement is read again before the next showing
    env.press("U0JO", "pack.view", str(section_id))
    assert "I accept" in json.dumps(env.modals()[-1])


def _uninvited(factory, cohort: str) -> str:  # type: ignore[no-untyped-def]
    """A Slack user whose agency the plan does not put in the section (chosen from the plan, not guessed)."""
    day_plan = plan(factory)
    section = next(s for s in day_plan.sections if s.cohort == cohort)
    with factory() as session:
        for m in session.scalars(select(Member).order_by(Member.key)):
            if m.key not in section.members and m.identity("slack") and not m.has_role("coordinator", "chair"):
                return m.identity("slack")
    raise AssertionError("the sample has no uninvited member with Slack for this section")


def test_uninvited_member_sees_nothing_and_the_attempt_is_audited(env) -> None:  # type: ignore[no-untyped-def]
    publish(env)
    section_id = section_ids(env.factory)["gangs"]
    outsider = _uninvited(env.factory, "gangs")
    summaries, _ = sample_secrets(env.factory)
    assert env.press(outsider, "pack.view", str(section_id)) == 200
    space = created_spaces(env)[f"oneday-{DAY}-gangs"]
    show = env.command(outsider, "/agenda", "show", channel=space)
    assert "can't see that section" in show.text
    assert env.modals() == []
    [response] = env.responses()
    assert "can't see that section" in json.dumps(response)
    seen = json.dumps(env.responses()) + show.text
    assert not [s for s in summaries if s in seen]
    with env.factory() as session:
        refusals = session.scalars(select(AuditEvent).where(AuditEvent.kind == "refusal")).all()
        consultations = session.scalar(select(func.count()).select_from(AuditEvent)
                                       .where(AuditEvent.kind == "consultation"))
    assert len(refusals) == 2 and consultations == 0


def test_invited_member_accepts_the_statement_then_sees_the_pack_and_it_is_logged(env) -> None:  # type: ignore[no-untyped-def]
    publish(env)
    day_plan = plan(env.factory)
    gangs = next(s for s in day_plan.sections if s.cohort == "gangs")
    section_id = section_ids(env.factory)["gangs"]
    ids = slack_ids(env.factory)
    member = next(m for m in gangs.members if m in ids and m not in gangs.relevance.leads.values()
                  and len([t for t in gangs.slots if m in t.members]) < len(gangs.slots))
    user = ids[member]
    mine = [t.target for t in gangs.slots if member in t.members]
    others = [t.target for t in gangs.slots if member not in t.members]
    with env.factory() as session:
        summaries = {t.ref: t.details.summary for t in session.scalars(select(Target)) if t.details}

    assert env.press(user, "pack.view", str(section_id)) == 200
    [statement] = env.modals()
    assert "I accept" in json.dumps(statement) and "Gangs" in json.dumps(statement)
    assert not [s for s in summaries.values() if s in json.dumps(statement)]
    with env.factory() as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.kind == "consultation")) == 0

    assert press_in_view(env, user, "pack.accept", str(section_id)) == 200
    [update] = env.fake.calls_to("views.update")
    shown = json.dumps(update.args["view"])
    assert all(summaries[ref] in shown for ref in mine)  # only the targets they are entitled to
    assert not [ref for ref in others if ref in shown or summaries[ref] in shown]
    with env.factory() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.kind == "consultation")).all()
        assert sorted(e.target_ref for e in events) == sorted(mine)
        assert {e.justification for e in events} == {f"{DAY} gangs section pack"}
        assert {tuple(e.recipients) for e in events} == {(member,)}
        m = session.scalar(select(Member).where(Member.key == member))
        inv = session.scalar(select(Invitation).where(Invitation.section_id == section_id,
                                                      Invitation.member_id == m.id))
        assert inv.confidentiality_accepted_at is not None

    # accepted once for this section: /agenda show in its channel goes straight to the pack
    space = created_spaces(env)[f"oneday-{DAY}-gangs"]
    env.command(user, "/agenda", "show", channel=space)
    modals = env.modals()
    assert len(modals) == 2 and all(summaries[ref] in json.dumps(modals[1]) for ref in mine)
    with env.factory() as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.kind == "consultation")) == 2 * len(mine)


def test_entitlement_is_checked_at_every_press(env) -> None:  # type: ignore[no-untyped-def]
    """A member invited at publication whom the rule no longer puts in the section is refused, though the
    pointer's button is still in the channel."""
    publish(env)
    section_id = section_ids(env.factory)["ocg"]
    assert "sam.patel" in next(s for s in plan(env.factory).sections if s.cohort == "ocg").members
    with db.unit_of_work(env.factory) as session:
        dwp = session.scalar(select(Agency).where(Agency.key == "dwp"))
        dwp.flags = []  # DWP no longer holds anything relevant to the section's targets
    assert "sam.patel" not in next(s for s in plan(env.factory).sections if s.cohort == "ocg").members
    assert env.press("U0SAM", "pack.view", str(section_id)) == 200
    assert env.modals() == []
    assert "can't see that section" in json.dumps(env.responses())
    with env.factory() as session:
        [refusal] = session.scalars(select(AuditEvent).where(AuditEvent.kind == "refusal")).all()
        assert refusal.actor == "member:sam.patel" and f"section {section_id}" in refusal.what


def test_plan_and_publish_are_for_coordinators(env) -> None:  # type: ignore[no-untyped-def]
    preview = env.command("U0JO", "/agenda", f"plan {DAY}")
    assert "preview" in preview.text and "EXCLUDED dvla (isp)" in preview.text and "cohort:ocg" in preview.text
    for verb in ("plan", "publish"):
        refused = env.command("U0SAM", "/agenda", f"{verb} {DAY}")
        assert "Only a coordinator" in refused.text
    bad = env.command("U0JO", "/agenda", "publish 8/12/2026")
    assert "YYYY-MM-DD" in bad.text and "/agenda publish 2026-12-08" in bad.text
    env.drain()
    assert env.fake.calls_to("conversations.create") == []
    with env.factory() as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.kind == "refusal")) == 2
