"""POST /api/messages: tokens validated before anything happens; commands from the 1:1 chat and (with the bot
mentioned) from channels; the answer through the Bot Connector; Action.Execute answered with a card; repeated
activities dropped."""

from __future__ import annotations

import json

import pytest
from fake_teams import TENANT, FakeTeams
from fake_teams_stack import TeamsStack
from sqlalchemy import func, select, text

from bot.teams.inbound import ANSWERED_PRIVATELY
from models import Action, AuditEvent, Member, SeenEvent


def counts(factory) -> tuple[int, int, int, int]:  # type: ignore[no-untyped-def]
    with factory() as s:
        return (s.scalar(select(func.count()).select_from(AuditEvent)) or 0,
                s.scalar(select(func.count()).select_from(SeenEvent)) or 0,
                s.scalar(select(func.count()).select_from(Action)) or 0,
                s.scalar(text("select count(*) from teams_conversations")) or 0)


def test_signed_message_in_the_personal_chat_is_answered_through_the_connector(teams: TeamsStack) -> None:
    activity = teams.activity("tom.ashby", "oneday whoami")
    status, _ = teams.post(activity)
    assert status == 200
    [answer] = teams.fake.activities
    assert answer.conversation == teams.fake.personal_of(teams.ids["tom.ashby"])
    assert answer.reply_to == activity["id"]
    assert "Tom Ashby (tom.ashby)" in answer.text and "Northtown Police" in answer.text
    card = answer.activity["attachments"][0]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert not teams.fake.rejected  # the connector call carried a token from the token endpoint


@pytest.mark.parametrize("kind", ["forged", "expired", "wrong_audience", "wrong_issuer", "other_service_url",
                                  "none", "garbage"])
def test_bad_tokens_get_401_and_nothing_happens(teams: TeamsStack, fake_teams: FakeTeams, kind: str) -> None:
    before = counts(teams.factory)
    token = {
        "forged": fake_teams.token(forged=True),
        "expired": fake_teams.token(expires_in=-3600),  # past the validator's 5 minutes of leeway
        "wrong_audience": fake_teams.token(audience="11111111-1111-4111-8111-111111111111"),
        "wrong_issuer": fake_teams.token(issuer="https://evil.example"),
        "other_service_url": fake_teams.token(service_url="https://evil.example/"),
        "none": None,
        "garbage": "not.a.jwt",
    }[kind]
    status, _ = teams.post(teams.activity("tom.ashby", "action OCG-07 @sam.patel check benefits by Friday"),
                           token=token)
    assert status == 401
    assert counts(teams.factory) == before  # no audit, no seen id, no action, no stored reference
    assert fake_teams.activities == [] and fake_teams.created == []


def test_mention_in_a_channel_is_stripped_and_the_answer_goes_to_the_personal_chat(teams: TeamsStack) -> None:
    channel = "19:meeting@thread.tacv2"
    sam = teams.ids["sam.patel"]
    activity = teams.activity(
        "tom.ashby", "<at>Oneday</at> action OCG-07 <at>Sam Patel</at> check benefits claim by Friday",
        conversation=channel, kind="channel",
        entities=[{"type": "mention", "text": "<at>Oneday</at>", "mentioned": {"id": "28:oneday", "name": "Oneday"}},
                  {"type": "mention", "text": "<at>Sam Patel</at>",
                   "mentioned": {"id": "29:sam", "name": "Sam Patel", "aadObjectId": sam}}])
    status, _ = teams.post(activity)
    assert status == 200
    in_channel = teams.fake.sent_to(channel)
    assert [s.activity["text"] for s in in_channel] == [ANSWERED_PRIVATELY]
    assert "OCG-07" not in json.dumps([s.activity for s in in_channel])
    assert "Action #1 recorded" in teams.to("tom.ashby")
    with teams.factory() as s:
        action = s.scalars(select(Action)).one()
        assert action.owner.key == "sam.patel"
    teams.drain()  # the owner is told in their own 1:1 chat (created through the connector)
    assert "New action #1 on OCG-07" in teams.to("sam.patel")
    assert any(c["members"] == [{"id": sam}] and c["tenantId"] == TENANT for c in teams.fake.created)


def test_a_repeated_activity_is_dropped(teams: TeamsStack) -> None:
    activity = teams.activity("tom.ashby", "action OCG-07 @sam.patel check benefits claim by Friday")
    assert teams.post(activity)[0] == 200
    assert teams.post(activity)[0] == 200  # Teams retried: same id
    with teams.factory() as s:
        assert s.scalar(select(func.count()).select_from(Action)) == 1
    assert len(teams.fake.activities) == 1


