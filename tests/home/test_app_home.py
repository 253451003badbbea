"""The App Home tab end to end: signed `app_home_opened` events into bolt over HTTP, the home view checked
at the wire (the fake Slack's recorded views.publish calls).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

import pytest
from slack_harness import SECRET
from slack_requests import block_actions_payload, send_action, send_event, view_submission_payload
from slack_sdk import WebClient
from sqlalchemy import select

from bot import db
from bot.config import DEFAULT_COMMANDS
from bot.http import make_server
from bot.runner import Runner
from bot.slack.app import build_app
from bot.slack.http import bolt_routes
from models import Member, Partnership, Section, Target
from models.action import OUTCOME_CATEGORIES
from models.planning import plan_day

DAY = "2026-12-08"
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # a week before the meeting


@pytest.fixture
def env(slack_env):  # type: ignore[no-untyped-def]
    slack_env.clock.set(NOW)
    return slack_env


def open_home(env, user: str, *, event_id: str | None = None, tab: str = "home") -> int:  # type: ignore[no-untyped-def]
    event = {"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": tab,
             "event_ts": f"{time.time():.6f}"}
    status, _, _ = send_event(env.url, SECRET, event, event_id=event_id)
    return status


def homes_of(env, user: str) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    return [c.args["view"] for c in env.fake.calls_to("views.publish") if c.args["user_id"] == user]


def home_of(env, user: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    views = homes_of(env, user)
    assert views, f"no home published for {user}"
    assert views[-1]["type"] == "home"
    return views[-1]


def buttons(view: dict[str, Any], action_id: str) -> list[str]:
    return [el["value"] for b in view["blocks"] if b["type"] == "actions" for el in b["elements"]
            if el["action_id"] == action_id]


def record_action(env, lead: str, text: str) -> int:  # type: ignore[no-untyped-def]
    answer = env.command(lead, "/action", text)
    assert answer.status == 200 and "Action #" in answer.text, answer.text
    return int(answer.text.split("Action #")[1].split()[0].rstrip(":,."))


def entitled_sections(factory, member_key: str) -> set[str]:  # type: ignore[no-untyped-def]
    """Section ids of the published day that the need-to-know rule gives the member now."""
    with factory() as session:
        p = session.scalar(select(Partnership))
        planned = {s.cohort: set(s.members) for s in plan_day(session, p, date.fromisoformat(DAY)).sections}
        return {str(s.id) for s in session.scalars(select(Section)) if member_key in planned.get(s.cohort.key, ())}


def secrets(factory) -> list[str]:  # type: ignore[no-untyped-def]
    with factory() as session:
        return [t.details.summary for t in session.scalars(select(Target)) if t.details and t.details.summary]


def test_two_members_of_different_agencies_each_see_only_their_own_content(env) -> None:  # type: ignore[no-untyped-def]
    assert env.command("U0JO", "/agenda", f"publish {DAY}").status == 200
    env.drain()
    sams = record_action(env, "U0TOM", "OCG-07 <@U0SAM|sam.patel> check the benefits claim by 2026-12-20")
    lucys = record_action(env, "U0BEA", "N-0401 <@U0LUCY|lucy.hart> arrange a strategy meeting by 2026-12-18")

    assert open_home(env, "U0SAM") == 200
    assert open_home(env, "U0LUCY") == 200
    sam, lucy = home_of(env, "U0SAM"), home_of(env, "U0LUCY")
    sam_text, lucy_text = json.dumps(sam), json.dumps(lucy)

    # Their own open actions, with the reminder buttons; never the other's.
    assert buttons(sam, "action.done") == [str(sams)] and buttons(lucy, "action.done") == [str(lucys)]
    for view in (sam, lucy):
        assert {"action.done", "action.update", "action.more_time", "action.not_mine"} <= {
            el["action_id"] for b in view["blocks"] if b["type"] == "actions" for el in b["elements"]}
    assert f"#{sams} OCG-07" in sam_text and "check the benefits claim" in sam_text
    assert "N-0401" not in sam_text and "strategy meeting" not in sam_text
    assert f"#{lucys} N-0401" in lucy_text and "OCG-07" not in lucy_text and "benefits claim" not in lucy_text

    # Exactly the sections each is entitled to now, with their times.
    sam_sections, lucy_sections = entitled_sections(env.factory, "sam.patel"), entitled_sections(env.factory,
                                                                                               "lucy.hart")
    assert sam_sections and lucy_sections and sam_sections != lucy_sections
    assert set(buttons(sam, "pack.view")) == sam_sections
    assert set(buttons(lucy, "pack.view")) == lucy_sections
    with env.factory() as session:
        for sid in sam_sections | lucy_sections:
            section = session.get(Section, int(sid))
            start = section.starts_at.astimezone(section.meeting.sections[0].starts_at.tzinfo)
            shown_in = sam_text if sid in sam_sections else lucy_text
            hidden_from = lucy_text if sid in sam_sections else sam_text
            assert section.cohort.name in shown_in
            if sid not in (sam_sections & lucy_sections):
                assert section.cohort.name not in hidden_from
            assert start.tzinfo is not None

    # Each section line names exactly the member's own targets in it, as the rule gives them now.
    with env.factory() as session:
        p = session.scalar(select(Partnership))
        plan = plan_day(session, p, date.fromisoformat(DAY))
    for key, text in (("sam.patel", sam_text), ("lucy.hart", lucy_text)):
        theirs = {sl.target for sec in plan.sections for sl in sec.slots if key in sl.members}
        others = {sl.target for sec in plan.sections for sl in sec.slots} - theirs
        assert theirs and all(ref in text for ref in theirs), key
        assert not [ref for ref in others if re.search(rf"\b{re.escape(ref)}\b", text)], key

    # No target details, no partnership health for partners.
    for text in (sam_text, lucy_text):
        assert not any(s in text for s in secrets(env.factory))
        assert "Partnership health" not in text
    env.fake.assert_no_rejections()


def test_coordinator_sees_partnership_health_in_counts_and_keys(env) -> None:  # type: ignore[no-untyped-def]
    assert env.command("U0JO", "/agenda", f"publish {DAY}").status == 200
    env.drain()
    record_action(env, "U0TOM", "OCG-07 <@U0SAM|sam.patel> check the benefits claim by 2026-12-20")
    with env.factory() as session:  # make it overdue: the clock moves past its due date
        no_chat = sorted(m.key for m in session.scalars(select(Member)) if not m.identities and m.active)
    env.clock.set(datetime(2026, 12, 22, 10, 0, tzinfo=UTC))
    assert open_home(env, "U0JO") == 200
    text = json.dumps(home_of(env, "U0JO"))
    assert "Partnership health" in text
    assert "Agencies without the current ISP (2026-1): dvla, victim-support" in text
    assert f"Members without a chat identity: {', '.join(no_chat)}" in text
    assert "Overdue actions by agency: Department for Work and Pensions 1" in text
    assert not any(s in text for s in secrets(env.factory))


def test_a_repeated_event_id_publishes_once_and_the_messages_tab_publishes_nothing(env) -> None:  # type: ignore[no-untyped-def]
    assert open_home(env, "U0SAM", event_id="Ev0HOME1") == 200
    assert open_home(env, "U0SAM", event_id="Ev0HOME1") == 200  # Slack's retry of the same event
    assert len(homes_of(env, "U0SAM")) == 1
    assert open_home(env, "U0SAM", event_id="Ev0HOME2") == 200  # a new opening redraws (idempotently)
    views = homes_of(env, "U0SAM")
    assert len(views) == 2 and views[0]["blocks"] == views[1]["blocks"]
    assert open_home(env, "U0SAM", event_id="Ev0MSGS", tab="messages") == 200
    assert len(homes_of(env, "U0SAM")) == 2


def test_a_stranger_is_told_they_are_not_a_member(env) -> None:  # type: ignore[no-untyped-def]
    env.fake.add_user("U0NOBODY", "nobody@elsewhere.example", "nobody")
    assert open_home(env, "U0NOBODY") == 200
    text = json.dumps(home_of(env, "U0NOBODY"))
    assert "not a member of Northtown CSP" in text and "OCG-" not in text


def test_buttons_in_the_home_answer_in_a_modal_and_redraw_the_home(env) -> None:  # type: ignore[no-untyped-def]
    number = record_action(env, "U0TOM", "OCG-07 <@U0SAM|sam.patel> check the benefits claim by 2026-12-20")
    assert open_home(env, "U0SAM") == 200
    home = home_of(env, "U0SAM")
    payload = block_actions_payload("action.not_mine", str(number), user_id="U0SAM",
                                    view={"id": "VHOMEU0SAM", "type": "home"})
    status, _, _ = send_action(env.url, SECRET, payload)
    assert status == 200
    modal = env.modals()[-1]
    assert modal["type"] == "modal" and "coordinators told" in json.dumps(modal)
    assert not env.fake.calls_to("views.update")  # the home view is never turned into a modal
    assert len(homes_of(env, "U0SAM")) == 2 and homes_of(env, "U0SAM")[-1]["type"] == "home"

    payload = block_actions_payload("action.done", str(number), user_id="U0SAM", view=home)
    assert send_action(env.url, SECRET, payload)[0] == 200
    assert env.modals()[-1].get("callback_id") == "outcome.record"  # the outcome form opens
    env.fake.assert_no_rejections()


@contextmanager
def another_replica(env) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A second `serve` on the same database: its own engine, Runner and bolt app, on its own port. Yields its
    events URL."""
    url = env.factory.kw["bind"].url.render_as_string(hide_password=False)
    engine = db.make_engine(url)
    runner = Runner(factory=db.session_factory(engine), names=dict(DEFAULT_COMMANDS), clock=env.clock)
    client = WebClient(token="xoxb-test", base_url=env.fake.base_url, retry_handlers=[])
    server = make_server(bolt_routes(build_app(runner=runner, client=client, signing_secret=SECRET)), "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/slack/events"
    finally:
        server.shutdown()
        server.server_close()
        engine.dispose()


def test_a_repeated_event_id_is_dropped_by_another_replica(env) -> None:  # type: ignore[no-untyped-def]
    event = {"type": "app_home_opened", "user": "U0SAM", "channel": "D0HOME", "tab": "home",
             "event_ts": f"{time.time():.6f}"}
    with another_replica(env) as second:
        assert send_event(env.url, SECRET, event, event_id="Ev0TWICE")[0] == 200
        assert send_event(second, SECRET, event, event_id="Ev0TWICE")[0] == 200  # Slack's retry, elsewhere
        assert len(homes_of(env, "U0SAM")) == 1
        assert send_event(second, SECRET, event, event_id="Ev0OTHER")[0] == 200
        assert len(homes_of(env, "U0SAM")) == 2


def test_a_change_through_another_replica_redraws_a_home_drawn_by_the_first(env) -> None:  # type: ignore[no-untyped-def]
    first = record_action(env, "U0TOM", "OCG-07 <@U0SAM|sam.patel> check the benefits claim by 2026-12-20")
    second = record_action(env, "U0TOM", "OCG-07 <@U0SAM|sam.patel> visit the address by 2026-12-21")

    def close(url: str, number: int) -> None:
        state = {"text": {"text": {"type": "plain_text_input", "value": "claim stopped"}},
                 "category": {"category": {"type": "plain_text_input", "value": OUTCOME_CATEGORIES[0]}}}
        payload = view_submission_payload("outcome.record", state, private_metadata=str(number), user_id="U0SAM")
        assert send_action(url, SECRET, payload)[0] == 200

    with another_replica(env) as other:
        close(other, first)
        assert homes_of(env, "U0SAM") == []  # never opened: nothing to redraw
        assert open_home(env, "U0SAM") == 200  # drawn by the first replica
        close(other, second)  # changed through the second
        views = homes_of(env, "U0SAM")
        assert len(views) == 2
        assert buttons(views[0], "action.done") == [str(second)] and buttons(views[1], "action.done") == []
    env.fake.assert_no_rejections()
