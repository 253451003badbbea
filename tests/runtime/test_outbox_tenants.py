"""The outbox with several workspaces and several senders: each row goes out with its own workspace's
installation token, and pacing per channel is shared through the database, so senders together keep Slack's
one message a second per channel. Against the loopback fake Slack, which records each call's token and time."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from cluster import load_northtown
from fake_slack import TEAM_ID, FakeSlack
from moments import FILE_LOADED
from slack_requests import clear_proxy_env
from slack_sdk import WebClient
from slack_sdk.oauth.installation_store import Installation
from sqlalchemy import select
from test_install import SOUTHTOWN

from bot import db
from bot.clock import TickingClock
from bot.config import Settings
from bot.outbox import Sender, enqueue
from bot.pacing import SharedPacer
from bot.platform import Limit
from bot.slack.install import installation_store
from bot.slack.platform import SLACK
from bot.slack.port import SlackPort
from bot.slack.settings import SlackSettings
from commands.core import workspaces
from commands.core.replies import Destination, Notice, Reply
from commands.partnership import file as partnership
from models import ConversationPace, OutboxMessage, Partnership

NORTH_TOKEN, SOUTH_TOKEN = "xoxb-north-1111", "xoxb-south-2222"
CLIENT_ID, CLIENT_SECRET = "1111.2222", "oauth-client-secret"
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    clear_proxy_env()
    with FakeSlack() as f:
        yield f


def install(engine, settings: Settings, team: str, token: str) -> None:  # type: ignore[no-untyped-def]
    installation_store(settings, engine).save(Installation(
        app_id="A0ONEDAY", team_id=team, bot_token=token, bot_id=f"B{team}", bot_user_id=f"U{team}",
        bot_scopes=["chat:write"], user_id="UADMIN", installed_at=NOW.timestamp()))


def queue(factory, key: str, notices: list[Notice]) -> None:  # type: ignore[no-untyped-def]
    with db.unit_of_work(factory) as session:
        p = session.scalar(select(Partnership).where(Partnership.key == key))
        for n in notices:
            assert enqueue(session, p.id, n, now=NOW)


def say(key: str, channel: str) -> Notice:
    return Notice(Destination.space(channel), Reply(title=key), key=key)


def test_each_row_goes_out_with_its_own_workspaces_token(northtown_loaded, fake: FakeSlack) -> None:  # type: ignore[no-untyped-def]
    factory = northtown_loaded
    engine = factory.kw["bind"]
    with db.unit_of_work(factory) as session:
        partnership.load(session, SOUTHTOWN, source="southtown.yaml", now=FILE_LOADED)
        north = session.scalar(select(Partnership).where(Partnership.key == "northtown"))
        south = session.scalar(select(Partnership).where(Partnership.key == "southtown"))
        workspaces.link(session, north, platform="slack", workspace_id="T0NORTH", now=FILE_LOADED)
        workspaces.link(session, south, platform="slack", workspace_id="T0SOUTH", now=FILE_LOADED)
    settings = Settings(database_url=str(engine.url), platforms={"slack": SlackSettings(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, api_url=fake.base_url)})
    install(engine, settings, "T0NORTH", NORTH_TOKEN)
    install(engine, settings, "T0SOUTH", SOUTH_TOKEN)
    # Interleaved, several channels each, so one sender batch holds rows of both workspaces.
    for i in range(4):
        queue(factory, "northtown", [say(f"north-{i}", f"C0NORTH{i % 2}")])
        queue(factory, "southtown", [say(f"south-{i}", f"C0SOUTH{i % 2}")])

    port = SLACK.outgoing_port(settings, engine, factory)  # what `oneday worker` builds: no SLACK_BOT_TOKEN
    assert Sender(factory, port, clock=TickingClock(NOW), batch=50).drain(timeout=30)
    posts = fake.calls_to("chat.postMessage")
    assert len(posts) == 8
    by_token = {(c.args["text"].split("-")[0], c.token) for c in posts}
    assert by_token == {("north", NORTH_TOKEN), ("south", SOUTH_TOKEN)}  # never the other workspace's token
    fake.assert_no_rejections()

    # A partnership whose workspace has no installation: its row stays queued, never borrows a token.
    with db.unit_of_work(factory) as session:
        workspaces.unlink(session, platform="slack", workspace_id="T0SOUTH", now=FILE_LOADED)
        south = session.scalar(select(Partnership).where(Partnership.key == "southtown"))
        workspaces.link(session, south, platform="slack", workspace_id="T0NOINSTALL", now=FILE_LOADED)
    queue(factory, "southtown", [say("south-late", "C0SOUTH0")])
    queue(factory, "northtown", [say("north-late", "C0NORTH0")])
    fake.clear()
    sender = Sender(factory, SLACK.outgoing_port(settings, engine, factory), clock=TickingClock(NOW))
    for _ in range(3):
        sender.run_once()
    assert [(c.args["text"], c.token) for c in fake.calls_to("chat.postMessage")] == [("north-late", NORTH_TOKEN)]
    with factory() as session:
        late = session.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == "south-late"))
        assert late.status == "pending" and "no installed Slack workspace" in (late.last_error or "")


def test_one_bot_token_never_speaks_for_a_partnership_linked_to_another_workspace(northtown_loaded,  # type: ignore[no-untyped-def]
                                                                                   fake: FakeSlack) -> None:
    """SLACK_BOT_TOKEN is one workspace's (auth.test says which): rows of a partnership linked to another stay
    queued, saying why; rows of the token's own workspace go out."""
    factory = northtown_loaded
    engine = factory.kw["bind"]
    with db.unit_of_work(factory) as session:
        partnership.load(session, SOUTHTOWN, source="southtown.yaml", now=FILE_LOADED)
        north = session.scalar(select(Partnership).where(Partnership.key == "northtown"))
        south = session.scalar(select(Partnership).where(Partnership.key == "southtown"))
        workspaces.link(session, north, platform="slack", workspace_id=TEAM_ID, now=FILE_LOADED)
        workspaces.link(session, south, platform="slack", workspace_id="T0SOUTH", now=FILE_LOADED)
    queue(factory, "northtown", [say("north-1", "C0NORTH")])
    queue(factory, "southtown", [say("south-1", "C0SOUTH")])
    settings = Settings(database_url=str(engine.url), platforms={"slack": SlackSettings(
        bot_token=NORTH_TOKEN, api_url=fake.base_url)})
    sender = Sender(factory, SLACK.outgoing_port(settings, engine, factory), clock=TickingClock(NOW))
    for _ in range(3):
        sender.run_once()
    assert [(c.args["text"], c.token) for c in fake.calls_to("chat.postMessage")] == [("north-1", NORTH_TOKEN)]
    with factory() as session:
        south_row = session.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == "south-1"))
    assert south_row.status == "pending" and "T0SOUTH is not SLACK_BOT_TOKEN's" in (south_row.last_error or "")
    fake.assert_no_rejections()


