"""Bot Framework key endorsements: each key of the issuer's JWKS lists the channels it may sign for, and an
activity is authentic only when its `channelId` is in its signing key's list. A token signed by a published,
valid key that endorses only "webchat" (or nothing) is refused for an msteams activity with 401, before any
database write or connector call; the normal key (endorsing "msteams") still works in the same run.

The extra keys are published before Oneday starts (it fetches the JWKS at start-up), so the only thing wrong
with the refused tokens is the endorsement: the refusal's logged reason says so."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_teams import FakeTeams
from fake_teams_stack import TeamsStack
from test_inbound import counts

ASK = "action OCG-07 @sam.patel check benefits by Friday"
NOT_ENDORSED = "signing key does not endorse the activity's channel"


@pytest.fixture
def keyed(fake_teams: FakeTeams, northtown_loaded) -> Iterator[TeamsStack]:  # type: ignore[no-untyped-def]
    fake_teams.add_key("webchat-key", ["webchat"])
    fake_teams.add_key("empty-key", [])
    fake_teams.add_key("bare-key", None)
    fake_teams.add_key("teams-and-webchat", ["webchat", "msteams"])
    stack = TeamsStack(fake=fake_teams, factory=northtown_loaded).start()
    try:
        yield stack
    finally:
        stack.stop()


def _reasons(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.fields["reason"] for r in caplog.records if getattr(r, "fields", {}).get("status") == 401]


@pytest.mark.parametrize("signer", ["webchat-key", "empty-key", "bare-key"])
def test_a_key_that_does_not_endorse_msteams_is_refused(keyed: TeamsStack, fake_teams: FakeTeams, signer: str,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    teams = keyed
    before = counts(teams.factory)
    status, _ = teams.post(teams.activity("tom.ashby", ASK), token=fake_teams.token(signer=signer))
    assert status == 401
    assert _reasons(caplog) == [NOT_ENDORSED]  # signature, issuer, audience, expiry and serviceurl were fine
    assert counts(teams.factory) == before  # no audit, no seen id, no action, no stored reference
    assert fake_teams.activities == [] and fake_teams.created == [] and fake_teams.token_requests == []

    status, _ = teams.post(teams.activity("tom.ashby", "oneday whoami"))  # the msteams key, same run
    assert status == 200
    [answer] = fake_teams.activities
    assert "Tom Ashby (tom.ashby)" in answer.text


def test_a_key_endorsing_the_channel_is_accepted_and_a_missing_channel_id_is_refused(
        keyed: TeamsStack, fake_teams: FakeTeams, caplog: pytest.LogCaptureFixture) -> None:
    teams = keyed
    status, _ = teams.post(teams.activity("tom.ashby", "oneday whoami"),
                           token=fake_teams.token(signer="teams-and-webchat"))
    assert status == 200 and len(fake_teams.activities) == 1
    before = counts(teams.factory)
    for channel in (None, "", 7):
        activity = teams.activity("tom.ashby", ASK, channelId=channel)
        status, _ = teams.post(activity)
        assert status == 401
    assert counts(teams.factory) == before and len(fake_teams.activities) == 1
    assert _reasons(caplog) == ["activity has no channelId"] * 3


def test_an_msteams_key_does_not_vouch_for_a_webchat_activity(teams: TeamsStack, fake_teams: FakeTeams,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    before = counts(teams.factory)
    status, _ = teams.post(teams.activity("tom.ashby", ASK, channelId="webchat"))
    assert status == 401 and counts(teams.factory) == before and fake_teams.activities == []
    assert _reasons(caplog) == [NOT_ENDORSED]
