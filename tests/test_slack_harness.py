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
