"""Free text with personal data in it (commands/actions/personal.py): nothing is saved or sent until the author,
told privately exactly what was found, chooses to edit it or to save it as written. Driven through the runner
against the Northtown sample, as tests/actions/test_action_commands.py (who is who on OCG-07 is there).
"""

from __future__ import annotations

import json

import pytest
from actions_support import counts, make_runner, press, run, submit
from sqlalchemy import select

from models import Action, ActionNote, AuditEvent, Outcome

FOUND_LINE = "This action contains a postcode (NT1 4AB) and a date of birth (12/03/1990)."
WHY = "Personal details belong in the pack, not in chat: messages are kept and can be exported."


@pytest.fixture
def seeded(northtown_loaded):  # type: ignore[no-untyped-def]
    """The sample with action #1 on OCG-07: recorded by tom.ashby for sam.patel."""
    result = run(make_runner(northtown_loaded), "tom", "action", "OCG-07 @sam.patel check benefits claim in 2 weeks")
    assert result.reply.title == "Action #1 recorded"
    return northtown_loaded


def _last_audit(factory) -> str:  # type: ignore[no-untyped-def]
    with factory() as session:
        return session.scalars(select(AuditEvent.what).order_by(AuditEvent.id.desc())).first() or ""


def _buttons(result) -> dict[str, tuple[str, str]]:  # type: ignore[no-untyped-def]
    return {b.label: (b.action, b.value) for b in result.reply.buttons}


# ------------------------------------------------------------------------------------------------ /action


def test_action_with_personal_data_saves_nothing_and_says_what_was_found(seeded) -> None:  # type: ignore[no-untyped-def]
    before = counts(seeded)
    result = run(make_runner(seeded), "tom", "action", "OCG-07 @sam.patel visit NT1 4AB, dob 12/03/1990 by Friday")
    assert result.reply.title == "Check for personal details"
    assert result.reply.lines[:2] == (FOUND_LINE, WHY)
    assert list(_buttons(result)) == ["Edit", "Save as written"]
    assert not result.notices and result.form is None
    assert counts(seeded) == before  # no action, no audit row, nothing queued


def test_save_as_written_saves_queues_and_logs_the_kinds_only(seeded) -> None:  # type: ignore[no-untyped-def]
    runner = make_runner(seeded)
    asked = run(runner, "tom", "action", "OCG-07 @sam.patel visit NT1 4AB, dob 12/03/1990 by Friday")
    before = counts(seeded)
    saved = press(runner, "tom", *_buttons(asked)["Save as written"])
    assert saved.reply.title == "Action #2 recorded"
    assert [n.key for n in saved.notices] == ["action:2:created"]
    after = counts(seeded)
    assert {t: after[t] - before[t] for t in after if after[t] != before[t]} == {
        "action": 1, "audit_event": 1, "outbox_message": 1}
    with seeded() as session:
        assert session.scalar(select(Action.text).where(Action.number == 2)) == "visit NT1 4AB, dob 12/03/1990"
    logged = _last_audit(seeded)
    assert logged.endswith("the author kept personal data as written: postcode, date of birth")
    assert "NT1 4AB" not in logged and "1990" not in logged


def test_save_as_written_is_checked_again(seeded) -> None:  # type: ignore[no-untyped-def]
    runner = make_runner(seeded)
    asked = run(runner, "tom", "action", "OCG-07 @sam.patel ring 07700 900123")
    action_id, value = _buttons(asked)["Save as written"]
    before = counts(seeded)
    # someone outside the section presses it: refused (and the refusal logged), nothing saved
    refused = press(runner, "bea", action_id, value)
    assert refused.reply.lines[0].startswith("You can't see 'OCG-07'")
    # the same button with other text in it: what was kept no longer matches, so it asks again
    other = json.dumps({**json.loads(value), "t": "ring 07700 900999"})
    again = press(runner, "tom", action_id, other)
    assert again.reply.title == "Check for personal details"
    assert again.reply.lines[0] == "This action contains a phone number (07700 900999)."
    assert counts(seeded) == dict(before, audit_event=before["audit_event"] + 1)