def test_unknown_verb_gets_a_card_not_an_empty_200(teams: TeamsStack) -> None:
    status, body = teams.post(teams.press("tom.ashby", "nothing.here", {"value": "1"}))
    assert status == 200
    assert body["statusCode"] == 200 and body["type"] == "application/vnd.microsoft.card.adaptive"
    assert "no longer in use" in json.dumps(body["value"])
    status, body = teams.post(teams.press("tom.ashby", "", {}))
    assert status == 200 and body["type"] == "application/vnd.microsoft.card.adaptive"


def test_user_text_cannot_become_markdown_or_a_link(teams: TeamsStack) -> None:
    teams.post(teams.activity("tom.ashby", "action OCG-07 @sam.patel see [here](https://evil.example) **now** by Friday"))
    answer = teams.to("tom.ashby")
    assert "Action #1 recorded" in answer
    card = teams.fake.activities[0].activity["attachments"][0]["content"]
    kinds = {el["type"] for el in card["body"]}
    assert "TextBlock" not in kinds  # only RichTextBlock/TextRun: shown literally, never read as Markdown


def test_a_member_without_a_teams_id_is_matched_by_email_once(teams: TeamsStack) -> None:
    from models import ChatIdentity

    key = "fay.moss"  # in the sample file without any chat id
    aad = teams.ids[key]
    with teams.factory() as s, s.begin():
        s.execute(ChatIdentity.__table__.delete().where(ChatIdentity.platform == "teams",  # type: ignore[attr-defined]
                                                        ChatIdentity.user_id == aad))
        email = s.scalar(select(Member.email).where(Member.key == key))
    teams.fake.add_user(aad, email.upper())  # Graph's mail, in another case
    for _ in range(2):
        teams.post(teams.activity(key, "oneday whoami"))
    answers = teams.fake.sent_to(teams.fake.personal_of(aad))
    assert len(answers) == 2 and all("Fay Moss (fay.moss)" in a.text for a in answers)
    lookups = [c for c in teams.fake.graph_calls if c[1] == f"/users/{aad}"]
    assert len(lookups) == 1  # the stored identity is the cache


def test_an_activity_from_another_tenant_is_refused(teams: TeamsStack) -> None:
    before = counts(teams.factory)
    activity = teams.activity("tom.ashby", "oneday whoami")
    activity["conversation"]["tenantId"] = "11111111-1111-4111-8111-111111111111"
    activity["channelData"] = {"tenant": {"id": "11111111-1111-4111-8111-111111111111"}}
    assert teams.post(activity)[0] == 403
    assert counts(teams.factory) == before and teams.fake.activities == []


def test_teams_text_is_made_platform_neutral() -> None:
    from bot.teams.text import neutral

    known = {"29:sam": "0f8fad5b-d9cb-469f-a165-70867728950e"}
    activity = {"text": "<at>Oneday</at> action OCG-07 <at>Sam</at> ask <at>Kim</at> &lt;b&gt; &amp; x",
                "recipient": {"id": "28:bot"},
                "entities": [{"type": "mention", "text": "<at>Oneday</at>", "mentioned": {"id": "28:bot"}},
                             {"type": "mention", "text": "<at>Sam</at>", "mentioned": {"id": "29:sam"}},
                             {"type": "mention", "text": "<at>Kim</at>", "mentioned": {"id": "29:kim"}},
                             {"type": "clientInfo", "locale": "en-GB"}]}
    assert neutral(activity, known.get) == (
        "action OCG-07 @{teams:0f8fad5b-d9cb-469f-a165-70867728950e} ask @{teams:29:kim} <b> & x")


def test_an_activity_that_failed_before_its_answer_is_handled_on_teams_retry(teams: TeamsStack,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    assert teams.inbound is not None
    real = teams.inbound.refs.remember
    calls: list[int] = []

    def down_once(**kw: object) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database went away")
        real(**kw)  # type: ignore[arg-type]

    monkeypatch.setattr(teams.inbound.refs, "remember", down_once)
    activity = teams.activity("tom.ashby", "oneday whoami")
    assert teams.post(activity)[0] != 200
    assert teams.fake.activities == []
    assert teams.post(activity)[0] == 200  # the same id again: not dropped as a duplicate
    [answer] = teams.fake.activities
    assert "Tom Ashby (tom.ashby)" in answer.text
