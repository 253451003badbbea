"""/action, /outcome and /actions through the runner against the Northtown sample: every command form, good
and bad. Each bad case checks the exact ephemeral message and that the database did not change (a refusal
adds exactly its audit row).

Who is who on OCG-07 (worked out from the need-to-know rule in test_sample_sections_are_as_assumed):
tom.ashby leads it; sam.patel (DWP), mark.dunn (housing) and ed.quinn (regional organised crime unit) are entitled
to it; rose.gill chairs; bea.morris and dan.fox are not entitled to it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from actions_support import NOW, audit_kinds, counts, make_runner, press, reply_text, run, submit
from sqlalchemy import select

from commands.core import access
from commands.core.context import Caller
from models import Action, ActionNote, Member, OutboxMessage, Outcome, Partnership

REFUSED_REF = ("You can't see '{}': either it doesn't exist or you are not in its section. If you think you "
               "should be, ask your coordinator.")
REFUSED_ACTION = ("You can't see action {}: either it doesn't exist or you are not in its target's section. If you "
                  "think you should be, ask your coordinator.")
NOT_MANAGER = ("Only the owner of action 1, whoever recorded it, the lead officer or the coordinator/chair can do "
               "that. Ask the owner or your coordinator.")
BEA_NOT_ENTITLED = ("Bea Morris can't own an action on OCG-07: they are not in its section. Choose someone who is, "
                    "or ask your coordinator.")
EX = "Example: /action OCG-07 @sam check benefits claim by Friday"
EX_UPDATE = "Example: /action update 12 visited, no answer"
EX_REASSIGN = "Example: /action reassign 12 @jo"
EX_DUE = "Example: /action due 12 5/12 awaiting DWP reply"
EX_CANCEL = "Example: /action cancel 12 duplicate of #9"
EX_OUTCOME = "Example: /outcome 12 claim suspended pending review benefit-sanction"
NOBODY = ("'@nobody' is not a member of Northtown CSP: name the owner with @ and their member key (see /oneday "
          "whoami) or mention them")
GHOST = ("the person you mentioned is not a member of Northtown CSP: name the owner with @ and their member key "
         "(see /oneday whoami) or mention them")


@pytest.fixture
def seeded(northtown_loaded):  # type: ignore[no-untyped-def]
    """The sample with action #1 on OCG-07: recorded by tom.ashby for sam.patel, due Fri 4 Dec."""
    result = run(make_runner(northtown_loaded), "tom", "action", "OCG-07 @sam.patel check benefits claim in 2 weeks")
    assert result.reply.title == "Action #1 recorded", reply_text(result)
    return northtown_loaded


def test_sample_sections_are_as_assumed(seeded) -> None:  # type: ignore[no-untyped-def]
    with seeded() as session:
        p = session.scalar(select(Partnership))
        members = {m.key: m for m in session.scalars(select(Member))}
        caller = Caller(session, p, members["tom.ashby"], NOW)
        target = access.find_target(caller, "OCG-07")
        assert target is not None
        may = {k: access.member_may_see(caller, m, target) for k, m in members.items()}
    assert all(may[k] for k in ("tom.ashby", "sam.patel", "mark.dunn", "ed.quinn", "rose.gill", "jo.bloggs"))
    assert not any(may[k] for k in ("bea.morris", "dan.fox"))


