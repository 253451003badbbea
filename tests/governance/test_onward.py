"""Onward disclosure with the chair's approval (`/agenda onward <REF> @member <reason>`), through Slack.

Northtown sample: sam.patel (DWP) is in OCG-07's slot; bea.morris is not; rose.gill chairs; jo.bloggs coordinates
(not a chair); tom.ashby leads OCG-07.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from models import AuditEvent, OnwardRequest, OnwardStatus, Target

REASON = "new offender manager for two of its members from Monday"


def _details(env: Any) -> str:
    with env.factory() as session:
        return session.scalar(select(Target).where(Target.ref == "OCG-07")).details.summary


def _events(env: Any, ref: str = "OCG-07") -> list[tuple[str, str, list[str]]]:
    with env.factory() as session:
        return [(e.kind, e.actor, e.recipients) for e in session.scalars(
            select(AuditEvent).where(AuditEvent.target_ref == ref).order_by(AuditEvent.id))]


def _buttons(post: dict[str, Any]) -> dict[str, str]:
    return {e["text"]["text"]: e["value"] for b in post["blocks"] if b["type"] == "actions" for e in b["elements"]}


def _ask(env: Any) -> str:
    answer = env.command("U0SAM", "/agenda", f"onward OCG-07 @bea.morris {REASON}")
    assert answer.status == 200 and "Onward disclosure requested" in answer.text, answer.text
    env.drain()
    [ask] = env.dms_to("U0ROSE")
    assert "Onward disclosure request: OCG-07" in json.dumps(ask["blocks"]) and REASON in json.dumps(ask["blocks"])
    return _buttons(ask)["Approve"]


def test_approved_the_recipient_sees_it_once_and_every_step_is_logged(slack_env) -> None:  # type: ignore[no-untyped-def]
    env, details = slack_env, _details(slack_env)
    request = _ask(env)
    assert env.dms_to("U0BEA") == []  # nothing reaches the recipient before a chair decides

    assert env.press("U0JO", "onward.approve", request) == 200  # a coordinator is not a chair
    assert "Only a chair can approve" in json.dumps(env.responses()[-1])
    assert env.press("U0ROSE", "onward.approve", request) == 200
    env.drain()
    [told] = env.dms_to("U0SAM")
    assert "Onward disclosure approved: OCG-07" in json.dumps(told["blocks"])
    [shared] = env.dms_to("U0BEA")
    assert "OCG-07" not in json.dumps(shared) and details not in json.dumps(shared)  # the DM names no target
    view = _buttons(shared)["View once"]

    assert env.press("U0SAM", "onward.view", view) == 200  # only the recipient opens it
    assert env.modals() == []
    assert env.press("U0BEA", "onward.view", view) == 200
    [modal] = env.modals()
    assert details in json.dumps(modal) and "OCG-07" in json.dumps(modal)
    assert env.press("U0BEA", "onward.view", view) == 200  # once
    assert len(env.modals()) == 1 and "can be opened once only" in json.dumps(env.responses()[-1])

    with env.factory() as session:
        assert session.scalar(select(OnwardRequest)).status == OnwardStatus.SHOWN
    kinds = [(kind, actor) for kind, actor, _ in _events(env)]
    assert ("collection", "member:sam.patel") in kinds
    assert ("refusal", "member:jo.bloggs") in kinds
    assert ("alteration", "member:rose.gill") in kinds
    assert [r for k, a, r in _events(env) if k == "disclosure" and a == "member:bea.morris"] == [["bea.morris"]]
    assert ("consultation", "member:bea.morris") in kinds
    assert kinds.count(("refusal", "member:bea.morris")) == 1 and ("refusal", "member:sam.patel") in kinds
    with env.factory() as session:  # the log holds the steps, never the reason or the details
        whats = " ".join(session.scalars(select(AuditEvent.what)))
    assert REASON not in whats and details not in whats
    env.fake.assert_no_rejections()


def test_refused_the_requester_is_told_and_the_recipient_gets_nothing(slack_env) -> None:  # type: ignore[no-untyped-def]
    env = slack_env
    request = _ask(env)
    assert env.press("U0ROSE", "onward.refuse", request) == 200
    env.drain()
    assert "Onward disclosure refused: OCG-07" in json.dumps(env.dms_to("U0SAM"))
    assert env.dms_to("U0BEA") == []
    assert env.press("U0ROSE", "onward.approve", request) == 200  # decided already: nothing changes
    assert "already refused" in json.dumps(env.responses()[-1])
    assert env.press("U0BEA", "onward.view", request) == 200
    assert env.modals() == []
    assert ("refusal", "member:rose.gill") in [(k, a) for k, a, _ in _events(env)]


def test_bad_requests_get_a_clear_answer_and_save_nothing(slack_env) -> None:  # type: ignore[no-untyped-def]
    env = slack_env
    cases = {
        "onward OCG-07": "takes a target reference, the person to share it with and why",
        "onward OCG-07 bea.morris because": "name the person to share it with with @",
        "onward OCG-07 @nobody.here because": "is not a member of",
        "onward OCG-07 @mark.dunn because": "already entitled to OCG-07",  # housing: in its slot
        f"onward OCG-07 @bea.morris {'x' * 501}": "The reason is too long (501 characters)",
    }
    for text, expected in cases.items():
        answer = env.command("U0SAM", "/agenda", text)
        assert answer.status == 200 and answer.body["response_type"] == "ephemeral"
        assert expected in answer.text, (text, answer.text)
        assert "/agenda onward OCG-07 @bea.morris" in answer.text  # a correct example
    refused = env.command("U0BEA", "/agenda", f"onward OCG-07 @sam.patel {REASON}")  # bea may not see OCG-07
    assert "You can't see 'OCG-07'" in refused.text
    with env.factory() as session:
        assert session.scalars(select(OnwardRequest)).all() == []