def posts_per_window(fake: FakeSlack, channel: str, window: float) -> int:
    """The most posts the fake Slack accepted to `channel` in any `window` seconds (by its own record)."""
    times = sorted(c.at for c in fake.calls_to("chat.postMessage") if c.args["channel"] == channel)
    return max((sum(1 for t in times[i:] if t < start + window) for i, start in enumerate(times)), default=0)


def test_two_senders_together_keep_one_message_a_second_per_channel(northtown_loaded, fake: FakeSlack) -> None:  # type: ignore[no-untyped-def]
    """Two senders (threads, each its own connection, one database) drain seven messages, six to one channel:
    together they never post two to it within Slack's second."""
    two_senders_keep_the_pace([northtown_loaded, northtown_loaded], fake)


@pytest.mark.postgres
def test_two_senders_on_postgresql_keep_the_pace_with_row_locks(pg_db_url: str, fake: FakeSlack) -> None:
    """The same on PostgreSQL, each sender with an engine of its own (as two worker processes have): the
    conversation's row lock (FOR UPDATE) and SKIP LOCKED claims."""
    load_northtown(pg_db_url, NOW)
    engines = [db.make_engine(pg_db_url) for _ in range(2)]
    try:
        two_senders_keep_the_pace([db.session_factory(e) for e in engines], fake)
    finally:
        for e in engines:
            e.dispose()