BAD = [
    # /action <ref> @owner <what> [by <when>]
    ("missing owner", "tom", "action", "OCG-07 check benefits claim",
     ("say who owns the action: @owner after OCG-07", EX), False),
    ("missing wording", "tom", "action", "OCG-07 @sam.patel", ("say what the action is", EX), False),
    ("only a date", "tom", "action", "OCG-07 @sam.patel by Friday", ("say what the action is", EX), False),
    ("unknown ref", "tom", "action", "OCG-99 @sam.patel check benefits claim",
     (REFUSED_REF.format("OCG-99"),), True),
    ("forbidden ref", "bea", "action", "OCG-07 @sam.patel check benefits claim",
     (REFUSED_REF.format("OCG-07"),), True),
    ("unknown user", "tom", "action", "OCG-07 @nobody check benefits claim", (NOBODY, EX), False),
    ("unknown mention", "tom", "action", "OCG-07 @{slack:U0GHOST} check benefits claim", (GHOST, EX), False),
    ("owner not entitled", "tom", "action", "OCG-07 @bea.morris check benefits claim", (BEA_NOT_ENTITLED,), True),
    ("unparseable date", "tom", "action", "OCG-07 @sam.patel check benefits claim by 31/11",
     ("31/11 is not a date: November has 30 days", EX), False),
    ("date too far ahead", "tom", "action", "OCG-07 @sam.patel check benefits claim by 2030-01-01",
     ('"2030-01-01" is too far ahead: a due date must be no later than 20 Nov 2028', EX), False),
    ("text too long", "tom", "action", "OCG-07 @sam.patel " + "x" * 501,
     ("The action's wording is too long (501 characters): the limit is 500", EX), False),
    ("two owners", "tom", "action", "OCG-07 @sam.patel @mark.dunn check benefits claim",
     ("an action has one owner: record one action per owner", EX), False),
    # /action update <id> <note>
    ("update: no number", "tom", "action", "update", ("say which action to update: its number", EX_UPDATE), False),
    ("update: not a number", "tom", "action", "update abc visited",
     ("'abc' is not an action number: use the number Oneday gave it, like 12", EX_UPDATE), False),
    ("update: no note", "tom", "action", "update 1", ("say what the update is", EX_UPDATE), False),
    ("update: too long", "tom", "action", "update 1 " + "y" * 1001,
     ("The note is too long (1001 characters): the limit is 1000", EX_UPDATE), False),
    ("update: unknown action", "tom", "action", "update 99 visited", (REFUSED_ACTION.format(99),), True),
    ("update: forbidden action", "bea", "action", "update 1 visited", (REFUSED_ACTION.format(1),), True),
    # /action reassign <id> @member
    ("reassign: no member", "tom", "action", "reassign 1",
     ("say who takes the action over: @member after the number", EX_REASSIGN), False),
    ("reassign: extra words", "tom", "action", "reassign 1 @mark.dunn today please",
     ("too many words: reassign takes a number and one @member, not 'today please'", EX_REASSIGN), False),
    ("reassign: unknown user", "tom", "action", "reassign 1 @nobody", (NOBODY, EX_REASSIGN), False),
    ("reassign: same owner", "tom", "action", "reassign 1 @sam.patel",
     ("Sam Patel already owns action 1", EX_REASSIGN), False),
    ("reassign: owner not entitled", "tom", "action", "reassign 1 @bea.morris", (BEA_NOT_ENTITLED,), True),
    ("reassign: not a manager", "ed", "action", "reassign 1 @mark.dunn", (NOT_MANAGER,), True),
    ("reassign: forbidden", "bea", "action", "reassign 1 @mark.dunn", (REFUSED_ACTION.format(1),), True),
    ("reassign: unknown action", "tom", "action", "reassign 7 @mark.dunn", (REFUSED_ACTION.format(7),), True),
    # /action cancel <id> <reason>
    ("cancel: no reason", "tom", "action", "cancel 1", ("say why the action is cancelled", EX_CANCEL), False),
    ("cancel: not a manager", "mark", "action", "cancel 1 not needed", (NOT_MANAGER,), True),
    ("cancel: forbidden", "dan", "action", "cancel 1 not needed", (REFUSED_ACTION.format(1),), True),
    # /action due <id> <when> <reason>
    ("due: nothing", "tom", "action", "due 1", ("say the new due date and why it moves", EX_DUE), False),
    ("due: no reason", "tom", "action", "due 1 in 2 weeks",
     ("a new due date needs a reason after the date", EX_DUE), False),
    ("due: unparseable date", "tom", "action", "due 1 blurgday waiting",
     ('can\'t read "blurgday waiting" as a due date: try "by Friday", "in 2 weeks", "5/12", "end of month" or '
      '"2026-12-04"', EX), False),
    ("due: not a manager", "ed", "action", "due 1 in 3 weeks waiting for DWP", (NOT_MANAGER,), True),
    ("due: forbidden", "bea", "action", "due 1 in 3 weeks waiting for DWP", (REFUSED_ACTION.format(1),), True),
    # /outcome <id> <what happened> [category]
    ("outcome: not a number", "sam", "outcome", "one claim suspended nfa",
     ("'one' is not an action number: use the number Oneday gave it, like 12", EX_OUTCOME), False),
    ("outcome: only a category", "sam", "outcome", "1 benefit-sanction",
     ("say what happened, then the category", EX_OUTCOME), False),
    ("outcome: no text", "sam", "outcome", "1", ("say what happened, then the category", EX_OUTCOME), False),
    ("outcome: too long", "sam", "outcome", "1 " + "z" * 1001 + " nfa",
     ("The outcome is too long (1001 characters): the limit is 1000", EX_OUTCOME), False),
    ("outcome: unknown action", "sam", "outcome", "42 claim suspended nfa", (REFUSED_ACTION.format(42),), True),
    ("outcome: forbidden", "bea", "outcome", "1 claim suspended nfa", (REFUSED_ACTION.format(1),), True),
    ("outcome: not a manager", "ed", "outcome", "1 claim suspended nfa", (NOT_MANAGER,), True),
    # /actions [overdue | <ref> | @member] [page N]
    ("actions: unknown ref", "sam", "actions", "OCG-99", (REFUSED_REF.format("OCG-99"),), True),
    ("actions: forbidden ref", "bea", "actions", "OCG-07", (REFUSED_REF.format("OCG-07"),), True),
    ("actions: unknown user", "sam", "actions", "@nobody", (NOBODY, "Example: /actions @sam"), False),
    ("actions: extra words", "sam", "actions", "OCG-07 overdue",
     ("too many words: 'overdue'. List one thing at a time", "Example: /actions overdue"), False),
    ("actions: bad page", "sam", "actions", "overdue page two",
     ("'two' is not a page number", "Example: /actions overdue page 2"), False),
]


