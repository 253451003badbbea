"""The outbound port through the outbox: proactive 1:1 messages from stored conversation references (created
through the connector when missing), client-credentials tokens, Teams' retry statuses with Retry-After."""

from __future__ import annotations

import pytest
from fake_teams import TENANT
from fake_teams_stack import TeamsStack
from sqlalchemy import select, text

from bot import db
from bot.outbox import enqueue
from bot.port import DeliveryError
from commands.core.replies import Destination, Notice, Reply
from models import OutboxMessage, Partnership


def queue(stack: TeamsStack, *notices: Notice) -> None:
    with db.unit_of_work(stack.factory) as session:
        p = session.scalars(select(Partnership)).one()
        for n in notices:
            assert enqueue(session, p.id, n, now=stack.clock())


def install(stack: TeamsStack, key: str) -> None:
    """Oneday installed by `key` in their personal scope: Teams sends a conversationUpdate."""
    status, _ = stack.post(stack.activity(key, type_="conversationUpdate",
                                          membersAdded=[{"id": "28:oneday"}]))
    assert status == 200


def test_install_captures_the_reference_and_dms_create_missing_chats(teams: TeamsStack) -> None:
    install(teams, "tom.ashby")
    with teams.factory() as s:
        [row] = s.execute(text("select tenant_id, aad_object_id, service_url, conversation_id "
                               "from teams_conversations")).all()
    assert row == (TENANT, teams.ids["tom.ashby"], teams.fake.service_url,
                   teams.fake.personal_of(teams.ids["tom.ashby"]))
    queue(teams, Notice(Destination.member("tom.ashby"), Reply(title="to tom"), key="k1"),
          Notice(Destination.member("sam.patel"), Reply(title="to sam 1"), key="k2"),
          Notice(Destination.member("sam.patel"), Reply(title="to sam 2"), key="k3"))
    teams.drain()
    sam = teams.ids["sam.patel"]
    # Tom's chat was known from the install; Sam's was created once (through the tenant's service URL) and kept
    assert [c["members"] for c in teams.fake.created] == [[{"id": sam}]]
    assert "to tom" in teams.to("tom.ashby")
    assert "to sam 1" in teams.to("sam.patel") and "to sam 2" in teams.to("sam.patel")
    assert len(teams.fake.token_requests) == 1  # one client-credentials token, cached
    assert teams.fake.token_requests[0]["grant_type"] == "client_credentials"
    with teams.factory() as s:
        assert {r.platform for r in s.scalars(select(OutboxMessage))} == {"teams"}
        assert {r.status for r in s.scalars(select(OutboxMessage))} == {"sent"}


def test_nothing_is_sent_before_anyone_in_the_tenant_used_the_app(teams: TeamsStack) -> None:
    assert teams.port is not None
    with pytest.raises(DeliveryError, match="no Teams service URL"):
        teams.port.open_dm(teams.ids["sam.patel"])
    assert teams.fake.created == []


@pytest.mark.parametrize("status", [429, 412, 502, 504])
def test_throttling_statuses_are_retried_after_retry_after(teams: TeamsStack, status: int) -> None:
    install(teams, "tom.ashby")
    assert teams.port is not None
    conversation = teams.port.open_dm(teams.ids["tom.ashby"])
    teams.fake.fail_next(status, retry_after=0.5)
    with pytest.raises(DeliveryError) as caught:
        teams.port.post(conversation, Reply(title="hello"))
    assert caught.value.retry_after == 0.5 and not caught.value.permanent
    assert caught.value.uncertain == (status in (502, 504))  # a gateway error may hide a delivered message


def test_the_outbox_delivers_after_a_scripted_429(teams: TeamsStack) -> None:
    install(teams, "tom.ashby")
    teams.fake.fail_next(429, count=2, retry_after=0.2)
    queue(teams, Notice(Destination.member("tom.ashby"), Reply(title="after the 429s"), key="k429"))
    teams.drain()
    sent = teams.fake.sent_to(teams.fake.personal_of(teams.ids["tom.ashby"]))
    assert [s.activity["text"] for s in sent] == ["after the 429s"]  # once: the 429s stored nothing
    with teams.factory() as s:
        row = s.scalars(select(OutboxMessage)).one()
        assert row.status == "sent"
    assert teams.fake.scripted == [429, 429]  # both throttled attempts were made, then the third went through


def test_a_refused_request_is_permanent_and_the_client_has_timeouts(teams: TeamsStack) -> None:
    install(teams, "tom.ashby")
    assert teams.port is not None
    conversation = teams.port.open_dm(teams.ids["tom.ashby"])
    teams.fake.fail_next(403)
    with pytest.raises(DeliveryError) as caught:
        teams.port.post(conversation, Reply(title="hello"))
    assert caught.value.permanent
    timeout = teams.port.connector.http.timeout
    assert timeout.read is not None and timeout.connect is not None