def two_senders_keep_the_pace(factories: list, fake: FakeSlack) -> None:  # type: ignore[type-arg]
    factory = factories[0]
    queue(factory, "northtown", [say(f"busy-{i}", "C0BUSY") for i in range(6)] + [say("quiet", "C0QUIET")])
    fake.limit_per_channel(1.0)  # Slack's limit: a faster post would get a 429

    def sender(name: str, factory, clock) -> Sender:  # type: ignore[no-untyped-def]
        client = WebClient(token="xoxb-test", base_url=fake.base_url, retry_handlers=[])
        return Sender(factory, SlackPort(client), worker_id=name, clock=clock, batch=2)

    # One step each, at one frozen instant: a claims the oldest row of each channel (busy-0 and quiet, not two of
    # the busy channel's) and sends both; its send to the busy channel holds it for b too.
    sender("a", factories[0], lambda: NOW).run_once()
    assert [c.args["text"] for c in fake.calls_to("chat.postMessage")] == ["busy-0", "quiet"]
    sender("b", factories[1], lambda: NOW).run_once()  # it claims busy-1 only: paced
    assert [c.args["text"] for c in fake.calls_to("chat.postMessage")] == ["busy-0", "quiet"]

    # Then both at once, as fast as they may, until all is sent.
    clock = TickingClock(NOW)
    senders = [sender("a", factories[0], clock), sender("b", factories[1], clock)]
    done: list[bool] = []
    threads = [threading.Thread(target=lambda s=s: done.append(s.drain(timeout=60))) for s in senders]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert done == [True, True]
    posts = fake.calls_to("chat.postMessage")
    assert sorted(c.args["text"] for c in posts) == sorted([f"busy-{i}" for i in range(6)] + ["quiet"])
    assert fake.ratelimited == []  # no post came faster than the fake's one a second
    assert posts_per_window(fake, "C0BUSY", 0.9) == 1
    fake.assert_no_rejections()


def test_a_retry_after_holds_the_channel_for_every_sender(factory) -> None:  # type: ignore[no-untyped-def]
    pacer = SharedPacer("slack", (Limit(1, 1.0),))
    with db.unit_of_work(factory) as session:
        assert pacer.reserve(session, "C1", NOW) == 0
        assert pacer.reserve(session, "C2", NOW) == 0  # per channel
    with db.unit_of_work(factory) as session:  # another transaction, as another sender would
        assert pacer.reserve(session, "C1", NOW) == pytest.approx(1.0)
        pacer.hold(session, "C1", 30.0, NOW)
    with db.unit_of_work(factory) as session:
        later = NOW.replace(second=5)
        assert pacer.reserve(session, "C1", later) == pytest.approx(25.0)
        assert pacer.reserve(session, "C2", later) == 0
        teams = SharedPacer("teams", (Limit(7, 1.0), Limit(8, 2.0)))
        assert [teams.reserve(session, "C1", NOW) for _ in range(8)] == [0] * 7 + [pytest.approx(1.0)]
    with factory() as session:
        rows = {(r.platform, r.conversation): len(r.recent) for r in session.scalars(select(ConversationPace))}
    assert rows == {("slack", "C1"): 1, ("slack", "C2"): 1, ("teams", "C1"): 7}  # as many as the limits count