@pytest.mark.parametrize(("who", "intent", "text", "lines", "refused"), [case[1:] for case in BAD],
                         ids=[case[0] for case in BAD])
def test_bad_input_is_answered_exactly_and_changes_nothing(seeded, who, intent, text, lines, refused) -> None:  # type: ignore[no-untyped-def]
    before, kinds = counts(seeded), audit_kinds(seeded)
    result = run(make_runner(seeded), who, intent, text)
    assert result.reply.lines == lines
    assert not result.notices and result.form is None  # the reply goes to the asker only
    expected = dict(before, audit_event=before["audit_event"] + refused)
    assert counts(seeded) == expected
    assert audit_kinds(seeded) == kinds + (["refusal"] if refused else [])


def test_unknown_and_forbidden_refs_get_the_same_words(seeded) -> None:  # type: ignore[no-untyped-def]
    runner = make_runner(seeded)
    unknown = run(runner, "bea", "actions", "OCG-77").reply.lines[0].replace("OCG-77", "REF")
    forbidden = run(runner, "bea", "actions", "OCG-07").reply.lines[0].replace("OCG-07", "REF")
    assert unknown == forbidden
    forbidden_action = run(runner, "bea", "outcome", "1 x nfa").reply.lines[0].replace("action 1:", "action N:")
    unknown_action = run(runner, "bea", "outcome", "1000 x nfa").reply.lines[0].replace("action 1000:", "action N:")
    assert forbidden_action == unknown_action


