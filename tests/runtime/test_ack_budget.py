"""Slack's 3-second limit: a command still running at the ack budget is acknowledged empty, and its answer
follows through the command's response_url (bot/slack/http.py). A fast command is answered in the ack as before.

The slow command is made slow by a runner that waits on an event the test sets only after the ack came back:
nothing here depends on how fast the machine is."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture
def budget_stack(northtown_loaded) -> Iterator[dict[str, Any]]:  # type: ignore[no-untyped-def]
    from fake_slack import FakeSlack
    from slack_harness import SECRET
    from slack_requests import clear_proxy_env
    from slack_sdk import WebClient

    from bot.config import DEFAULT_COMMANDS
    from bot.http import make_server
    from bot.runner import Runner
    from bot.slack.app import build_app
    from bot.slack.http import bolt_routes

    release = threading.Event()

    class HeldRunner(Runner):
        """Holds `whoami` until the test releases it; every other command runs as normal."""

        def run(self, req, email_of, action=None):  # type: ignore[no-untyped-def]
            if req.text.strip() == "whoami":
                release.wait(timeout=30)
            return super().run(req, email_of, action)

    clear_proxy_env()
    with FakeSlack() as fake:
        client = WebClient(token="xoxb-test", base_url=fake.base_url)
        app = build_app(runner=HeldRunner(factory=northtown_loaded, names=dict(DEFAULT_COMMANDS)), client=client,
                        signing_secret=SECRET)
        server = make_server(bolt_routes(app, ack_budget=0.2), "127.0.0.1", 0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            yield {"url": f"http://127.0.0.1:{server.server_port}/slack/events", "fake": fake, "release": release,
                   "secret": SECRET}
        finally:
            release.set()
            server.shutdown()
            server.server_close()


def test_a_command_past_the_budget_is_acked_empty_and_answered_through_its_response_url(budget_stack) -> None:  # type: ignore[no-untyped-def]
    from slack_requests import send_command

    fake = budget_stack["fake"]
    response_url = fake.response_url()
    status, body, _ = send_command(budget_stack["url"], budget_stack["secret"], "/oneday", "whoami",
                                   user_id="U0TOM", response_url=response_url)
    assert status == 200 and body == ""  # acknowledged, nothing to show yet: the command is still held
    assert fake.calls_to("response_url") == []
    budget_stack["release"].set()
    [late] = fake.wait_for("response_url", 1, timeout=30)
    assert late.response is not None and response_url.endswith(late.response["url"])
    assert late.args.get("response_type") == "ephemeral"
    assert "Tom Ashby (tom.ashby)" in json.dumps(late.args)


def test_a_command_within_the_budget_is_answered_in_the_ack(budget_stack) -> None:  # type: ignore[no-untyped-def]
    from slack_requests import send_command

    fake = budget_stack["fake"]
    status, body, _ = send_command(budget_stack["url"], budget_stack["secret"], "/actions", "help",
                                   user_id="U0TOM", response_url=fake.response_url())
    assert status == 200 and "/actions overdue" in body
    assert fake.calls_to("response_url") == []


def test_the_budget_comes_from_the_environment_and_a_bad_value_is_named_in_one_line(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from bot.config import ConfigError
    from bot.slack.settings import ACK_BUDGET, ack_budget_from_env, from_env

    monkeypatch.setenv("ONEDAY_ACK_BUDGET_S", "1.5")
    assert ack_budget_from_env() == 1.5
    monkeypatch.delenv("ONEDAY_ACK_BUDGET_S")
    assert ack_budget_from_env() == ACK_BUDGET == 2.0
    assert from_env({}).ack_budget == 2.0 and from_env({"ONEDAY_ACK_BUDGET_S": "0.5"}).ack_budget == 0.5
    for bad in ("soon", "0", "-1", "nan"):
        with pytest.raises(ConfigError) as refused:
            from_env({"ONEDAY_ACK_BUDGET_S": bad})  # read with Slack's settings at start-up, before serving
        assert str(refused.value) == ("ONEDAY_ACK_BUDGET_S must be a number of seconds greater than 0, e.g. "
                                      f"ONEDAY_ACK_BUDGET_S=2 (got {bad!r})")
