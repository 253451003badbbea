"""The outbox against the fake Slack: exactly once under 429s and 500s, idempotent enqueue, pacing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_slack import FakeSlack
from moments import FILE_LOADED
from slack_requests import clear_proxy_env
from slack_sdk import WebClient
from sqlalchemy import func, select

from bot import db
from bot.clock import system_clock
from bot.outbox import Sender, enqueue
from bot.slack.port import SlackPort
from commands.core.replies import Destination, Notice, Reply
from models import ChatIdentity, Member, OutboxMessage, Partnership


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    clear_proxy_env()
    with FakeSlack() as f:
        yield f


def make_sender(factory, fake: FakeSlack) -> Sender:  # type: ignore[no-untyped-def]
    client = WebClient(token="xoxb-test", base_url=fake.base_url, retry_handlers=[])
    return Sender(factory, SlackPort(client))


def queue(factory, notices: list[Notice]) -> int:  # type: ignore[no-untyped-def]
    with db.unit_of_work(factory) as session:
        p = session.scalar(select(Partnership))
        return sum(enqueue(session, p.id, n, now=system_clock()) for n in notices)


def notice(i: int, channel: str = "C0MEET") -> Notice:
    return Notice(Destination.space(channel), Reply(title=f"message {i}"), key=f"test:{i}")


def posted_titles(fake: FakeSlack) -> list[str]:
    return [c.args["text"] for c in fake.calls_to("chat.postMessage")]


def test_every_message_delivered_once_through_429s(northtown_loaded, fake: FakeSlack) -> None:  # type: ignore[no-untyped-def]
    fake.fail_next("chat.postMessage", 3, "ratelimited", retry_after=1)
    notices = [notice(i, channel=("C0MEET" if i % 2 else "C0OTHER")) for i in range(6)]
    assert queue(northtown_loaded, notices) == 6
    sender = make_sender(northtown_loaded, fake)
    assert sender.drain(timeout=30)
    assert sorted(posted_titles(fake)) == sorted(f"message {i}" for i in range(6))
    assert len(fake.faults) == 3
    with northtown_loaded() as session:
        rows = session.scalars(select(OutboxMessage)).all()
        assert {r.status for r in rows} == {"sent"}
        assert all(r.sent_ref for r in rows)
    fake.assert_no_rejections()


def test_server_errors_are_retried_then_sent_once(northtown_loaded, fake: FakeSlack) -> None:  # type: ignore[no-untyped-def]
    fake.fail_next("chat.postMessage", 1, "server_error")
    queue(northtown_loaded, [notice(1)])
    sender = make_sender(northtown_loaded, fake)
    assert sender.drain(timeout=30)
    assert posted_titles(fake) == ["message 1"]
    with northtown_loaded() as session:
        row = session.scalar(select(OutboxMessage))
        assert (row.status, row.attempts) == ("sent", 1)


def test_same_key_is_queued_once(northtown_loaded) -> None:  # type: ignore[no-untyped-def]
    assert queue(northtown_loaded, [notice(1), notice(1)]) == 1
    assert queue(northtown_loaded, [notice(1)]) == 0
    with northtown_loaded() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_permanent_error_is_recorded_not_retried(northtown_loaded, fake: FakeSlack) -> None:  # type: ignore[no-untyped-def]
    queue(northtown_loaded, [Notice(Destination.member("fay.moss"), Reply(title="hello"), key="dm:fay")])
    sender = make_sender(northtown_loaded, fake)
    assert sender.drain(timeout=10)  # fay.moss has no Slack id and the workspace has no such email
    with northtown_loaded() as session:
        row = session.scalar(select(OutboxMessage))
        assert row.status == "failed"
        assert "no slack account for fay.moss" in row.last_error
    assert fake.calls_to("chat.postMessage") == []


def test_dm_to_member_found_by_email_opens_dm_and_stores_identity(northtown_loaded, fake: FakeSlack) -> None:  # type: ignore[no-untyped-def]
    fake.add_user("U0FAY", "fay.moss@health.example", "fay")
    queue(northtown_loaded, [Notice(Destination.member("fay.moss"), Reply(title="hello <@U0TOM>"), key="dm:fay")])
    assert make_sender(northtown_loaded, fake).drain(timeout=10)
    [opened] = fake.calls_to("conversations.open")
    assert opened.args["users"] in ("U0FAY", ["U0FAY"])
    [post] = fake.calls_to("chat.postMessage")
    assert post.args["text"] == "hello &lt;@U0TOM&gt;"  # user text cannot become a mention
    with northtown_loaded() as session:
        fay = session.scalar(select(Member).where(Member.key == "fay.moss"))
        assert session.scalar(select(ChatIdentity.user_id).where(ChatIdentity.member_id == fay.id)) == "U0FAY"


def test_a_persons_direct_messages_open_their_conversation_once(northtown_loaded, fake: FakeSlack) -> None:  # type: ignore[no-untyped-def]
    """Three messages to Fay and one to Tom: one conversations.open each (Slack allows about 50 a minute), every
    message in its person's conversation; a failed post forgets the conversation, so the retry opens it again."""
    fake.add_user("U0FAY", "fay.moss@health.example", "fay")
    to = {"fay": Destination.member("fay.moss"), "tom": Destination.member("tom.ashby")}
    queue(northtown_loaded, [Notice(to[who], Reply(title=f"{who} {i}"), key=f"dm:{who}:{i}")
                             for who, i in (("fay", 1), ("tom", 1), ("fay", 2), ("fay", 3))])
    sender = make_sender(northtown_loaded, fake)
    assert sender.drain(timeout=30)
    opened = [c.args["users"] for c in fake.calls_to("conversations.open")]
    assert sorted(u if isinstance(u, str) else ",".join(u) for u in opened) == ["U0FAY", "U0TOM"]
    channel_of: dict[str, set[str]] = {"fay": set(), "tom": set()}
    for c in fake.calls_to("chat.postMessage"):
        channel_of[c.args["text"].split()[0]].add(c.args["channel"])
    assert sorted(c.args["text"] for c in fake.calls_to("chat.postMessage")) == ["fay 1", "fay 2", "fay 3", "tom 1"]
    assert len(channel_of["fay"]) == 1 and len(channel_of["tom"]) == 1 and channel_of["fay"] != channel_of["tom"]

    fake.fail_next("chat.postMessage", 1, "server_error")
    queue(northtown_loaded, [Notice(to["fay"], Reply(title="fay 4"), key="dm:fay:4"),
                             Notice(to["fay"], Reply(title="fay 5"), key="dm:fay:5")])
    assert sender.drain(timeout=30)
    assert len(fake.calls_to("conversations.open")) == 2  # fay 4 and 5 kept the conversation they were given
    queue(northtown_loaded, [Notice(to["fay"], Reply(title="fay 6"), key="dm:fay:6")])
    assert sender.drain(timeout=30)
    assert len(fake.calls_to("conversations.open")) == 3  # the next message opens it again, once
    assert sorted(c.args["text"] for c in fake.calls_to("chat.postMessage")) == [
        "fay 1", "fay 2", "fay 3", "fay 4", "fay 5", "fay 6", "tom 1"]