GOOD = [
    # (who, intent, text, title, table deltas, notice keys)
    ("tom", "action", "OCG-07 @sam.patel visit the address by Friday", "Action #2 recorded",
     {"action": 1, "audit_event": 1, "outbox_message": 1}, ["action:2:created"]),
    ("sam", "action", "OCG-07 @{slack:U0MARK} check the tenancy at the address", "Action #2 recorded",
     {"action": 1, "audit_event": 1, "outbox_message": 2}, ["action:2:created", "action:2:created:lead"]),
    ("ed", "action", "update 1 spoke to DWP, awaiting reply", "Note added to action #1",
     {"action_note": 1, "audit_event": 1, "outbox_message": 1}, ["action:1:note:1"]),
    ("tom", "action", "reassign 1 @mark.dunn", "Action #1 now belongs to Mark Dunn",
     {"action_note": 1, "audit_event": 1, "outbox_message": 2}, ["action:1:owner:1", "action:1:released:1"]),
    ("sam", "action", "cancel 1 duplicate of an earlier action", "Action #1 cancelled",
     {"action_note": 1, "audit_event": 1}, []),
    ("sam", "action", "due 1 end of month awaiting DWP reply", "Action #1 now due Mon 30 Nov",
     {"action_note": 1, "audit_event": 1, "outbox_message": 1}, ["action:1:due:1:rose.gill"]),
    ("sam", "outcome", "1 claim suspended pending review benefit-sanction", "Action #1 closed",
     {"outcome": 1, "audit_event": 1, "outbox_message": 1}, ["action:1:outcome:tom.ashby"]),
    ("sam", "outcome", "1 nothing found, not possible: circumstances changed", "Action #1 closed",
     {"outcome": 1, "audit_event": 1, "outbox_message": 1}, ["action:1:outcome:tom.ashby"]),
    ("rose", "outcome", "1 visited, NFA", "Action #1 closed",
     {"outcome": 1, "audit_event": 1, "outbox_message": 2}, ["action:1:outcome:tom.ashby", "action:1:outcome:sam.patel"]),
    # A listing changes nothing but the processing log: one consultation per target whose actions it showed.
    ("sam", "actions", "", "Your open actions", {"audit_event": 1}, []),
    ("ed", "actions", "OCG-07", "Actions on OCG-07", {"audit_event": 1}, []),
    ("rose", "actions", "@sam.patel", "Open actions owned by Sam Patel", {"audit_event": 1}, []),
    ("rose", "actions", "overdue", "Overdue actions", {}, []),
]


@pytest.mark.parametrize(("who", "intent", "text", "title", "deltas", "keys"), GOOD,
                         ids=[f"{g[1]} {g[2][:30]}" for g in GOOD])
def test_good_input_does_exactly_its_work(seeded, who, intent, text, title, deltas, keys) -> None:  # type: ignore[no-untyped-def]
    before = counts(seeded)
    result = run(make_runner(seeded), who, intent, text)
    assert result.reply.title == title, reply_text(result)
    assert [n.key for n in result.notices if ":feedback:" not in n.key] == keys  # feedback: tests/actions/test_feedback.py
    feedback = sum(":feedback:" in n.key for n in result.notices)
    after = counts(seeded)
    if feedback:
        deltas = {**deltas, "outbox_message": deltas["outbox_message"] + feedback}
    assert {t: after[t] - before[t] for t in after if after[t] != before[t]} == deltas


def test_recorded_action_and_owner_dm_carry_no_target_details(seeded) -> None:  # type: ignore[no-untyped-def]
    result = run(make_runner(seeded), "tom", "action", "OCG-07 @mark.dunn check tenancy <!channel> by Friday")
    [dm] = result.notices
    assert dm.to.kind == "member" and dm.to.ref == "mark.dunn"
    assert [(b.label, b.action, b.value) for b in dm.message.buttons] == [("Done", "action.done", "2"),
                                                                         ("Update", "action.update", "2")]
    shown = reply_text(result) + str(dm.message)
    assert "Cannabis" not in shown and "Riverside" not in shown
    with seeded() as session:
        action = session.scalar(select(Action).where(Action.number == 2))
        assert action.text == "check tenancy <!channel>" and action.due == date(2026, 11, 20)
        assert action.created_by.key == "tom.ashby" and action.owner.key == "mark.dunn"