def test_edit_opens_the_form_filled_in_and_the_form_asks_before_saving(seeded) -> None:  # type: ignore[no-untyped-def]
    runner = make_runner(seeded)
    asked = run(runner, "tom", "action", "OCG-07 @sam.patel visit NT1 4AB by 2026-12-01")
    edit = press(runner, "tom", *_buttons(asked)["Edit"])
    assert edit.form is not None and edit.form.callback == "action.create"
    values = {f.name: f.initial or "" for f in edit.form.fields}
    assert values == {"target": "OCG-07", "owner": "@sam.patel", "text": "visit NT1 4AB", "due": "2026-12-01"}
    before = counts(seeded)
    # submitted unchanged: the form comes back with what was found, and nothing is saved
    again = submit(runner, "tom", "action.create", values, edit.form.context)
    assert again.form is not None and again.form.submit == "Save as written"
    assert again.form.intro is not None and again.form.intro.startswith("The wording contains a postcode (NT1 4AB).")
    assert counts(seeded) == before
    # a new detail typed into the form that came back is asked about again
    added = submit(runner, "tom", "action.create", dict(values, text="visit NT1 4AB, 07700 900123"),
                   again.form.context)
    assert added.form is not None and "a phone number (07700 900123)" in (added.form.intro or "")
    assert counts(seeded) == before
    # submitted as written: saved
    kept = submit(runner, "tom", "action.create", values, again.form.context)
    assert kept.reply.title == "Action #2 recorded" and [n.key for n in kept.notices] == ["action:2:created"]
    # or the detail taken out: saved straight away
    clean = submit(runner, "tom", "action.create", dict(values, text="visit the address"), edit.form.context)
    assert clean.reply.title == "Action #3 recorded"


def test_action_without_personal_data_saves_straight_away(seeded) -> None:  # type: ignore[no-untyped-def]
    runner = make_runner(seeded)
    result = run(runner, "tom", "action", "OCG-07 @sam.patel visit 12 Acacia Road re OCG-07 #1")
    assert result.reply.title == "Action #2 recorded"
    assert "personal data" not in _last_audit(seeded)
    # a due date typed as a full date is not a date of birth: it saves straight away (9 December; 12 September
    # has gone, so there is nothing to confirm)
    dated = run(runner, "tom", "action", "OCG-07 @sam.patel ring the school by 9/12/2026")
    assert dated.reply.title == "Action #3 recorded"
    assert "personal data" not in _last_audit(seeded)
    # and one that needs confirming (both readings ahead) saves on the confirmation, still not flagged
    ambiguous = run(runner, "tom", "action", "OCG-07 @sam.patel ring the college by 5/12/2027")
    assert ambiguous.reply.title == "Check the due date"
    saved = press(runner, "tom", ambiguous.reply.buttons[0].action, ambiguous.reply.buttons[0].value)
    assert saved.reply.title == "Action #4 recorded"
    assert "personal data" not in _last_audit(seeded)


# ------------------------------------------------------------------------------------------------ /outcome


def test_outcome_with_personal_data_closes_nothing_until_saved_as_written(seeded) -> None:  # type: ignore[no-untyped-def]
    runner = make_runner(seeded)
    before = counts(seeded)
    asked = run(runner, "sam", "outcome", "1 moved to LS1 4AP, new mobile 07700 900123 nfa")
    assert asked.reply.title == "Check for personal details"
    assert asked.reply.lines[0] == "This outcome contains a postcode (LS1 4AP) and a phone number (07700 900123)."
    assert not asked.notices and counts(seeded) == before
    assert press(runner, "ed", *_buttons(asked)["Save as written"]).reply.lines[0].startswith(
        "Only the owner of action 1")  # not hers to close: checked again at the press
    saved = press(runner, "sam", *_buttons(asked)["Save as written"])
    assert saved.reply.title == "Action #1 closed"
    assert "action:1:outcome:tom.ashby" in [n.key for n in saved.notices]
    with seeded() as session:
        outcome = session.scalar(select(Outcome))
        assert (outcome.text, outcome.category) == ("moved to LS1 4AP, new mobile 07700 900123", "no-further-action")
    assert _last_audit(seeded).endswith("no-further-action; the author kept personal data as written: postcode, "
                                        "phone number")
    stale = press(runner, "sam", *_buttons(asked)["Save as written"])
    assert stale.reply.lines[0] == "action 1 is already done: you can't record an outcome for it"


