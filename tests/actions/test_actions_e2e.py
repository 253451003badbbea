"""/action, /actions and /outcome end to end: signed HTTP into bolt, the fake Slack as the far end, the outbox
delivering DMs. bea.morris (U0BEA) is not in OCG-07's section; tom.ashby (U0TOM) leads it; sam.patel (U0SAM)
is in it (see test_action_commands.test_sample_sections_are_as_assumed).
"""

from __future__ import annotations

import json

from sqlalchemy import func, select

from models import Action, AuditEvent

REFUSAL = "You can't see 'OCG-07': either it doesn't exist or you are not in its section."


def _refusals(factory) -> list[tuple[str, str | None]]:  # type: ignore[no-untyped-def]
    with factory() as session:
        return [(e.actor, e.target_ref) for e in session.scalars(
            select(AuditEvent).where(AuditEvent.kind == "refusal").order_by(AuditEvent.id))]


def _actions(factory) -> int:  # type: ignore[no-untyped-def]
    with factory() as session:
        return session.scalar(select(func.count()).select_from(Action)) or 0


def test_uninvited_member_is_refused_and_audited(slack_env) -> None:  # type: ignore[no-untyped-def]
    listed = slack_env.command("U0BEA", "/actions", "OCG-07")
    assert listed.status == 200 and listed.body["response_type"] == "ephemeral"
    assert REFUSAL in listed.text
    recorded = slack_env.command("U0BEA", "/action", "OCG-07 <@U0SAM|sam.patel> check benefits claim by Friday")
    assert recorded.status == 200 and recorded.body["response_type"] == "ephemeral"
    assert REFUSAL in recorded.text
    slack_env.drain()
    assert _actions(slack_env.factory) == 0
    assert _refusals(slack_env.factory) == [("member:bea.morris", "OCG-07"), ("member:bea.morris", "OCG-07")]
    assert slack_env.dms_to("U0SAM") == []
    slack_env.fake.assert_no_rejections()


def test_invited_member_records_an_action_and_the_owner_is_told(slack_env) -> None:  # type: ignore[no-untyped-def]
    answer = slack_env.command("U0TOM", "/action",
                               "OCG-07 <@U0SAM|sam.patel> check benefits claim &lt;b&gt; <!channel> in 2 weeks")
    assert answer.status == 200 and answer.body["response_type"] == "ephemeral"
    assert "Action #1 recorded" in answer.text
    assert "check benefits claim &lt;b&gt; &lt;!channel&gt;" in answer.text  # escaped on the way out: no ping
    slack_env.drain()
    [dm] = slack_env.dms_to("U0SAM")
    blocks = json.dumps(dm["blocks"])
    assert "New action #1 on OCG-07" in blocks and "<!channel>" not in blocks and "<b>" not in blocks
    buttons = [e for b in dm["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [(b["action_id"], b["value"]) for b in buttons] == [("action.done", "1"), ("action.update", "1")]
    assert "Riverside" not in blocks  # never target details

    listed = slack_env.command("U0SAM", "/actions", "OCG-07")
    assert "#1 OCG-07: check benefits claim" in listed.text

    assert slack_env.press("U0SAM", "action.done", "1") == 200
    [form] = slack_env.modals()
    assert form["callback_id"] == "outcome.record" and form["private_metadata"] == "1"
    closed = slack_env.submit("U0SAM", "outcome.record",
                              {"text": "claim suspended", "category": "benefit-sanction"}, context="1")
    assert closed.status == 200 and closed.body["response_action"] == "update"
    slack_env.drain()
    [told] = slack_env.dms_to("U0TOM")
    assert "Outcome for action #1 on OCG-07" in json.dumps(told["blocks"])
    assert _refusals(slack_env.factory) == []
    slack_env.fake.assert_no_rejections()


def test_bad_form_fields_are_marked_on_the_form(slack_env) -> None:  # type: ignore[no-untyped-def]
    answer = slack_env.submit("U0TOM", "action.create", {"target": "OCG-07", "owner": "@nobody", "text": "x",
                                                         "due": ""})
    assert answer.status == 200
    assert answer.body == {"response_action": "errors",
                           "errors": {"owner": "not a member: type their member key, e.g. @sam.patel"}}


def test_slack_text_is_made_platform_neutral() -> None:
    from bot.slack.text import neutral

    assert neutral("OCG-07 <@U0SAM|sam.patel> ask <@W0JO> &lt;b&gt; &amp; <!channel> <https://x.example|y>") == (
        "OCG-07 @{slack:U0SAM} ask @{slack:W0JO} <b> & <!channel> <https://x.example|y>")


def test_personal_data_is_shown_only_to_the_author_until_saved_as_written(slack_env) -> None:  # type: ignore[no-untyped-def]
    answer = slack_env.command("U0TOM", "/action", "OCG-07 <@U0SAM|sam.patel> visit NT1 4AB in 2 weeks")
    assert answer.status == 200 and answer.body["response_type"] == "ephemeral"
    assert "This action contains a postcode (NT1 4AB)." in answer.text
    buttons = {e["text"]["text"]: e for b in answer.body["blocks"] if b["type"] == "actions" for e in b["elements"]}
    assert [(label, b["action_id"]) for label, b in buttons.items()] == [("Edit", "action.correct"),
                                                                         ("Save as written", "action.confirm")]
    slack_env.drain()
    assert _actions(slack_env.factory) == 0 and slack_env.dms_to("U0SAM") == []  # nothing saved, nothing sent
    assert slack_env.press("U0TOM", "action.confirm", buttons["Save as written"]["value"]) == 200
    slack_env.drain()
    assert _actions(slack_env.factory) == 1
    [dm] = slack_env.dms_to("U0SAM")
    assert "New action #1 on OCG-07" in json.dumps(dm["blocks"])
    slack_env.fake.assert_no_rejections()