def test_ambiguous_and_past_dates_preview_then_save_on_confirm(seeded) -> None:  # type: ignore[no-untyped-def]
    runner = make_runner(seeded)
    before = counts(seeded)
    preview = run(runner, "tom", "action", "OCG-07 @sam.patel call the landlord by 5/12/2027")
    assert preview.reply.title == "Check the due date"
    assert preview.reply.lines[0] == '"5/12/2027": 5/12/2027 is read as 5 December 2027 (day/month).'
    assert [b.label for b in preview.reply.buttons] == ["Save, due Sun 5 Dec 2027", "Save, due Wed 12 May 2027",
                                                        "Correct"]
    assert counts(seeded) == before
    us = press(runner, "tom", "action.confirm", preview.reply.buttons[1].value)
    assert us.reply.title == "Action #2 recorded"
    with seeded() as session:
        assert session.scalar(select(Action.due).where(Action.number == 2)) == date(2027, 5, 12)
    past = run(runner, "tom", "action", "OCG-07 @sam.patel ring the school by 15/11/2026")
    assert past.reply.lines[0] == '"15/11/2026": that date is in the past.'
    correct = press(runner, "tom", "action.correct", past.reply.buttons[-1].value)
    assert correct.form is not None and correct.form.callback == "action.create"
    assert {f.name: f.initial for f in correct.form.fields} == {
        "target": "OCG-07", "owner": "@sam.patel", "text": "ring the school", "due": "2026-11-15"}


def test_confirm_button_is_checked_again(seeded) -> None:  # type: ignore[no-untyped-def]
    runner = make_runner(seeded)
    forged = '{"r":"OCG-07","o":"bea.morris","t":"x","d":"","x":0}'
    before = counts(seeded)
    assert press(runner, "tom", "action.confirm", forged).reply.lines == (BEA_NOT_ENTITLED,)
    assert press(runner, "bea", "action.confirm", forged.replace("bea.morris", "sam.patel")).reply.lines == (
        REFUSED_REF.format("OCG-07"),)
    assert press(runner, "tom", "action.confirm", "garbage").reply.lines[0] == (
        "this button is out of date: run the command again")
    assert counts(seeded) == dict(before, audit_event=before["audit_event"] + 2)


def test_a_repeat_within_ten_minutes_asks_first(seeded) -> None:  # type: ignore[no-untyped-def]
    runner = make_runner(seeded)
    before = counts(seeded)
    again = run(runner, "tom", "action", "OCG-07 @{slack:U0SAM} check benefits claim in 2 weeks")
    assert again.reply.title == "Record this action again?"
    assert counts(seeded) == before
    saved = press(runner, "tom", "action.confirm", again.reply.buttons[0].value)
    assert saved.reply.title == "Action #2 recorded"


def test_moving_a_due_date_tells_the_chair_and_the_owner(seeded) -> None:  # type: ignore[no-untyped-def]
    runner = make_runner(seeded)
    result = run(runner, "tom", "action", "due 1 next friday awaiting DWP reply")
    assert result.reply.title == "Check the new due date"
    assert [b.label for b in result.reply.buttons] == ["Move to Fri 27 Nov", "Move to Fri 4 Dec"]
    moved = press(runner, "tom", "action.redate", result.reply.buttons[0].value)
    assert moved.reply.title == "Action #1 now due Fri 27 Nov"
    assert sorted(n.to.ref for n in moved.notices) == ["rose.gill", "sam.patel"]
    with seeded() as session:
        [note] = session.scalars(select(ActionNote)).all()
        assert note.kind == "due" and note.text == "2026-12-04 -> 2026-11-27: awaiting DWP reply"