def test_outcome_edit_opens_the_form_and_the_form_asks_then_saves(seeded) -> None:  # type: ignore[no-untyped-def]
    runner = make_runner(seeded)
    asked = run(runner, "sam", "outcome", "1 claimant born 3 March 1990 sanctioned benefit-sanction")
    assert asked.reply.lines[0] == "This outcome contains a date of birth (3 March 1990)."
    edit = press(runner, "sam", *_buttons(asked)["Edit"])
    assert edit.form is not None and edit.form.callback == "outcome.record" and edit.form.context == "1"
    values = {f.name: f.initial or "" for f in edit.form.fields}
    assert values == {"text": "claimant born 3 March 1990 sanctioned", "category": "benefit-sanction"}
    before = counts(seeded)
    again = submit(runner, "sam", "outcome.record", values, edit.form.context)
    assert again.form is not None and again.form.submit == "Save as written"
    assert "What happened contains a date of birth (3 March 1990)." in (again.form.intro or "")
    assert counts(seeded) == before
    done = submit(runner, "sam", "outcome.record", values, again.form.context)
    assert done.reply.title == "Action #1 closed"


def test_outcome_form_from_the_list_of_actions_asks_too(seeded) -> None:  # type: ignore[no-untyped-def]
    runner = make_runner(seeded)
    asked = submit(runner, "sam", "outcome.record",
                   {"action": "1", "text": "email jo@example.org sent", "category": "no-further-action"}, "")
    assert asked.form is not None and asked.form.context.startswith("1 kept:")
    assert counts(seeded)["outcome"] == 0
    clean = submit(runner, "sam", "outcome.record",
                   {"text": "letter sent", "category": "no-further-action"}, asked.form.context)
    assert clean.reply.title == "Action #1 closed"


# ------------------------------------------------------------------------------------ notes and reasons


def test_note_with_personal_data_is_asked_about_then_saved_as_written(seeded) -> None:  # type: ignore[no-untyped-def]
    runner = make_runner(seeded)
    before = counts(seeded)
    asked = run(runner, "ed", "action", "update 1 new address NT1 4AB, car AB12 CDE")
    assert asked.reply.title == "Check for personal details"
    assert asked.reply.lines[0] == ("This note contains a postcode (NT1 4AB) and a vehicle registration "
                                    "(AB12 CDE).")
    assert ("Progress note", "new address NT1 4AB, car AB12 CDE") in asked.reply.fields
    assert not asked.notices and counts(seeded) == before
    saved = press(runner, "ed", *_buttons(asked)["Save as written"])
    assert saved.reply.title == "Note added to action #1"
    assert [n.key for n in saved.notices] == ["action:1:note:1"]  # the owner is told, as for any note
    assert _last_audit(seeded) == ("note added to action 1; the author kept personal data as written: postcode, "
                                   "vehicle registration")


def test_note_edit_and_the_note_form(seeded) -> None:  # type: ignore[no-untyped-def]
    runner = make_runner(seeded)
    asked = run(runner, "ed", "action", "update 1 rang 0161 496 0000")
    edit = press(runner, "ed", *_buttons(asked)["Edit"])
    assert edit.form is not None and edit.form.callback == "action.change"
    assert [(f.name, f.label, f.initial) for f in edit.form.fields] == [("text", "Progress note", "rang 0161 496 0000")]
    before = counts(seeded)
    again = submit(runner, "ed", "action.change", {"text": "rang 0161 496 0000"}, edit.form.context)
    assert again.form is not None and "This note contains a phone number (0161 496 0000)." in (again.form.intro or "")
    assert counts(seeded) == before
    edited = submit(runner, "ed", "action.change", {"text": "rang the landline"}, again.form.context)
    assert edited.reply.title == "Note added to action #1"
    # the Update button's note form asks the same way, and its second submission saves as written
    form = submit(runner, "sam", "action.note", {"note": "email from jo@example.org"}, "1")
    assert form.form is not None and form.form.callback == "action.change" and form.form.submit == "Save as written"
    kept = submit(runner, "sam", "action.change", {"text": "email from jo@example.org"}, form.form.context)
    assert kept.reply.title == "Note added to action #1"
    with seeded() as session:
        assert list(session.scalars(select(ActionNote.text).order_by(ActionNote.id))) == [
            "rang the landline", "email from jo@example.org"]


