"""Forms as Teams dialogs (task modules), over real HTTP with signed tokens.

A button whose answer is a form (Done, Update, Need more time, Edit, Correct) is a task/fetch: the form opens in a
dialog, posted to no chat. Its submit is a task/submit routed to the same form callbacks as Slack's view
submissions; a submission with errors keeps the dialog open with the form as submitted and the errors beside
the fields. A typed command that asks for a form gets a card whose "Open the form" opens it in a dialog, the form
sealed in the button's data: nothing of it is readable in the chat, and a form Oneday did not seal opens nothing.
"""

from __future__ import annotations

import json
from typing import Any

from fake_teams_stack import TeamsStack
from sqlalchemy import select

from bot.teams import cards
from commands.core import router
from models import Action, ActionNote

TASK_FETCH = {"type": "task/fetch"}


def buttons(card: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = list(card.get("actions") or [])
    for el in card.get("body") or []:
        if el.get("type") == "ActionSet":
            found.extend(el["actions"])
    return found


def dialog(teams: TeamsStack, key: str, name: str, data: dict[str, Any], **kw: Any) -> dict[str, Any]:
    """task/fetch or task/submit with `data`; the dialog's card (the answer must be a task/continue)."""
    status, body = teams.post(teams.activity(key, type_="invoke", name=name, value={"data": data}, **kw))
    assert status == 200, body
    assert body["task"]["type"] == "continue"
    card = body["task"]["value"]["card"]
    assert card["contentType"] == cards.CARD_CONTENT_TYPE
    return card["content"]  # type: ignore[no-any-return]


def submit_data(form: dict[str, Any]) -> dict[str, Any]:
    [submit] = [a for a in form.get("actions") or [] if a["type"] == "Action.Submit"]
    assert "msteams" not in submit["data"]  # inside a dialog: a task/submit, not another fetch
    return dict(submit["data"])


def inputs(form: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {el["id"]: el for el in form["body"] if str(el.get("type", "")).startswith("Input.")}


def record_action(teams: TeamsStack) -> dict[str, Any]:
    """Tom records action #1 for Sam; the card Sam was sent."""
    teams.post(teams.activity("tom.ashby", "action OCG-07 @sam.patel check benefits claim by Friday"))
    teams.drain()
    [dm] = teams.fake.sent_to(teams.fake.personal_of(teams.ids["sam.patel"]))
    return dm.activity["attachments"][0]["content"]  # type: ignore[no-any-return]


def status_of_action(teams: TeamsStack) -> str:
    with teams.factory() as s:
        return str(s.scalars(select(Action)).one().status)


def test_every_form_button_names_a_registered_button() -> None:
    assert cards.FORM_VERBS <= set(router.BUTTONS) and cards.VIEW_VERBS <= set(router.BUTTONS)


def test_done_opens_the_outcome_form_in_a_dialog_and_submitting_it_closes_the_action(teams: TeamsStack) -> None:
    card = record_action(teams)
    assert [(b["type"], b["data"]) for b in buttons(card)] == [
        ("Action.Submit", {"msteams": TASK_FETCH, "verb": "action.done", "value": "1"}),
        ("Action.Submit", {"msteams": TASK_FETCH, "verb": "action.update", "value": "1"})]
    assert "Riverside" not in json.dumps(card)  # never target details in a DM card

    before = len(teams.fake.activities)
    form = dialog(teams, "sam.patel", "task/fetch", buttons(card)[0]["data"])
    assert {"text", "category"} <= set(inputs(form))
    data = submit_data(form)
    assert data["verb"] == "form:outcome.record" and data["__context"] == "1" and data[cards.SEALED_FORM]
    assert status_of_action(teams) == "open"  # opening the form changed nothing

    # Teams merges the inputs' values into the submit's data
    shown = dialog(teams, "sam.patel", "task/submit", {**data, "text": "claim suspended",
                                                         "category": "benefit-sanction"})
    assert "Action #1 closed" in json.dumps(shown)
    assert status_of_action(teams) != "open"
    teams.drain()
    assert len([a for a in teams.fake.activities[before:]
                if a.conversation == teams.fake.personal_of(teams.ids["sam.patel"])]) == 0  # all in the dialog
    assert "Outcome for action #1 on OCG-07" in teams.to("tom.ashby")


def test_a_submission_with_errors_keeps_the_dialog_open_with_the_errors_beside_the_fields(
        teams: TeamsStack) -> None:
    card = record_action(teams)
    form = dialog(teams, "sam.patel", "task/fetch", buttons(card)[0]["data"])
    data = submit_data(form)

    again = dialog(teams, "sam.patel", "task/submit", {**data, "text": "claim suspended", "category": ""})
    assert status_of_action(teams) == "open"
    assert "Please check the form." in json.dumps(again)
    fields = inputs(again)
    assert fields["text"]["value"] == "claim suspended"  # what was typed is kept
    ids = [el.get("id") for el in again["body"]]
    assert ids.index("category__error") == ids.index("category") + 1  # the error beside its field
    assert "choose a category" in json.dumps(again["body"][ids.index("category__error")])
    assert submit_data(again)["verb"] == "form:outcome.record"

    done = dialog(teams, "sam.patel", "task/submit", {**submit_data(again), "text": "claim suspended",
                                                        "category": "benefit-sanction"})
    assert "Action #1 closed" in json.dumps(done) and status_of_action(teams) != "open"


def test_update_opens_the_note_form_in_a_dialog_and_saves_the_note(teams: TeamsStack) -> None:
    card = record_action(teams)
    form = dialog(teams, "sam.patel", "task/fetch", buttons(card)[1]["data"])
    assert set(inputs(form)) == {"note"}
    dialog(teams, "sam.patel", "task/submit", {**submit_data(form), "note": "visited the first address"})
    with teams.factory() as s:
        assert [n.text for n in s.scalars(select(ActionNote))] == ["visited the first address"]


def test_a_typed_command_asking_for_a_form_gets_a_card_that_opens_it_in_a_dialog(teams: TeamsStack) -> None:
    record_action(teams)
    sam = teams.fake.personal_of(teams.ids["sam.patel"])
    before = len(teams.fake.sent_to(sam))
    status, _ = teams.post(teams.activity("sam.patel", "outcome"))
    assert status == 200
    [sent] = teams.fake.sent_to(sam)[before:]
    card = sent.activity["attachments"][0]["content"]
    assert "Opening the outcome form." in json.dumps(card)
    assert "OCG-07" not in sent.text and "benefits claim" not in sent.text  # the form is sealed in the chat
    [open_form] = buttons(card)
    assert open_form["type"] == "Action.Submit" and open_form["data"]["msteams"] == TASK_FETCH
    assert open_form["data"]["verb"] == cards.OPEN_FORM

    form = dialog(teams, "sam.patel", "task/fetch", open_form["data"])
    choices = inputs(form)["action"]["choices"]
    assert [c["value"] for c in choices] == ["1"] and "OCG-07" in choices[0]["title"]
    dialog(teams, "sam.patel", "task/submit", {**submit_data(form), "action": "1", "text": "claim suspended",
                                               "category": "benefit-sanction"})
    assert status_of_action(teams) != "open"


def test_a_form_oneday_did_not_seal_opens_nothing(teams: TeamsStack) -> None:
    sealed = "A" * 80
    shown = dialog(teams, "sam.patel", "task/fetch", {"msteams": TASK_FETCH, "verb": cards.OPEN_FORM,
                                                       cards.SEALED_FORM: sealed})
    assert "out of date or was not made by Oneday" in json.dumps(shown)
    assert not inputs(shown)


def test_a_form_button_pressed_in_a_group_chat_opens_the_dialog_for_the_presser_alone(teams: TeamsStack) -> None:
    card = record_action(teams)
    chat = "19:section@thread.v2"
    before = len(teams.fake.activities)
    form = dialog(teams, "sam.patel", "task/fetch", buttons(card)[0]["data"], conversation=chat, kind="groupChat")
    assert {"text", "category"} <= set(inputs(form))
    teams.drain()
    assert teams.fake.activities[before:] == []  # nothing posted anywhere


def test_a_sealed_form_opens_only_with_its_key_and_unchanged() -> None:
    from bot.teams import forms
    from commands.core.replies import Form, FormField

    form = Form("outcome.record", "Record an outcome", "Close action", fields=(
        FormField("action", "Action", "choice", (("1", "#1 OCG-07: check benefits"),)),
        FormField("text", "What happened", "multiline", initial="claim suspended", hint="Up to 1000 characters")),
        context="1", intro="Action #1 on OCG-07")
    sealed = forms.seal(form, "app-password")
    assert "OCG-07" not in sealed and forms.opened(sealed, "app-password") == form
    assert forms.opened(sealed, "another-password") is None
    flipped = sealed[:20] + ("B" if sealed[20] != "B" else "C") + sealed[21:]
    assert forms.opened(flipped, "app-password") is None
    assert forms.opened(None, "app-password") is None and forms.opened("%%%", "app-password") is None
