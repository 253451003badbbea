"""Block Kit limits are the Slack renderer's: commands hand over every line and item, bot/slack/ decides what
fits (50 blocks a message, 100 a view, 3000 characters a section, 25 buttons an actions block) and says how
many it left out."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

from moments import FILE_LOADED
from sqlalchemy import select

from bot import db
from bot.slack.blocks import MAX_BLOCKS, VIEW_BLOCKS, render
from bot.slack.forms import render_form
from bot.slack.home import home_view
from commands.chasing.rounds import reminder_message
from commands.core import access
from commands.core.context import Caller
from commands.core.names import DEFAULT_NAMES
from commands.core.replies import Button, Emphasis, Form, FormField, Item, Reply
from commands.home import page as home
from models import Action, Member, Partnership, Target

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def texts(blocks: list[dict[str, Any]]) -> list[str]:
    """Every piece of text in the blocks, each as Slack would measure it."""
    out = []
    for b in blocks:
        if "text" in b:
            out.append(b["text"]["text"])
        out += [f["text"] for f in b.get("fields", [])]
        out += [e["text"] for e in b.get("elements", []) if b["type"] == "context"]
    return out


def within_limits(blocks: list[dict[str, Any]], max_blocks: int = MAX_BLOCKS) -> None:
    assert len(blocks) <= max_blocks
    assert all(len(t) <= 3000 for t in texts(blocks))
    assert all(len(b["elements"]) <= 25 for b in blocks if b["type"] == "actions")
    ids = [b["block_id"] for b in blocks if "block_id" in b]
    assert len(ids) == len(set(ids))


def contexts(blocks: list[dict[str, Any]]) -> list[str]:
    return [b["elements"][0]["text"] for b in blocks if b["type"] == "context"]


def item_sections(blocks: list[dict[str, Any]], prefix: str) -> list[str]:
    return [b["text"]["text"] for b in blocks if b["type"] == "section" and "text" in b
            and b["text"]["text"].startswith(prefix)]


# ------------------------------------------------------------------------------------ the renderer


def test_two_hundred_long_lines_fit_one_message_with_a_count_of_the_rest() -> None:
    lines = tuple(f"line {i:03d} " + "x" * 290 for i in range(200))
    _, blocks = render(Reply(title="Plan", lines=lines, footer="footer", more="see the JSON plan"))
    within_limits(blocks)
    shown = sum(t.count("line ") for t in texts(blocks) if t.startswith("line "))
    assert 0 < shown < 200
    assert contexts(blocks) == [f"and {200 - shown} more lines: see the JSON plan", "footer"]
    assert blocks[0]["type"] == "header"


def test_two_hundred_short_lines_are_all_shown() -> None:
    lines = tuple(f"line {i}" for i in range(200))
    _, blocks = render(Reply(lines=lines))
    within_limits(blocks)
    assert "\n".join(texts(blocks)) == "\n".join(lines)


def test_a_line_longer_than_a_section_is_split_not_cut() -> None:
    _, blocks = render(Reply(lines=("y" * 7000,)))
    within_limits(blocks)
    assert "".join(texts(blocks)) == "y" * 7000


def test_two_hundred_items_with_buttons_fit_one_message() -> None:
    items = tuple(Item(f"#{i} OCG-07: call back", (Button("Done", "action.done", str(i)),
                                                  Button("Update", "action.update", str(i))))
                  for i in range(200))
    _, blocks = render(Reply(title="Your actions: 200 to report on", items=items, footer="footer",
                             more="see /actions"))
    within_limits(blocks)
    shown = item_sections(blocks, "#")
    assert shown == [f"#{i} OCG-07: call back" for i in range(len(shown))]  # the first ones, in order
    assert contexts(blocks) == [f"and {200 - len(shown)} more: see /actions", "footer"]
    assert len(shown) >= 20  # no fewer than the old fixed cap in commands/


def test_a_long_group_gives_way_and_every_other_group_keeps_its_heading_and_items() -> None:
    actions = [Item(f"#{i} N-0401: visit", (Button("Done", "action.done", str(i)),)) for i in range(200)]
    items = (Item("Your open actions (200)", heading=True), *actions,
             Item("Your sections on Tuesday 8 December", heading=True),
             Item("09:30-10:10 OCG", (Button("View pack", "pack.view", "1"),)),
             Item("Partnership health (coordinators)", heading=True), Item("Agencies without the ISP: none"))
    _, blocks = render(Reply(title="Oneday", lines=("Signed in as Jo.",), items=items, more="type /actions"),
                       VIEW_BLOCKS)
    within_limits(blocks, VIEW_BLOCKS)
    shown = item_sections(blocks, "#")
    assert len(shown) > 40
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert sections[-3:] == ["09:30-10:10 OCG", "Partnership health (coordinators)", "Agencies without the ISP: none"]
    more = next(n for n, b in enumerate(blocks) if b["type"] == "context")
    assert contexts(blocks) == [f"and {200 - len(shown)} more: type /actions"]
    assert blocks[more + 1]["text"]["text"] == "Your sections on Tuesday 8 December"  # the count closes its group


def test_lines_and_items_share_the_message() -> None:
    reply = Reply(lines=tuple("z" * 100 for _ in range(2000)),
                  items=tuple(Item(f"item {i}", (Button("Done", "action.done", str(i)),)) for i in range(200)))
    _, blocks = render(reply)
    within_limits(blocks)
    assert item_sections(blocks, "item ") and any(t.startswith("z") for t in texts(blocks))
    assert [c.split(" more")[0] for c in contexts(blocks)] == [
        f"and {2000 - sum(t.count('z' * 100) for t in texts(blocks))}",
        f"and {200 - len(item_sections(blocks, 'item '))}"]


def test_more_than_twenty_five_buttons_take_several_actions_blocks() -> None:
    buttons = tuple(Button(f"Move to day {i}", "action.redate", str(i)) for i in range(60))
    _, blocks = render(Reply(title="Check the new due date", buttons=buttons))
    within_limits(blocks)
    rows = [b for b in blocks if b["type"] == "actions"]
    assert [len(b["elements"]) for b in rows] == [25, 25, 10]
    assert [el["value"] for b in rows for el in b["elements"]] == [str(i) for i in range(60)]


def test_a_form_lists_the_first_hundred_choices_and_says_so() -> None:
    choices = tuple((str(n), f"#{n} OCG-07: " + "w" * 100) for n in range(150, 0, -1))
    view = render_form(Form("outcome.record", "Record an outcome for the whole partnership", "Close action",
                            fields=(FormField("action", "Action", "choice", choices),)))
    [field] = view["blocks"]
    options = field["element"]["options"]
    assert len(options) == 100 and options[0]["value"] == "150"
    assert all(len(o["text"]["text"]) <= 75 for o in options)
    assert field["hint"]["text"] == "The first 100 of 150 are listed."
    assert len(view["title"]["text"]) <= 24


def test_emphasis_becomes_a_block_kit_style() -> None:
    buttons = (Button("Done", "action.done", "1", Emphasis.PRIMARY), Button("Update", "action.update", "1"),
               Button("Cancel action", "action.cancel", "1", Emphasis.DESTRUCTIVE))
    _, blocks = render(Reply(buttons=buttons))
    assert [el.get("style") for el in blocks[0]["elements"]] == ["primary", None, "danger"]


def test_a_reply_survives_the_outbox_and_old_rows_still_read() -> None:
    reply = Reply(title="Action #3", buttons=(Button("Done", "action.done", "3", Emphasis.PRIMARY),),
                  items=(Item("Yours", heading=True), Item("#3", (Button("Cancel", "a.c", "3", Emphasis.DESTRUCTIVE),))),
                  more="see /actions")
    stored = json.loads(json.dumps(reply.to_dict()))  # the outbox keeps it as JSON
    assert stored["buttons"][0]["emphasis"] == "primary" and "ephemeral" not in stored
    assert Reply.from_dict(stored) == reply
    queued_before = {"title": "Action #3", "lines": [], "fields": [], "footer": None, "ephemeral": False,
                     "buttons": [{"label": "Done", "action": "action.done", "value": "3", "style": "primary"},
                                 {"label": "Update", "action": "action.update", "value": "3", "style": None}],
                     "items": [{"text": "#3",
                                "buttons": [{"label": "No", "action": "a.n", "value": "", "style": "danger"}]}]}
    old = Reply.from_dict(queued_before)
    assert [b.emphasis for b in old.buttons] == [Emphasis.PRIMARY, Emphasis.DEFAULT]
    assert old.items[0].buttons[0].emphasis is Emphasis.DESTRUCTIVE


# ------------------------------------------------------------------------------------ commands no longer cut


def test_a_reminder_carries_every_action_and_the_message_says_how_many_are_not_shown() -> None:
    today = date(2026, 11, 20)
    target = Target(ref="OCG-07")
    actions = []
    for n in range(1, 201):
        a = Action(number=n, text=f"check claim {n}", due=today + timedelta(days=n % 5))
        a.target = target
        actions.append((a, "first"))
    reply = reminder_message(actions, today, DEFAULT_NAMES)
    assert len(reply.items) == 200 and not reply.lines and reply.more == "see /actions"
    _, blocks = render(reply)
    within_limits(blocks)
    shown = item_sections(blocks, "#")
    assert f"and {200 - len(shown)} more: see /actions" in contexts(blocks)


def test_the_home_page_lists_every_open_action(northtown_loaded) -> None:  # type: ignore[no-untyped-def]
    with db.unit_of_work(northtown_loaded) as session:
        p = session.scalar(select(Partnership))
        jo = session.scalar(select(Member).where(Member.key == "jo.bloggs"))
        assert p is not None and jo is not None
        caller = Caller(session, p, jo, NOW)
        target = next(t for t in session.scalars(select(Target)) if access.member_may_see(caller, jo, t))
        for n in range(1, 81):
            session.add(Action(partnership_id=p.id, number=n, target=target, owner=jo, created_by=jo,
                               text=f"follow up {n}", due=date(2026, 12, 1) + timedelta(days=n),
                               created_at=FILE_LOADED, updated_at=FILE_LOADED))
        session.flush()
        page = home.build(caller)
    headings = [i.text for i in page.items if i.heading]
    assert headings[0] == "Your open actions (80)" and "Partnership health (coordinators)" in headings
    assert sum(1 for i in page.items if i.text.startswith("#")) == 80
    assert not any("more" in i.text for i in page.items)
    view = home_view(page)
    within_limits(view["blocks"], VIEW_BLOCKS)
    shown = item_sections(view["blocks"], "#")
    assert 10 < len(shown) < 80
    assert f"and {80 - len(shown)} more: type /actions" in contexts(view["blocks"])
    assert item_sections(view["blocks"], "Partnership health")