def test_outcome_without_category_opens_the_form_and_the_form_closes_it(seeded) -> None:  # type: ignore[no-untyped-def]
    runner = make_runner(seeded)
    before = counts(seeded)
    opened = run(runner, "sam", "outcome", "1 claim suspended")
    assert opened.form is not None and opened.form.context == "1"
    assert counts(seeded) == before
    bad = submit(runner, "sam", "outcome.record", {"text": "", "category": ""}, "1")
    assert bad.field_errors == {"text": "say what happened", "category": "choose a category"}
    done = submit(runner, "sam", "outcome.record", {"text": "claim suspended", "category": "benefit-sanction"}, "1")
    assert done.reply.title == "Action #1 closed"
    with seeded() as session:
        assert session.scalar(select(Action.status).where(Action.number == 1)) == "done"
        assert session.scalar(select(Outcome.category)) == "benefit-sanction"
    again = run(runner, "sam", "outcome", "1 again nfa")
    assert again.reply.lines[0] == "action 1 is already done: you can't record an outcome for it"


def test_create_form_lists_only_visible_targets_and_validates_fields(seeded) -> None:  # type: ignore[no-untyped-def]
    runner = make_runner(seeded)
    form = run(runner, "mark", "action", "").form
    assert form is not None
    refs = dict(form.fields[0].choices)
    assert "OCG-07" in refs and "GNG-01" not in refs
    bad = submit(runner, "mark", "action.create", {"target": "OCG-07", "owner": "nobody", "text": "", "due": "2020-01-01"})
    assert bad.field_errors == {"owner": "not a member: type their member key, e.g. @sam.patel",
                                "text": "say what will be done", "due": "that date is in the past: choose today or later"}
    ok = submit(runner, "mark", "action.create",
                {"target": "OCG-07", "owner": "sam.patel", "text": "visit", "due": "2026-12-01"})
    assert ok.reply.title == "Action #2 recorded"
    refused = submit(runner, "mark", "action.create",
                     {"target": "GNG-01", "owner": "sam.patel", "text": "visit", "due": ""})
    assert refused.reply.lines == (REFUSED_REF.format("GNG-01"),)


def test_update_and_done_buttons_recheck_entitlement(seeded) -> None:  # type: ignore[no-untyped-def]
    runner = make_runner(seeded)
    assert press(runner, "sam", "action.update", "1").form.callback == "action.note"
    assert press(runner, "sam", "action.done", "1").form.callback == "outcome.record"
    assert press(runner, "bea", "action.done", "1").reply.lines == (REFUSED_ACTION.format(1),)
    assert press(runner, "ed", "action.done", "1").reply.lines == (NOT_MANAGER,)
    noted = submit(runner, "sam", "action.note", {"note": "called, no answer"}, "1")
    assert noted.reply.title == "Note added to action #1"
    assert submit(runner, "sam", "action.note", {"note": " "}, "1").field_errors == {"note": "say what the update is"}


def test_listing_is_newest_due_first_and_paginated(seeded) -> None:  # type: ignore[no-untyped-def]
    runner = make_runner(seeded)
    for i in range(1, 13):
        result = run(runner, "tom", "action", f"OCG-07 @sam.patel task {i} by {i}/1/2027")
        if result.reply.title == "Check the due date":
            result = press(runner, "tom", "action.confirm", result.reply.buttons[0].value)
        assert result.reply.title == f"Action #{i + 1} recorded"
    first = run(runner, "sam", "actions", "")
    assert first.reply.lines[0].startswith("#13 OCG-07: task 12 - Sam Patel, due Tue 12 Jan 2027")
    assert len(first.reply.lines) == 10 and first.reply.footer == (
        "Page 1 of 2 (13 actions). Next: /actions page 2")
    [more] = first.reply.buttons
    second = press(runner, "sam", "actions.page", more.value)
    assert second.reply.lines[-1].startswith("#1 OCG-07: check benefits claim")
    assert second.reply.footer == "Page 2 of 2 (13 actions)"
    assert run(runner, "bea", "actions", "@sam.patel").reply.lines == ("None.",)


