"""Retention on Teams: `oneday retention apply` deletes the bot's activities about an erased target through the
Bot Connector (the fake records each DELETE with its conversation and activity id), a file share's message and
consent card both; a 404 counts as deleted, a 429 is retried after Retry-After; section group chats, which Teams
cannot archive, are emptied of their members through Graph. Before the Teams port could erase, its rows stayed
marked and `retention plan` counted them; now the plan counts none. A Slack-only deployment gets Slack's eraser
alone, as before.

Driven over real HTTP: the agenda is published from Teams (tests/teams/test_sections.py `publish`), so the
itineraries (message + consent card) reach every member's 1:1 chat and a pointer each section's group chat.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial

import pytest
from fake_teams_stack import TeamsStack
from sqlalchemy import select, text
from test_sections import publish

from bot import cli, cli_retention, config
from bot.platform import ERASES_SENT
from bot.port import DeliveryError, SentEraser
from bot.teams.platform import TEAMS
from commands.core.replies import Reply
from commands.governance import retention
from commands.governance.retention import ERASURE_KEY
from models import AuditEvent, OutboxMessage, Partnership, Target, TargetStatus

LATER = datetime(2027, 2, 1, 10, 0, tzinfo=UTC)  # past the pack window and a month past the meeting


def _close_ocg07_with_one_month(factory) -> None:  # type: ignore[no-untyped-def]
    with factory.begin() as session:
        session.scalar(select(Target).where(Target.ref == "OCG-07")).status = TargetStatus.CLOSED
        session.scalar(select(Partnership)).retention = {"keep_months": 1}


def _say_the_ocg_pointer_is_about_ocg07(teams: TeamsStack) -> str:
    """The section chat's pointer names no target; mark it as about OCG-07, as any message the bot posts in a
    section chat about a target is, so erasure must take it out of the group chat too. The chat's id."""
    [ocg] = [c for c in teams.fake.chats.values() if c.topic.endswith("-ocg")]
    with teams.factory.begin() as session:
        row = session.scalars(select(OutboxMessage).where(OutboxMessage.channel == ocg.id,
                                                          OutboxMessage.sent_ref.is_not(None))).one()
        row.about = ["OCG-07"]
    return ocg.id


def _sent_about_ocg07(factory) -> list[OutboxMessage]:  # type: ignore[no-untyped-def]
    with factory() as session:
        return [r for r in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
                if "OCG-07" in r.about and r.status == "sent"]


def test_apply_deletes_teams_messages_about_the_target_and_empties_section_chats(teams: TeamsStack) -> None:
    assert teams.port is not None
    publish(teams)
    ocg_chat = _say_the_ocg_pointer_is_about_ocg07(teams)
    _close_ocg07_with_one_month(teams.factory)
    rows = _sent_about_ocg07(teams.factory)
    expected = {(r.channel, part) for r in rows for part in (r.sent_ref or "").split()}
    files = [r for r in rows if "attachment" in r.payload]
    assert files and all(len((r.sent_ref or "").split()) == 2 for r in files)  # message + consent card
    assert any(c.startswith("a:1:") for c, _ in expected) and any(c == ocg_chat for c, _ in expected)

    # Teams not erasing (as before): the target is erased, its messages stay marked, the plan counts them
    report = cli_retention.apply(teams.factory, None, now=LATER, erasers={}, as_member="jo.bloggs")
    assert [e["ref"] for e in report.erased] == ["OCG-07"] and report.left == len(rows) and report.deleted == 0
    with teams.factory() as session:
        p = session.scalars(select(Partnership)).one()
        assert retention.plan(session, p, LATER)["chat_messages_to_delete"] == len(rows)
    assert teams.fake.deleted == []

    # one message already deleted by hand (404 on retention's DELETE), and the connector throttles once
    first = rows[0]
    teams.port.connector.delete(teams.fake.service_url, first.channel or "", (first.sent_ref or "").split()[0])
    by_hand = list(teams.fake.deleted)
    teams.fake.fail_next(429, retry_after=0.01)
    slept: list[float] = []
    report = cli_retention.apply(teams.factory, None, now=LATER, erasers={"teams": teams.port},
                                 as_member="jo.bloggs", sleep=slept.append)

    assert (report.deleted, report.refused, report.left) == (len(rows), 0, 0)
    assert teams.fake.scripted == [429] and slept == [0.01]  # retried after the connector's Retry-After
    assert set(teams.fake.deleted) == expected  # every activity of every row, in its own conversation
    assert len(teams.fake.deleted) == len(expected)  # each deleted once (the one by hand was not again)
    assert by_hand[0] in expected
    for conversation, activity_id in expected:
        assert activity_id not in {s.activity_id for s in teams.fake.held(conversation)}
    assert not [s for s in teams.fake.held(ocg_chat)]  # the section chat holds nothing of the bot's
    with teams.factory() as session:
        states = {(r.payload or {}).get(ERASURE_KEY, {}).get("delete") for r in _sent_about_ocg07(teams.factory)}
        assert states == {"done"}
        p = session.scalars(select(Partnership)).one()
        assert retention.plan(session, p, LATER)["chat_messages_to_delete"] == 0
        deleted_events = session.scalars(select(AuditEvent.what).where(AuditEvent.kind == "erasure",
                                                                       AuditEvent.what.like("chat %"))).all()
        assert len(deleted_events) == sum(len(r.about) for r in rows)  # one per target each row was about
        assert any(w.startswith("chat file deleted: teams member") for w in deleted_events)

    # Teams cannot archive a group chat: every section chat is emptied of its members through Graph
    assert len(report.archived) == len(teams.fake.chats) and not report.notes
    assert all(chat.members == {} for chat in teams.fake.chats.values())
    removals = [path for method, path, _ in teams.fake.graph_calls if method == "DELETE"]
    assert removals and all("/members/" in path for path in removals)
    with teams.factory() as session:
        assert session.scalar(text("select count(*) from space_archive")) == len(teams.fake.chats)

    # a second apply has nothing left to do
    calls = len(teams.fake.graph_calls)
    again = cli_retention.apply(teams.factory, None, now=LATER, erasers={"teams": teams.port}, as_member="jo.bloggs")
    assert (again.erased, again.deleted, again.left, again.archived) == ([], 0, 0, [])
    assert len(teams.fake.graph_calls) == calls and len(teams.fake.deleted) == len(expected)


