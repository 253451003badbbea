"""Reminder buttons on Teams: Action.Execute with a verb on every button; pressing one answers with a card that
replaces it (a form where Slack would open a modal); submitting the form closes the action."""

from __future__ import annotations

import json
from typing import Any

from fake_teams_stack import TeamsStack
from sqlalchemy import select

from models import Action


def actions_of(card: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = list(card.get("actions") or [])
    for el in card.get("body") or []:
        if el.get("type") == "ActionSet":
            found.extend(el["actions"])
    return found


def test_done_opens_the_outcome_form_in_the_card_and_submitting_it_closes_the_action(teams: TeamsStack) -> None:
    teams.post(teams.activity("tom.ashby", "action OCG-07 @sam.patel check benefits claim by Friday"))
    teams.drain()
    [dm] = [s for s in teams.fake.sent_to(teams.fake.personal_of(teams.ids["sam.patel"]))]
    card = dm.activity["attachments"][0]["content"]
    buttons = actions_of(card)
    assert all(b["type"] == "Action.Execute" and b["verb"] for b in buttons)  # no Action.Execute without a verb
    assert [(b["verb"], b["data"]) for b in buttons] == [("action.done", {"value": "1"}),
                                                         ("action.update", {"value": "1"})]
    assert "Riverside" not in json.dumps(card)  # never target details in a DM card

    status, body = teams.post(teams.press("sam.patel", "action.done", {"value": "1"}))
    assert status == 200 and body["type"] == "application/vnd.microsoft.card.adaptive"
    form = body["value"]
    [submit] = form["actions"]
    assert submit["verb"] == "form:outcome.record" and submit["data"] == {"__context": "1"}
    assert {el.get("id") for el in form["body"]} >= {"text", "category"}

    status, body = teams.post(teams.press("sam.patel", "form:outcome.record",
                                          {"__context": "1", "text": "claim suspended",
                                           "category": "benefit-sanction"}))
    assert status == 200 and body["type"] == "application/vnd.microsoft.card.adaptive"
    with teams.factory() as s:
        assert s.scalars(select(Action)).one().status != "open"
    teams.drain()
    assert "Outcome for action #1 on OCG-07" in teams.to("tom.ashby")


def test_a_bad_form_value_is_shown_on_the_card(teams: TeamsStack) -> None:
    status, body = teams.post(teams.press("tom.ashby", "form:action.create",
                                          {"target": "OCG-07", "owner": "@nobody", "text": "x", "due": ""}))
    assert status == 200
    shown = json.dumps(body["value"])
    assert "not a member" in shown
    with teams.factory() as s:
        assert s.scalars(select(Action)).all() == []


def test_pressed_in_a_shared_chat_the_answer_goes_to_the_presser_alone(teams: TeamsStack) -> None:
    chat = "19:section@thread.v2"
    status, body = teams.post(teams.press("tom.ashby", "actions.page", {"value": "1"}, conversation=chat,
                                          kind="groupChat"))
    assert status == 200 and body["type"] == "application/vnd.microsoft.activity.message"
    teams.drain()
    assert teams.fake.sent_to(chat) == []
    assert teams.fake.sent_to(teams.fake.personal_of(teams.ids["tom.ashby"]))