def test_overdue_lists_only_dated_open_actions_past_due(seeded) -> None:  # type: ignore[no-untyped-def]
    runner = make_runner(seeded)
    late = run(runner, "tom", "action", "OCG-07 @sam.patel ring the school by 15/11/2026")
    press(runner, "tom", "action.confirm", late.reply.buttons[0].value)
    run(runner, "tom", "action", "OCG-07 @sam.patel no date on this one")
    listed = run(runner, "ed", "actions", "overdue").reply.lines
    assert listed == ("#2 OCG-07: ring the school - Sam Patel, overdue since Sun 15 Nov (5 working days)",)
    assert run(runner, "bea", "actions", "overdue").reply.lines == ("None.",)


def test_a_listed_action_reads_as_in_a_reminder(seeded) -> None:  # type: ignore[no-untyped-def]
    """One line per action (commands/actions/common.py describe): due state, owner in lists, closed ones marked."""
    runner = make_runner(seeded)
    run(runner, "tom", "action", "OCG-07 @sam.patel no date on this one")
    run(runner, "tom", "action", "OCG-07 @sam.patel ring the school " + "x" * 130 + " by today")
    run(runner, "tom", "action", "OCG-07 @sam.patel phone the landlord by today")
    run(runner, "tom", "action", "cancel 4 duplicate")
    assert run(runner, "ed", "actions", "OCG-07").reply.lines == (
        "#1 OCG-07: check benefits claim - Sam Patel, due Fri 4 Dec",
        "#4 OCG-07: phone the landlord - Sam Patel, due Fri 20 Nov [cancelled]",
        "#3 OCG-07: ring the school " + "x" * 103 + "… - Sam Patel, due today",
        "#2 OCG-07: no date on this one - Sam Patel, no due date")


def test_a_confirmation_goes_to_the_people_entitled_never_to_the_section_space(seeded) -> None:  # type: ignore[no-untyped-def]
    """A section's space holds every slot's people: an action's wording goes by DM to its owner and lead only."""
    from datetime import timedelta

    from models import Cohort, Meeting, Section

    with seeded() as session, session.begin():
        p = session.scalar(select(Partnership))
        ocg = session.scalar(select(Cohort).where(Cohort.key == "ocg"))
        meeting = Meeting(partnership_id=p.id, date=date(2026, 12, 8), status="published", published_at=NOW, created_at=NOW)
        meeting.sections.append(Section(partnership_id=p.id, cohort_id=ocg.id, position=0, starts_at=NOW,
                                        ends_at=NOW + timedelta(hours=1), target_refs=["OCG-07"], space_ref="C0OCG"))
        session.add(meeting)
    result = run(make_runner(seeded), "sam", "action", "OCG-07 @mark.dunn visit the address")
    assert [(n.to.kind, n.to.ref, n.key, n.about) for n in result.notices] == [
        ("member", "mark.dunn", "action:2:created", ("OCG-07",)),
        ("member", "tom.ashby", "action:2:created:lead", ("OCG-07",))]
    closed = run(make_runner(seeded), "mark", "outcome", "2 visited, tenancy warning given tenancy-warning")
    assert closed.reply.title == "Action #2 closed"
    assert {n.to.kind for n in closed.notices} == {"member"} and all(n.about == ("OCG-07",) for n in closed.notices)
    with seeded() as session:
        assert not session.scalars(select(OutboxMessage).where(OutboxMessage.destination_kind != "member")).all()


def test_day_month_date_is_saved_without_a_question_when_the_us_reading_has_gone(seeded) -> None:  # type: ignore[no-untyped-def]
    """Typed on 1 December, 9/12/2026 can only be 9 December (12 September has gone): saved, no question."""
    runner = make_runner(seeded, now=datetime(2026, 12, 1, 10, 0, tzinfo=UTC))
    saved = run(runner, "tom", "action", "OCG-07 @sam.patel check benefits claim by 9/12/2026")
    assert saved.reply.title == "Action #2 recorded"
    with seeded() as session:
        assert session.scalar(select(Action.due).where(Action.number == 2)) == date(2026, 12, 9)
