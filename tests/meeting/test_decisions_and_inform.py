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


# --------------------------------------------------------------------- personal data (commands/actions/personal.py)

FOUND = "contains a postcode (NT1 4AB) and a phone number (07700 900123)."
WHY = "Personal details belong in the pack, not in chat: messages are kept and can be exported."


def buttons(result: Result) -> dict[str, tuple[str, str]]:
    return {b.label: (b.action, b.value) for b in result.reply.buttons}


def written(factory) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {e.__tablename__: count(factory, e) for e in (TargetDiscussion, Decision, PartnerInformation, AuditEvent)}


def test_a_decision_with_personal_data_is_shown_to_its_author_and_nothing_is_saved(env) -> None:  # type: ignore[no-untyped-def]
    from actions_support import press

    runner, clock = env
    publish(runner)
    clock.set(MEETING)
    before = written(runner.factory)
    asked = say(runner, "U0ROSE", "decision", "OCG-07 escalated move him from NT1 4AB, ring 07700 900123")
    assert asked.reply.title == "Check for personal details"
    assert asked.reply.lines[:2] == (f"This decision {FOUND}", WHY)
    assert ("Status", "escalated") in asked.reply.fields
    assert list(buttons(asked)) == ["Edit", "Save as written"]
    assert written(runner.factory) == before  # neither the status nor the decision, nor a log row
    # Edit: the decision form, filled in as typed
    edit = press(runner, "rose", *buttons(asked)["Edit"])
    assert edit.form is not None and edit.form.callback == "decision.record"
    assert [f.initial for f in edit.form.fields] == ["OCG-07", "escalated", "move him from NT1 4AB, ring 07700 900123"]
    # someone who may not record it presses Save as written: refused, nothing saved
    assert "Only the chair" in reply_text(press(runner, "sam", *buttons(asked)["Save as written"]))
    assert count(runner.factory, Decision) == 0
    saved = press(runner, "rose", *buttons(asked)["Save as written"])
    assert "status: escalated" in reply_text(saved)
    with runner.factory() as session:
        assert [d.text for d in session.scalars(select(Decision))] == ["move him from NT1 4AB, ring 07700 900123"]
    logged = audit(runner.factory, "collection")[-1].what
    assert logged == ("meeting record: status escalated and decision; the author kept personal data as written: "
                      "postcode, phone number")


def test_the_decision_form_asks_again_until_the_text_is_what_its_author_saw(env) -> None:  # type: ignore[no-untyped-def]
    from actions_support import submit

    runner, clock = env
    publish(runner)
    clock.set(MEETING)
    values = {"target": "OCG-07", "status": "", "decision": "seen at NT1 4AB with 07700 900123"}
    asked = submit(runner, "U0ROSE", "decision.record", values)
    assert asked.reply.title == "Check for personal details" and asked.reply.lines[0] == f"The decision {FOUND}"
    assert asked.form is not None and asked.form.submit == "Save as written" and asked.form.context.startswith("kept:")
    assert count(runner.factory, Decision) == 0
    # edited to hold other details: asked again
    other = submit(runner, "U0ROSE", "decision.record", dict(values, decision="seen at NT2 5AB"),
                   asked.form.context)
    assert other.reply.lines[0] == "The decision contains a postcode (NT2 5AB)."
    assert count(runner.factory, Decision) == 0
    # submitted as it was shown: saved
    assert "Recorded for OCG-07" in reply_text(submit(runner, "U0ROSE", "decision.record", values,
                                                      asked.form.context))
    assert count(runner.factory, Decision) == 1


def test_a_decision_too_long_for_a_button_asks_through_the_form(env) -> None:  # type: ignore[no-untyped-def]
    runner, clock = env
    publish(runner)
    clock.set(MEETING)
    text = "seen at NT1 4AB " + "y" * 1980
    asked = say(runner, "U0ROSE", "decision", f"OCG-07 {text}")
    assert asked.reply.title == "Check for personal details" and not asked.reply.buttons
    assert asked.form is not None and asked.form.fields[2].initial == text
    assert count(runner.factory, Decision) == 0


def test_inform_with_personal_data_is_sent_only_when_its_author_chooses(env) -> None:  # type: ignore[no-untyped-def]
    from actions_support import press

    runner, _clock = env
    before = written(runner.factory)
    asked = say(runner, "U0SAM", "inform", "OCG-07 now living at NT1 4AB, mobile 07700 900123")
    assert asked.reply.title == "Check for personal details"
    assert asked.reply.lines[:2] == (f"This information {FOUND}", WHY)
    assert asked.notices == () and written(runner.factory) == before
    edit = press(runner, "sam", *buttons(asked)["Edit"])
    assert "Example" not in reply_text(edit) and edit.notices == ()
    assert edit.reply.lines[-1] == "/inform OCG-07 now living at [postcode], mobile [phone number]"
    assert written(runner.factory) == before
    # not entitled to OCG-07: the same refusal as ever, nothing sent
    assert reply_text(press(runner, "bea", *buttons(asked)["Save as written"])).strip() == NOT_SEEN.format("OCG-07")
    sent = press(runner, "sam", *buttons(asked)["Save as written"])
    assert "Sent to Tom Ashby, the lead officer" in reply_text(sent)
    assert [n.to.ref for n in sent.notices] == ["tom.ashby"]
    [event] = [e for e in audit(runner.factory, "collection") if e.what.startswith("information from a partner")]
    assert event.what == "information from a partner; the author kept personal data as written: postcode, phone number"
    # a button whose text was changed since: asked again, nothing sent
    action_id, value = buttons(asked)["Save as written"]
    forged = press(runner, "sam", action_id, value.replace("NT1 4AB", "NT2 5AB"))
    assert forged.reply.title == "Check for personal details" and forged.notices == ()
    assert count(runner.factory, PartnerInformation) == 1


def test_inform_too_long_for_a_button_is_not_offered_as_written(env) -> None:  # type: ignore[no-untyped-def]
    runner, _clock = env
    info = "at NT1 4AB " + "z" * 1980
    asked = say(runner, "U0SAM", "inform", f"OCG-07 {info}")
    assert list(buttons(asked)) == ["Edit"]
    assert f"too long ({len(info)} characters) to send as written from a button" in reply_text(asked)
    assert count(runner.factory, PartnerInformation) == 0


def test_a_forged_or_broken_decision_button_saves_nothing(env) -> None:  # type: ignore[no-untyped-def]
    from actions_support import press

    runner, clock = env
    publish(runner)
    clock.set(MEETING)
    before = written(runner.factory)
    for value in ('{"r":"OCG-07","s":"","t":""}', "not json", '{"r":"OCG-07","s":"sideways","t":"x"}'):
        assert "this button is out of date: run the command again" in reply_text(
            press(runner, "rose", "decision.keep", value))
    assert written(runner.factory) == before