def test_one_channel_is_paced_to_one_message_a_second(northtown_loaded, fake: FakeSlack) -> None:  # type: ignore[no-untyped-def]
    fake.limit_per_channel(1.0)
    queue(northtown_loaded, [notice(i) for i in range(3)])
    assert make_sender(northtown_loaded, fake).drain(timeout=30)
    calls = fake.calls_to("chat.postMessage")
    assert len(calls) == 3 and {c.args["channel"] for c in calls} == {"C0MEET"}
    # The fake refuses (429) a post that comes less than a second after the previous one to the same channel, as
    # measured on its own monotonic clock (test_per_channel_rate_limit): none refused means every gap was >= 1 s.
    assert fake.ratelimited == []  # pacing kept us under the limit: Slack never had to refuse


def _section(factory) -> int:  # type: ignore[no-untyped-def]
    from datetime import UTC, date, datetime

    from models import Cohort, Meeting, Section

    with db.unit_of_work(factory) as session:
        p = session.scalar(select(Partnership))
        cohort = session.scalar(select(Cohort).where(Cohort.key == "ocg"))
        meeting = Meeting(partnership_id=p.id, date=date(2026, 12, 8), status="published", created_at=FILE_LOADED)
        section = Section(partnership_id=p.id, cohort_id=cohort.id, position=0, target_refs=["OCG-07"],
                          starts_at=datetime(2026, 12, 8, 9, 30, tzinfo=UTC),
                          ends_at=datetime(2026, 12, 8, 11, 0, tzinfo=UTC))
        meeting.sections.append(section)
        session.add(meeting)
        session.flush()
        return section.id