def test_the_port_deletes_idempotently_and_says_false_only_when_refused(teams: TeamsStack) -> None:
    assert teams.port is not None and isinstance(teams.port, SentEraser)
    teams.post(teams.activity("jo.bloggs", type_="conversationUpdate"))  # a reference, so a service URL
    dm = teams.port.open_dm(teams.ids["jo.bloggs"])
    ref = teams.port.post(dm, Reply(title="about OCG-07"))

    teams.fake.fail_next(429, retry_after=0.02)
    with pytest.raises(DeliveryError) as throttled:  # the port raises; retention's loop waits and retries
        teams.port.delete_sent(dm, ref)
    assert throttled.value.retry_after == 0.02 and not throttled.value.permanent
    slept: list[float] = []
    teams.fake.fail_next(429, retry_after=0.02)
    assert cli_retention._with_retries(partial(teams.port.delete_sent, dm, ref), slept.append) is True
    assert slept == [0.02] and teams.fake.deleted == [(dm, ref)]
    assert teams.port.delete_sent(dm, ref) is True  # 404: already gone, done
    assert teams.fake.deleted == [(dm, ref)]

    other = teams.port.post(dm, Reply(title="another"))
    teams.fake.fail_next(403)
    assert teams.port.delete_sent(dm, other) is False  # refused for good: retention records it as refused
    teams.fake.fail_next(502, retry_after=0)
    with pytest.raises(DeliveryError):
        teams.port.delete_sent(dm, other)


def test_emptying_a_chat_is_idempotent_and_a_chat_graph_no_longer_has_counts_as_done(teams: TeamsStack) -> None:
    assert teams.port is not None
    chat = teams.port.create_private_space("oneday-test", [teams.ids["jo.bloggs"], teams.ids["sam.patel"]])
    assert len(teams.fake.chats[chat].members) == 2
    assert teams.port.archive_space(chat) is True
    assert teams.fake.chats[chat].members == {} and teams.fake.chats[chat].apps  # Oneday stays installed
    assert teams.port.archive_space(chat) is True  # nobody left
    assert teams.port.archive_space("19:gone@thread.v2") is True  # Graph answers 404: nothing to remove


def test_teams_declares_erasure_and_a_slack_only_deployment_gets_slack_alone(
        monkeypatch: pytest.MonkeyPatch, northtown_loaded, sqlite_db_url) -> None:  # type: ignore[no-untyped-def]
    assert ERASES_SENT in TEAMS.capabilities
    slack_only = config.from_env({"DATABASE_URL": sqlite_db_url, "SLACK_BOT_TOKEN": "xoxb-test",
                                  "SLACK_SIGNING_SECRET": "test-secret"})
    monkeypatch.setattr(cli.State, "settings", slack_only)
    assert sorted(cli_retention.configured_erasers(northtown_loaded)) == ["slack"]
