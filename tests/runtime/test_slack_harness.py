"""The in-process harness itself drives the real stack: signed commands answered in the ack."""

from __future__ import annotations


def test_harness_answers_whoami_and_help(slack_env) -> None:  # type: ignore[no-untyped-def]
    answer = slack_env.command("U0TOM", "/oneday", "whoami")
    assert answer.status == 200
    assert "Tom Ashby (tom.ashby)" in answer.text
    assert "/actions help" in slack_env.command("U0TOM", "/actions", "help").text
    slack_env.fake.assert_no_rejections()


def test_unknown_button_gets_a_clear_ephemeral_answer(slack_env) -> None:  # type: ignore[no-untyped-def]
    assert slack_env.press("U0TOM", "nothing.here", "x") == 200
    [answer] = slack_env.responses()
    assert "this button is no longer in use" in str(answer.get("blocks"))
    assert answer.get("response_type") == "ephemeral"


def test_command_names_are_configurable(northtown_loaded) -> None:  # type: ignore[no-untyped-def]
    from fake_slack import FakeSlack
    from slack_harness import SECRET
    from slack_requests import clear_proxy_env, send_command
    from slack_sdk import WebClient

    from bot.config import from_env
    from bot.http import make_server
    from bot.runner import Runner
    from bot.slack.app import build_app
    from bot.slack.http import bolt_routes

    settings = from_env({"ONEDAY_COMMAND_ONEDAY": "csp", "ONEDAY_COMMAND_ACTIONS": "/csp-actions"})
    assert settings.commands["oneday"] == "/csp" and settings.commands["actions"] == "/csp-actions"
    clear_proxy_env()
    with FakeSlack() as fake:
        client = WebClient(token="xoxb-test", base_url=fake.base_url)
        app = build_app(runner=Runner(factory=northtown_loaded, names=settings.commands), client=client,
                        signing_secret=SECRET)
        server = make_server(bolt_routes(app), "127.0.0.1", 0)
        import threading

        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_port}/slack/events"
        try:
            status, body, _ = send_command(url, SECRET, "/csp", "help", user_id="U0TOM")
            assert status == 200 and "/csp whoami" in body and "/csp-actions" not in body
            status, body, _ = send_command(url, SECRET, "/csp-actions", "help", user_id="U0TOM")
            assert status == 200 and "/csp-actions overdue" in body
            status, _, _ = send_command(url, SECRET, "/oneday", "help", user_id="U0TOM")
            assert status == 404  # the default name is no longer registered
        finally:
            server.shutdown()
            server.server_close()
