"""Buttons on Teams: Action.Execute with a verb on every button that answers in the chat (the answer replaces
the card), a form card from before dialogs still submits; forms open as dialogs (tests/teams/test_dialogs.py)."""

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


def test_a_bad_form_value_on_a_form_card_is_shown_on_the_card(teams: TeamsStack) -> None:
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
