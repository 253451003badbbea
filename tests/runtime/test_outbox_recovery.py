"""The outbox after a crash or an unanswered post, in process on SQLite against the fake Slack: a message that
may have reached Slack is looked up (message metadata, conversations.history) before it is posted again.
The multi-process PostgreSQL version, with SIGKILL, is tests/scale/test_workers_pg.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fake_slack import FakeSlack
from slack_requests import clear_proxy_env
from slack_sdk import WebClient
from sqlalchemy import delete, select
from test_outbox import _section  # one way to make a published section

from bot import db
from bot.clock import system_clock
from bot.outbox import Sender, enqueue
from bot.slack.port import METADATA_EVENT, SlackPort
from commands.core.replies import Attachment, Destination, Notice, Reply
from models import ConversationPace, OutboxMessage, Partnership

ROOM = "C0ROOM"


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    clear_proxy_env()
    with FakeSlack() as f:
        yield f


def port(fake: FakeSlack, timeout: int = 30) -> SlackPort:
    return SlackPort(WebClient(token="xoxb-test", base_url=fake.base_url, timeout=timeout, retry_handlers=[]))


def queue_one(factory, key: str = "n:1", attachment: Attachment | None = None) -> int:  # type: ignore[no-untyped-def]
    with db.unit_of_work(factory) as session:
        p = session.scalar(select(Partnership))
        assert enqueue(session, p.id, Notice(Destination.space(ROOM), Reply(title=f"hello {key}"),
                                             key, attachment=attachment), now=system_clock())
        return session.scalar(select(OutboxMessage.id).where(OutboxMessage.idempotency_key == key))


def crashed_mid_post(factory, row_id: int) -> None:  # type: ignore[no-untyped-def]
    """The state a worker killed during its post leaves: claimed, lease run out, channel known, marked."""
    with db.unit_of_work(factory) as session:
        row = session.get(OutboxMessage, row_id)
        row.status, row.claimed_by, row.channel, row.check_before_send = "sending", "dead:1:0", ROOM, True
        row.lease_until = system_clock() - timedelta(seconds=1)


def row(factory, row_id: int) -> OutboxMessage:  # type: ignore[no-untyped-def]
    with factory() as session:
        return session.get(OutboxMessage, row_id)


def keys_in(fake: FakeSlack, channel: str = ROOM) -> list[str]:
    return [m["metadata"]["event_payload"]["key"] for m in fake.messages(channel) if m.get("metadata")]


def test_every_post_carries_its_key_as_metadata(northtown_loaded, fake: FakeSlack) -> None:  # type: ignore[no-untyped-def]
    row_id = queue_one(northtown_loaded)
    assert Sender(northtown_loaded, port(fake)).drain(timeout=10)
    [post] = fake.calls_to("chat.postMessage")
    assert post.args["metadata"] == {"event_type": METADATA_EVENT, "event_payload": {"key": "n:1", "id": row_id}}
    assert fake.calls_to("conversations.history") == []  # a first attempt never looks
    r = row(northtown_loaded, row_id)
    assert (r.status, r.sent_ref, r.check_before_send) == ("sent", post.response["ts"], False)
    fake.assert_no_rejections()


def test_a_post_that_landed_before_the_crash_is_recorded_not_repeated(northtown_loaded, fake: FakeSlack) -> None:  # type: ignore[no-untyped-def]
    row_id = queue_one(northtown_loaded)
    fake.add_message(ROOM, "someone talking", user="U0TOM")
    ts = port(fake).post(ROOM, Reply(title="hello n:1"), "n:1", dedupe_id=row_id)
    fake.add_message(ROOM, "someone else", user="U0ALI")
    crashed_mid_post(northtown_loaded, row_id)
    fake.clear()

    assert Sender(northtown_loaded, port(fake)).drain(timeout=10)
    assert fake.calls_to("chat.postMessage") == []
    [looked] = fake.calls_to("conversations.history")
    assert looked.args["include_all_metadata"] is True and float(looked.args["oldest"]) < float(ts)
    r = row(northtown_loaded, row_id)
    assert (r.status, r.sent_ref) == ("sent", ts)
    assert keys_in(fake) == ["n:1"]
    fake.assert_no_rejections()


def test_a_post_that_never_landed_is_posted_once(northtown_loaded, fake: FakeSlack) -> None:  # type: ignore[no-untyped-def]
    row_id = queue_one(northtown_loaded)
    other = queue_one(northtown_loaded, "n:2")  # same channel, different key: must not be mistaken for it
    port(fake).post(ROOM, Reply(title="hello n:2"), "n:2", dedupe_id=other)
    with db.unit_of_work(northtown_loaded) as session:
        session.get(OutboxMessage, other).status = "sent"
    crashed_mid_post(northtown_loaded, row_id)

    assert Sender(northtown_loaded, port(fake)).drain(timeout=10)
    assert len(fake.calls_to("conversations.history")) == 1
    assert sorted(keys_in(fake)) == ["n:1", "n:2"]
    assert row(northtown_loaded, row_id).status == "sent"


def test_an_unanswered_post_is_looked_up_on_the_retry(northtown_loaded, fake: FakeSlack) -> None:  # type: ignore[no-untyped-def]
    # Slack stores the message, then answers too late for the client's timeout: the sender cannot know.
    fake.fail_next("chat.postMessage", 1, "slow_after", delay=1.5)
    row_id = queue_one(northtown_loaded)
    assert Sender(northtown_loaded, port(fake, timeout=1)).drain(timeout=20)
    assert len(fake.calls_to("chat.postMessage")) == 1
    assert len(fake.calls_to("conversations.history")) == 1
    assert keys_in(fake) == ["n:1"]
    r = row(northtown_loaded, row_id)
    assert (r.status, r.attempts) == ("sent", 1)
    assert r.sent_ref == fake.messages(ROOM)[0]["ts"]


def test_a_definite_refusal_clears_the_check_but_a_failed_look_up_keeps_it(northtown_loaded, fake: FakeSlack) -> None:  # type: ignore[no-untyped-def]
    row_id = queue_one(northtown_loaded)
    crashed_mid_post(northtown_loaded, row_id)
    fake.fail_next("conversations.history", 1, "ratelimited", retry_after=1)
    sender = Sender(northtown_loaded, port(fake))
    sender.run_once()
    r = row(northtown_loaded, row_id)
    assert (r.status, r.check_before_send) == ("pending", True)  # still unknown: look again next time
    fake.fail_next("chat.postMessage", 1, "ratelimited", retry_after=1)
    with db.unit_of_work(northtown_loaded) as session:
        session.get(OutboxMessage, row_id).next_attempt_at = system_clock()
        session.execute(delete(ConversationPace))  # the 429's Retry-After held the channel for every sender
    sender = Sender(northtown_loaded, port(fake))
    sender.run_once()  # looks (nothing there), posts, is refused with a 429: certainly not delivered
    r = row(northtown_loaded, row_id)
    assert (r.status, r.check_before_send) == ("pending", False)
    assert sender.drain(timeout=10)
    # one look refused (429), one answered; the 429 to the post needed no further look
    assert len(fake.calls_to("conversations.history")) == 1
    assert [f.method for f in fake.faults] == ["conversations.history", "chat.postMessage"]
    assert keys_in(fake) == ["n:1"]


def test_a_file_shared_before_the_crash_is_recorded_not_shared_again(northtown_loaded, fake: FakeSlack) -> None:  # type: ignore[no-untyped-def]
    ics = Attachment("oneday-2026-12-08.ics", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "Northtown 2026-12-08")
    row_id = queue_one(northtown_loaded, "ics:1", attachment=ics)
    file_id = port(fake).upload(ROOM, ics, Reply(title="hello ics:1"))
    crashed_mid_post(northtown_loaded, row_id)
    fake.clear()

    assert Sender(northtown_loaded, port(fake)).drain(timeout=10)
    assert fake.calls_to("files.completeUploadExternal") == []
    r = row(northtown_loaded, row_id)
    assert (r.status, r.sent_ref) == ("sent", file_id)

    other = Attachment("oneday-2026-12-08.ics", "BEGIN:VCALENDAR\r\nX:changed\r\nEND:VCALENDAR\r\n",
                       "Northtown 2026-12-08")
    second = queue_one(northtown_loaded, "ics:2", attachment=other)  # same name, different content
    crashed_mid_post(northtown_loaded, second)
    assert Sender(northtown_loaded, port(fake)).drain(timeout=10)
    assert len(fake.calls_to("files.completeUploadExternal")) == 1
    fake.assert_no_rejections()


def test_a_space_created_before_the_crash_is_taken_over_not_duplicated(northtown_loaded, fake: FakeSlack) -> None:  # type: ignore[no-untyped-def]
    from commands.core.replies import SpaceSync
    from models import Section

    section_id = _section(northtown_loaded)
    # The crashed attempt created the channel (and invited one member) but never recorded it.
    orphan = fake.add_channel("2026-12-08-ocg", is_private=True, members=("U0TOM", "U0FIN"))
    with db.unit_of_work(northtown_loaded) as session:
        p = session.scalar(select(Partnership))
        enqueue(session, p.id, Notice(Destination.section(section_id), Reply(), "space:v1",
                                      space=SpaceSync("2026-12-08 ocg", ("tom.ashby", "ali.khan"))), now=system_clock())
    assert Sender(northtown_loaded, port(fake)).drain(timeout=10)
    with northtown_loaded() as session:
        assert session.get(Section, section_id).space_ref == orphan
    assert sorted(set(fake.members(orphan)) - {"UBOT"}) == ["U0ALI", "U0TOM"]
    assert [c.response["ok"] for c in fake.calls_to("conversations.create")] == [False]


def test_a_taken_name_of_a_channel_oneday_did_not_create_fails_loudly(northtown_loaded, fake: FakeSlack) -> None:  # type: ignore[no-untyped-def]
    from commands.core.replies import SpaceSync

    section_id = _section(northtown_loaded)
    someone = fake.add_channel("2026-12-08-ocg", is_private=True, members=("U0TOM",))
    fake._channels[someone]["creator"] = "U0TOM"  # a person made it: its history is not ours to share
    with db.unit_of_work(northtown_loaded) as session:
        p = session.scalar(select(Partnership))
        enqueue(session, p.id, Notice(Destination.section(section_id), Reply(), "space:v1",
                                      space=SpaceSync("2026-12-08 ocg", ("tom.ashby", "ali.khan"))), now=system_clock())
    assert Sender(northtown_loaded, port(fake)).drain(timeout=10)
    with northtown_loaded() as session:
        r = session.scalar(select(OutboxMessage))
        assert r.status == "failed" and "did not create" in r.last_error
    assert fake.members(someone) == ["UBOT", "U0TOM"]
