"""Renamed slash commands (ONEDAY_COMMAND_*) answer with their own names everywhere: help, usage errors and their
examples, hints in replies, buttons and forms, the home page and the chair's digest; no default name leaks."""

from __future__ import annotations

import ast
import re

import pytest
from actions_support import NOW, press, reply_text, run, submit
from paths import REPO
from sqlalchemy import select

from bot.runner import Request, Runner
from commands.chasing.digest import weekly_digest
from commands.core.replies import Reply, Result
from commands.home import page as home
from models import Partnership

RENAMED = {"agenda": "/od-agenda", "action": "/od-action", "outcome": "/od-outcome", "actions": "/od-actions",
           "oneday": "/od"}
DEFAULT = re.compile(r"(?<![\w-])/(?:agenda|actions?|outcome|oneday)\b")
COMMANDS = REPO / "commands"


@pytest.fixture
def runner(northtown_loaded) -> Runner:  # type: ignore[no-untyped-def]
    return Runner(factory=northtown_loaded, names=dict(RENAMED), clock=lambda: NOW)


def text_of(reply: Reply) -> str:
    return "\n".join([reply_text(Result(reply)), *(i.text for i in reply.items)])


def no_default_names(text: str) -> str:
    assert DEFAULT.findall(text) == [], text
    return text


def test_help_names_every_command_as_configured(runner: Runner) -> None:
    for intent, name in RENAMED.items():
        text = no_default_names(reply_text(run(runner, "tom", intent, "help")))
        assert text.startswith(f"{name} help")
    assert "/od-action OCG-07 @sam check benefits claim by Friday  -  record an action for an owner" in reply_text(
        run(runner, "tom", "action", "help"))


def test_usage_errors_show_examples_with_the_configured_names(runner: Runner) -> None:
    cases = [
        ("action", "OCG-07", "Example: /od-action OCG-07 @sam check benefits claim by Friday"),
        ("action", "OCG-07 @sam.patel check by 31/11", "Example: /od-action OCG-07 @sam check benefits claim"),
        ("action", "OCG-07 @nobody check benefits claim", "(see /od whoami)"),
        ("action", "due 1", "Example: /od-action due 12 5/12 awaiting DWP reply"),
        ("outcome", "one claim suspended nfa", "Example: /od-outcome 12 claim suspended pending review "
                                               "benefit-sanction"),
        ("actions", "overdue page x", "Example: /od-actions overdue page 2"),
        ("actions", "overdue OCG-07", "Example: /od-actions overdue"),
        ("oneday", "whoami please", "'/od whoami' takes no arguments"),
        ("oneday", "frobnicate", "Example: /od whoami"),
        ("agenda", "plan", "'/od-agenda plan' takes the meeting date"),
        ("agenda", "", "Example: /od-agenda plan 2026-12-01"),  # computed: the Tuesday a week on from NOW
    ]
    for intent, text, expected in cases:
        shown = no_default_names(reply_text(run(runner, "tom", intent, text)))
        assert expected in shown, (intent, text, shown)


def test_replies_point_to_the_configured_commands(runner: Runner) -> None:
    saved = run(runner, "tom", "action", "OCG-07 @sam.patel check benefits claim in 2 weeks")
    assert saved.reply.title == "Action #1 recorded"
    assert saved.reply.footer == "Sam Patel has been sent it. Update it with /od-action update 1 <note>."
    no_default_names(reply_text(saved))
    for notice in saved.notices:
        no_default_names(text_of(notice.message))

    empty = run(runner, "bea", "actions", "")
    assert no_default_names(reply_text(empty)).splitlines()[:2] == ["Your open actions", "None."]

    nothing_to_close = reply_text(run(runner, "bea", "outcome", ""))
    assert "To see the actions you may see: /od-actions" in no_default_names(nothing_to_close)

    run(runner, "tom", "action", "cancel 1 duplicate")
    closed = reply_text(run(runner, "tom", "outcome", "1 claim suspended nfa"))
    assert "action 1 is already cancelled: you can't record an outcome for it" in closed
    assert "Example: /od-actions OCG-07" in no_default_names(closed)

    plan = reply_text(run(runner, "jo", "agenda", "plan 2026-12-08"))
    assert "Nothing is sent until you publish: /od-agenda publish 2026-12-08" in no_default_names(plan)
    assert "Example: /od-agenda publish 2026-12-01" in no_default_names(
        reply_text(run(runner, "jo", "agenda", "publish 2020-01-07")))


def test_buttons_forms_and_pages_use_the_configured_names(runner: Runner) -> None:
    stale = reply_text(press(runner, "tom", "action.confirm", "not json"))
    assert "Example: /od-action OCG-07 @sam check benefits claim by Friday" in no_default_names(stale)
    assert "Example: /od-action due 12 5/12" in no_default_names(
        reply_text(press(runner, "tom", "action.redate", "not json")))
    assert "Example: /od-actions" in no_default_names(reply_text(press(runner, "tom", "actions.page", "x")))
    form = submit(runner, "tom", "outcome.record", {"text": "", "category": ""}, "x")
    no_default_names(reply_text(form))
    run(runner, "tom", "action", "OCG-07 @sam.patel check benefits claim in 2 weeks")
    not_mine = press(runner, "sam", "action.not_mine", "1")
    [told] = [n for n in not_mine.notices if n.to.ref == "jo.bloggs"]
    assert "Reassign it: /od-action reassign 1 @member" in no_default_names(text_of(told.message))


def test_the_home_page_and_the_digest_use_the_configured_names(runner: Runner, northtown_loaded) -> None:  # type: ignore[no-untyped-def]
    page = runner.run(Request("slack", "T0TEST", "U0TOM", "home", ""), lambda _user: None,
                      lambda caller: Result(home.build(caller)))
    assert "Type /od help for every command" in no_default_names(text_of(page.reply))
    with northtown_loaded() as session:
        p = session.scalar(select(Partnership))
        assert p is not None
        [digest, *_] = weekly_digest(session, p, NOW, names=RENAMED)
    assert "open /od-actions overdue for the details" in no_default_names(text_of(digest.message))


def test_no_command_name_is_spelled_out_in_commands() -> None:
    """Only commands/core/names.py holds the default names; docstrings may mention them."""
    found = []
    for path in sorted(COMMANDS.rglob("*.py")):
        if path.name == "names.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                      if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
                      and node.body and isinstance(node.body[0], ast.Expr)}
        found += [f"{path.relative_to(COMMANDS.parent)}:{node.lineno} {node.value!r}" for node in ast.walk(tree)
                  if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
                  and DEFAULT.search(node.value)]
    assert found == []