def test_cancel_reason_with_personal_data(seeded) -> None:  # type: ignore[no-untyped-def]
    runner = make_runner(seeded)
    asked = run(runner, "tom", "action", "cancel 1 he moved to SW1A 1AA")
    assert asked.reply.lines[0] == "This reason contains a postcode (SW1A 1AA)."
    with seeded() as session:
        assert session.scalar(select(Action.status).where(Action.number == 1)) == "open"
    # only someone who may cancel it can save it as written
    assert press(runner, "mark", *_buttons(asked)["Save as written"]).reply.lines[0].startswith(
        "Only the owner of action 1")
    edit = press(runner, "tom", *_buttons(asked)["Edit"])
    assert edit.form is not None and [f.label for f in edit.form.fields] == ["Why it is cancelled"]
    done = submit(runner, "tom", "action.change", {"text": "he moved out of the area"}, edit.form.context)
    assert done.reply.title == "Action #1 cancelled"
    with seeded() as session:
        assert session.scalar(select(ActionNote.text)) == "he moved out of the area"


def test_due_reason_with_personal_data_keeps_the_new_date(seeded) -> None:  # type: ignore[no-untyped-def]
    runner = make_runner(seeded)
    before = counts(seeded)
    asked = run(runner, "tom", "action", "due 1 2026-12-18 waiting for DOB 01/02/1985 check")
    assert asked.reply.lines[0] == "This reason contains a date of birth (01/02/1985)."
    assert ("New due", "Fri 18 Dec") in asked.reply.fields
    assert counts(seeded) == before
    moved = press(runner, "tom", *_buttons(asked)["Save as written"])
    assert moved.reply.title == "Action #1 now due Fri 18 Dec"
    assert [n.to.ref for n in moved.notices] == ["rose.gill", "sam.patel"]
    assert _last_audit(seeded).endswith("to 2026-12-18; the author kept personal data as written: date of birth")


def test_forged_or_stale_change_buttons_change_nothing(seeded) -> None:  # type: ignore[no-untyped-def]
    runner = make_runner(seeded)
    before = counts(seeded)
    for value in ("garbage", '{"v":"reassign","n":1,"t":"x","d":"","p":""}', '{"v":"due","n":1,"t":"x","d":"","p":""}'):
        assert press(runner, "tom", "action.keep", value).reply.lines[0] == (
            "this button is out of date: run the command again")
    assert counts(seeded) == before
    # a forged "kept" that does not match the text: asked again, not saved
    forged = press(runner, "tom", "action.keep", '{"v":"update","n":1,"t":"at NT1 4AB","d":"","p":"nope"}')
    assert forged.reply.title == "Check for personal details"
    assert counts(seeded) == before


def test_notes_and_reasons_without_personal_data_save_straight_away(seeded) -> None:  # type: ignore[no-untyped-def]
    runner = make_runner(seeded)
    assert run(runner, "ed", "action", "update 1 visited 12 Acacia Road, no answer").reply.title == (
        "Note added to action #1")
    assert run(runner, "tom", "action", "cancel 1 duplicate of #9 (OCG-07)").reply.title == "Action #1 cancelled"


def test_more_time_reason_from_a_reminder_is_asked_about_too(seeded) -> None:  # type: ignore[no-untyped-def]
    runner = make_runner(seeded)
    before = counts(seeded)
    asked = submit(runner, "sam", "action.more_time", {"due": "2026-12-18", "reason": "tenant at NT1 4AB away"}, "1")
    assert asked.reply.title == "Check for personal details" and not asked.notices
    assert counts(seeded) == before
    moved = press(runner, "sam", *_buttons(asked)["Save as written"])
    assert moved.reply.title == "Action #1 now due Fri 18 Dec"
