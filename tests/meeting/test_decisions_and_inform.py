"""`/decision` and `/inform` through the runner on the Northtown sample, published for Tuesday 8 December 2026.

Who is who on OCG-07: tom.ashby leads it; sam.patel (DWP) is entitled to it; rose.gill chairs; bea.morris is not
entitled to it. Each refusal says the same words whether the reference exists or not, writes nothing but its
audit row, and nothing about a target goes anywhere but to one entitled member.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from actions_support import reply_text
from sqlalchemy import func, select

from bot import db
from bot.clock import TickingClock
from bot.config import DEFAULT_COMMANDS
from bot.runner import Request, Runner
from commands.core import router
from commands.core.replies import Result
from models import AuditEvent, Decision, DiscussionStatus, PartnerInformation, Section, TargetDiscussion

PUBLISHED = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
MEETING = datetime(2026, 12, 8, 11, 0, tzinfo=UTC)
NOT_SEEN = ("You can't see '{}': either it doesn't exist or you are not in its section. If you think you should "
            "be, ask your coordinator.")


@pytest.fixture
def env(northtown_loaded):  # type: ignore[no-untyped-def]
    clock = TickingClock(PUBLISHED)
    runner = Runner(factory=northtown_loaded, names=dict(DEFAULT_COMMANDS), clock=clock)
    return runner, clock


def say(runner: Runner, user: str, intent: str, text: str) -> Result:
    return runner.run(Request("slack", "T0TEST", user, intent, text), lambda _u: None)


def publish(runner: Runner) -> None:
    assert "Published the agenda" in reply_text(say(runner, "U0JO", "agenda", "publish 2026-12-08"))
    with db.unit_of_work(runner.factory) as session:
        for s in session.scalars(select(Section)):
            s.space_ref = f"C0{s.cohort.key.upper().replace('-', '')}"


def count(factory, entity) -> int:  # type: ignore[no-untyped-def]
    with factory() as session:
        return session.scalar(select(func.count()).select_from(entity)) or 0


def audit(factory, kind: str) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    with factory() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.kind == kind).order_by(AuditEvent.id)))


def test_a_decision_needs_a_published_meeting_that_had_the_target(env) -> None:  # type: ignore[no-untyped-def]
    runner, _clock = env
    said = reply_text(say(runner, "U0ROSE", "decision", "OCG-07 discussed"))
    assert "OCG-07 has not been on a published agenda up to today" in said
    assert "Example: /decision OCG-07 escalated refer to ROCU tasking" in said
    assert count(runner.factory, TargetDiscussion) == 0


def test_the_chair_sets_status_and_decisions_and_the_record_reads_back(env) -> None:  # type: ignore[no-untyped-def]
    runner, clock = env
    publish(runner)
    clock.set(MEETING)
    collected = len(audit(runner.factory, "collection"))
    said = reply_text(say(runner, "U0ROSE", "decision", "OCG-07 escalated refer to ROCU tasking"))
    assert "Recorded for OCG-07" in said and "status: escalated" in said
    assert "decision: refer to ROCU tasking" in said
    assert "Tuesday 8 December 2026" in said
    # the lead officer records too; a later status replaces the earlier one (one per target per meeting)
    say(runner, "U0TOM", "decision", "OCG-07 closed: licence recall requested")
    with runner.factory() as session:
        rows = session.scalars(select(TargetDiscussion)).all()
        assert [(r.status, r.set_by.key) for r in rows] == [(DiscussionStatus.CLOSED, "tom.ashby")]
        decisions = session.scalars(select(Decision).order_by(Decision.id)).all()
        assert [(d.text, d.recorded_by.key) for d in decisions] == [("refer to ROCU tasking", "rose.gill"),
                                                                    ("licence recall requested", "tom.ashby")]
    events = audit(runner.factory, "collection")[collected:]
    assert [(e.actor, e.target_ref) for e in events] == [("member:rose.gill", "OCG-07"), ("member:tom.ashby", "OCG-07")]
    # an entitled partner reads the record; the showing is logged
    shown = reply_text(say(runner, "U0SAM", "decision", "OCG-07"))
    assert "Status: closed (set by Tom Ashby)" in shown
    assert "Decision (Rose Gill): refer to ROCU tasking" in shown
    assert audit(runner.factory, "consultation")[-1].recipients == ["sam.patel"]


def test_only_chair_coordinator_or_lead_record_and_outsiders_learn_nothing(env) -> None:  # type: ignore[no-untyped-def]
    runner, clock = env
    publish(runner)
    clock.set(MEETING)
    refused = reply_text(say(runner, "U0SAM", "decision", "OCG-07 closed"))
    assert "Only the chair, a coordinator or OCG-07's lead officer records its status and decisions" in refused
    # not entitled: the same words as for a reference that does not exist
    assert reply_text(say(runner, "U0BEA", "decision", "OCG-07 closed")).strip() == NOT_SEEN.format("OCG-07")
    assert reply_text(say(runner, "U0BEA", "decision", "ZZZ-99 closed")).strip() == NOT_SEEN.format("ZZZ-99")
    assert reply_text(say(runner, "U0BEA", "decision", "OCG-07")).strip() == NOT_SEEN.format("OCG-07")
    assert count(runner.factory, TargetDiscussion) == 0 and count(runner.factory, Decision) == 0
    assert len(audit(runner.factory, "refusal")) == 4


def test_inform_goes_to_the_lead_alone_and_into_the_next_pack(env) -> None:  # type: ignore[no-untyped-def]
    runner, clock = env
    result = say(runner, "U0SAM", "inform", "OCG-07 seen at the Riverside flats with a new vehicle")
    assert "Sent to Tom Ashby, the lead officer" in reply_text(result)
    [notice] = result.notices
    assert (notice.to.kind, notice.to.ref, notice.about) == ("member", "tom.ashby", ("OCG-07",))
    assert "seen at the Riverside flats with a new vehicle" in notice.message.lines
    with runner.factory() as session:
        [info] = session.scalars(select(PartnerInformation)).all()
        assert (info.from_member.key, info.target.ref) == ("sam.patel", "OCG-07")
    [event] = [e for e in audit(runner.factory, "collection") if e.what == "information from a partner"]
    assert (event.actor, event.target_ref, event.recipients) == ("member:sam.patel", "OCG-07", ["tom.ashby"])
    # the lead informing about their own target is kept, with no message to themselves
    assert say(runner, "U0TOM", "inform", "OCG-07 moved address last week").notices == ()

    publish(runner)
    with runner.factory() as session:
        ocg = session.scalar(select(Section).where(Section.space_ref == "C0OCG"))
        assert ocg is not None
        section_id = ocg.id
    opened = runner.run(Request("slack", "T0TEST", "U0ROSE", "button:pack.accept", ""), lambda _u: None,
                        lambda caller: router.press("pack.accept", caller, str(section_id)))
    assert opened.modal is not None
    pack = "\n".join(opened.modal.lines)
    assert "seen at the Riverside flats with a new vehicle" in pack and "From Sam Patel (" in pack


def test_inform_refuses_outsiders_and_bad_input_without_writing(env) -> None:  # type: ignore[no-untyped-def]
    runner, _clock = env
    assert reply_text(say(runner, "U0BEA", "inform", "OCG-07 something")).strip() == NOT_SEEN.format("OCG-07")
    assert reply_text(say(runner, "U0BEA", "inform", "ZZZ-99 something")).strip() == NOT_SEEN.format("ZZZ-99")
    empty = reply_text(say(runner, "U0SAM", "inform", "OCG-07"))
    assert "say what you know about OCG-07 after its reference" in empty
    assert "Example: /inform OCG-07 seen at the Riverside flats with a new vehicle" in empty
    long = reply_text(say(runner, "U0SAM", "inform", "OCG-07 " + "x" * 2001))
    assert "information is at most 2000 characters (this is 2001)" in long
    assert count(runner.factory, PartnerInformation) == 0


def test_the_decision_form_records_the_same_way(env) -> None:  # type: ignore[no-untyped-def]
    from actions_support import submit

    runner, clock = env
    publish(runner)
    clock.set(MEETING)
    opened = say(runner, "U0ROSE", "decision", "")
    assert opened.form is not None and opened.form.callback == "decision.record"
    assert "OCG-07" in {value for value, _label in opened.form.fields[0].choices}
    empty = submit(runner, "U0ROSE", "decision.record", {"target": "OCG-07", "status": "", "decision": ""})
    assert empty.field_errors == {"decision": "choose a status or write what was decided"}
    done = submit(runner, "U0ROSE", "decision.record", {"target": "OCG-07", "status": "deferred",
                                                          "decision": "await the CPS charging decision"})
    assert "status: deferred" in reply_text(done)
    with runner.factory() as session:
        assert [d.text for d in session.scalars(select(Decision))] == ["await the CPS charging decision"]
    outsider = submit(runner, "U0BEA", "decision.record", {"target": "OCG-07", "status": "closed", "decision": ""})
    assert reply_text(outsider).strip() == NOT_SEEN.format("OCG-07")