def test_section_space_is_created_once_with_exact_members_then_posted_to(northtown_loaded, fake: FakeSlack) -> None:  # type: ignore[no-untyped-def]
    from commands.core.replies import SpaceSync

    section_id = _section(northtown_loaded)
    to = Destination.section(section_id)
    # the pointer is queued first: it must wait for the space, not fail
    queue(northtown_loaded, [
        Notice(to, Reply(title="OCG section pointer"), key="pointer"),
        Notice(to, Reply(), key="space:v1", space=SpaceSync("2026-12-08 ocg", ("tom.ashby", "ali.khan"))),
    ])
    assert make_sender(northtown_loaded, fake).drain(timeout=30)
    [created] = fake.calls_to("conversations.create")
    assert created.args["name"] == "2026-12-08-ocg" and created.args["is_private"] in (True, "1", "true")
    space = created.response["channel"]["id"]
    assert sorted(set(fake.members(space)) - {"UBOT"}) == ["U0ALI", "U0TOM"]
    assert [p.args["channel"] for p in fake.calls_to("chat.postMessage")] == [space]
    # membership changes: the same space, ali removed, fin added; nobody else touched
    queue(northtown_loaded, [Notice(to, Reply(), key="space:v2",
                                    space=SpaceSync("2026-12-08 ocg", ("tom.ashby", "fin.doyle")))])
    assert make_sender(northtown_loaded, fake).drain(timeout=30)
    assert len(fake.calls_to("conversations.create")) == 1
    assert sorted(set(fake.members(space)) - {"UBOT"}) == ["U0FIN", "U0TOM"]
    fake.assert_no_rejections()


def test_attachment_is_uploaded_to_the_dm(northtown_loaded, fake: FakeSlack) -> None:  # type: ignore[no-untyped-def]
    from commands.core.replies import Attachment

    ics = "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
    queue(northtown_loaded, [Notice(Destination.member("tom.ashby"), Reply(title="Your itinerary"), key="itin",
                                    attachment=Attachment("itinerary.ics", ics, "Northtown CSP 8 Dec"))])
    assert make_sender(northtown_loaded, fake).drain(timeout=30)
    [complete] = fake.calls_to("files.completeUploadExternal")
    file_id = complete.args["files"][0]["id"]
    assert fake.uploaded(file_id) == ics.encode()
    fake.assert_no_rejections()


def test_post_to_a_section_whose_space_failed_gives_up_instead_of_waiting_forever(northtown_loaded, fake: FakeSlack) -> None:  # type: ignore[no-untyped-def]
    section_id = _section(northtown_loaded)
    queue(northtown_loaded, [Notice(Destination.section(section_id), Reply(title="pointer"), key="pointer")])
    assert make_sender(northtown_loaded, fake).drain(timeout=10)
    with northtown_loaded() as session:
        row = session.scalar(select(OutboxMessage))
        assert row.status == "failed" and "has no space and none is being created" in row.last_error
    assert fake.calls_to("chat.postMessage") == []
