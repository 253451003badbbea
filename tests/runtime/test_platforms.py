"""The platform seam (bot/platform.py, bot/platforms.py): a second platform registered here, a tiny `Platform`
with a recording port, gets exactly its own outbox rows while Slack (the fake Slack over HTTP) gets its own;
each platform is paced to its declared limits; a platform that cannot look up what was sent is never asked.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fake_slack import FakeSlack
from slack_requests import clear_proxy_env
from slack_sdk import WebClient
from sqlalchemy import delete, select, update

from bot import db, platforms
from bot.clock import TickingClock
from bot.outbox import Sender, enqueue
from bot.pacing import Pacer
from bot.platform import LOOKS_UP_SENT, TEAMS_LIMITS, Limit
from bot.slack.port import SlackPort
from commands.core.replies import Attachment, Destination, Form, Notice, Reply
from models import ChatIdentity, Member, OutboxMessage, Partnership, Workspace

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@dataclass
class RecordingPort:
    """The outbound port of the test platform: records what it is asked to send, sends nothing."""

    platform: str = "tinychat"
    posts: list[tuple[str, str]] = field(default_factory=list)  # (conversation, title)

    def post(self, channel: str, message: Reply, dedupe_key: str | None = None, *,
             dedupe_id: int | None = None) -> str:
        self.posts.append((channel, message.title or ""))
        return f"m{len(self.posts)}"

    def upload(self, channel: str, attachment: Attachment, message: Reply) -> str:
        return self.post(channel, message)

    def post_ephemeral(self, channel: str, user: str, message: Reply) -> None:
        raise AssertionError("the outbox never sends ephemerals")

    def open_dm(self, user: str) -> str:
        return f"dm:{user}"

    def email_of(self, user: str) -> str | None:
        return None

    def user_for_email(self, email: str) -> str | None:
        return None

    def create_private_space(self, name: str, users: list[str]) -> str:
        return f"space:{name}"

    def set_space_members(self, space: str, users: list[str]) -> None:
        pass

    def open_form(self, trigger: str, form: Form) -> None:
        raise AssertionError("not from the outbox")

    def show_modal(self, trigger: str, content: Reply) -> None:
        raise AssertionError("not from the outbox")

    def update_modal(self, view_id: str, content: Reply) -> None:
        raise AssertionError("not from the outbox")


@dataclass
class TinyPlatform:
    """Just enough of a Platform for the outbox: a name, limits and capabilities (no look-up of what was sent)."""

    name: str = "tinychat"
    limits: tuple[Limit, ...] = TEAMS_LIMITS
    capabilities: frozenset[str] = frozenset()

    def settings_from_env(self, env: Mapping[str, str]) -> None:
        return None

    def configured(self, settings: Any) -> bool:
        return False

    def problem(self, settings: Any, *, serving: bool) -> None:
        return None

    def register_tables(self, metadata: Any) -> None:
        pass

    def cli(self) -> None:
        return None

    def outgoing_port(self, settings: Any, engine: Any, factory: Any) -> RecordingPort:
        return RecordingPort(self.name)

    def inbound(self, settings: Any, *, engine: Any, runner: Any) -> Any:
        raise AssertionError("not served in these tests")


class Monotonic:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Wall:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def tiny() -> Iterator[TinyPlatform]:
    with platforms.registered(TinyPlatform()) as platform:
        yield platform  # type: ignore[misc]


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    clear_proxy_env()
    with FakeSlack() as f:
        yield f


def slack_port(fake: FakeSlack) -> SlackPort:
    return SlackPort(WebClient(token="xoxb-test", base_url=fake.base_url, retry_handlers=[]))


def on_tinychat_only(factory, key: str, user: str) -> None:  # type: ignore[no-untyped-def]
    """The member's only chat identity is on the test platform."""
    with db.unit_of_work(factory) as session:
        member = session.scalar(select(Member).where(Member.key == key))
        member.identities.clear()
        session.flush()
        session.add(ChatIdentity(partnership_id=member.partnership_id, member_id=member.id, platform="tinychat",
                                 user_id=user))


def queue(factory, notices: list[Notice], *, now: datetime = NOW) -> None:  # type: ignore[no-untyped-def]
    with db.unit_of_work(factory) as session:
        p = session.scalar(select(Partnership))
        for n in notices:
            assert enqueue(session, p.id, n, now=now)


def say(key: str, to: Destination) -> Notice:
    return Notice(to, Reply(title=key), key=key)


def rows(factory) -> dict[str, tuple[str, str]]:  # type: ignore[no-untyped-def]
    """idempotency key -> (platform, status)."""
    with factory() as session:
        return {r.idempotency_key: (r.platform, r.status) for r in session.scalars(select(OutboxMessage))}


def test_each_platform_gets_exactly_its_own_rows(northtown_loaded, tiny, fake: FakeSlack) -> None:  # type: ignore[no-untyped-def]
    factory = northtown_loaded
    on_tinychat_only(factory, "rose.gill", "T-ROSE")
    queue(factory, [
        say("meeting", Destination.space("C0MEET")),  # the partnership's platform: Slack (no workspace linked)
        say("dm-sam", Destination.member("sam.patel")),  # Sam is on Slack
        say("dm-rose", Destination.member("rose.gill")),  # Rose is only on the test platform
    ])
    assert rows(factory) == {"meeting": ("slack", "pending"), "dm-sam": ("slack", "pending"),
                             "dm-rose": ("tinychat", "pending")}

    # A sender without the test platform's port leaves its row queued (its platform is not configured here).
    assert Sender(factory, slack_port(fake), clock=TickingClock(NOW)).drain(timeout=20)
    assert rows(factory)["dm-rose"] == ("tinychat", "pending")
    assert sorted(c.args["text"] for c in fake.calls_to("chat.postMessage")) == ["dm-sam", "meeting"]

    # Once the partnership's workspace is on the test platform, its spaces are too; a member on both platforms
    # hears from the partnership's.
    with db.unit_of_work(factory) as session:
        p = session.scalar(select(Partnership))
        session.add(Workspace(partnership_id=p.id, platform="tinychat", workspace_id="TENANT1", created_at=NOW))
        sam = session.scalar(select(Member).where(Member.key == "sam.patel"))
        session.add(ChatIdentity(partnership_id=p.id, member_id=sam.id, platform="tinychat", user_id="T-SAM"))
    queue(factory, [say("meeting-2", Destination.space("room-1")), say("dm-sam-2", Destination.member("sam.patel")),
                    say("dm-tom", Destination.member("tom.ashby"))])  # Tom is on Slack only
    assert {k: v[0] for k, v in rows(factory).items() if k.endswith(("-2", "tom"))} == {
        "meeting-2": "tinychat", "dm-sam-2": "tinychat", "dm-tom": "slack"}

    recording = RecordingPort()
    fake.clear()
    assert Sender(factory, [slack_port(fake), recording], clock=TickingClock(NOW)).drain(timeout=20)
    assert sorted(recording.posts) == [("dm:T-ROSE", "dm-rose"), ("dm:T-SAM", "dm-sam-2"), ("room-1", "meeting-2")]
    assert [c.args["text"] for c in fake.calls_to("chat.postMessage")] == ["dm-tom"]
    assert {status for _, status in rows(factory).values()} == {"sent"}
    fake.assert_no_rejections()


def test_each_platform_is_paced_to_its_own_limits(northtown_loaded, tiny) -> None:  # type: ignore[no-untyped-def]
    """Messages to one conversation on each platform, the same id on both: Slack takes one a second; the test
    platform (Teams' limits) seven at once, one more in the next second (8 in any 2 s), seven again when the
    first seven leave the 2-second window, and so on."""
    factory = northtown_loaded
    with db.unit_of_work(factory) as session:
        p = session.scalar(select(Partnership))
        session.add(Workspace(partnership_id=p.id, platform="tinychat", workspace_id="TENANT1", created_at=NOW))
    queue(factory, [say(f"tiny-{i}", Destination.space("C1")) for i in range(20)])
    with db.unit_of_work(factory) as session:  # the same conversation id, queued for Slack
        session.execute(delete(Workspace))
    queue(factory, [say(f"slack-{i}", Destination.space("C1")) for i in range(10)])
    assert sorted({v[0] for v in rows(factory).values()}) == ["slack", "tinychat"]

    slack, tinychat = RecordingPort("slack"), RecordingPort("tinychat")
    slack.already_sent = lambda *a, **k: None  # type: ignore[attr-defined]  # Slack's port looks up; never here
    mono, wall = Monotonic(), Wall(NOW)
    sender = Sender(factory, [slack, tinychat], clock=wall, batch=50)
    sent_by_second = []
    for _ in range(4):
        while sender.run_once():  # a round claims the oldest row of each conversation: rounds until one sends none
            pass
        sent_by_second.append((len(slack.posts), len(tinychat.posts)))
        mono.now += 1.0
        wall.now += timedelta(seconds=1)
    assert sent_by_second == [(1, 7), (2, 8), (3, 15), (4, 16)]


def test_the_pacer_keeps_every_limit_of_teams() -> None:
    mono = Monotonic()
    pacer = Pacer(TEAMS_LIMITS, clock=mono)
    sent = 0
    while pacer.wait("conv") == 0:  # 7 at once
        pacer.sent("conv")
        sent += 1
    assert sent == 7 and pacer.wait("conv") == pytest.approx(1.0)
    assert pacer.wait("other") == 0  # per conversation
    for _ in range(60 * 4):  # then as fast as allowed, for two minutes
        mono.now += pacer.wait("conv")
        pacer.sent("conv")
    # 60 in any 30 seconds binds: the 241st of 247 goes exactly 4 windows after the first, and no later.
    assert mono.now - 1000.0 == pytest.approx(120.0)
    pacer.hold("conv", 120.0)  # a Retry-After
    assert pacer.wait("conv") == pytest.approx(120.0)

    hourly = Pacer((Limit(1800, 3600.0),), clock=mono)
    start = mono.now
    for _ in range(1800):
        pacer_wait = hourly.wait("conv")
        assert pacer_wait == 0
        hourly.sent("conv")
        mono.now += 0.5
    assert hourly.wait("conv") == pytest.approx(start + 3600.0 - mono.now)


def test_slacks_pacing_is_one_message_a_second_per_channel() -> None:
    mono = Monotonic()
    pacer = Pacer(platforms.get("slack").limits, clock=mono)
    pacer.sent("C1")
    assert pacer.wait("C1") == pytest.approx(1.0) and pacer.wait("C2") == 0
    mono.now += 0.4
    assert pacer.wait("C1") == pytest.approx(0.6)
    mono.now += 0.6
    assert pacer.wait("C1") == 0


def test_a_platform_that_cannot_look_up_is_never_asked(northtown_loaded, tiny, caplog) -> None:  # type: ignore[no-untyped-def]
    """A row whose last attempt may have landed is looked up first on Slack; on a platform without the
    capability the sender says it cannot check and sends again (the recording port has no already_sent)."""
    factory = northtown_loaded
    on_tinychat_only(factory, "rose.gill", "T-ROSE")
    queue(factory, [say("dm-rose", Destination.member("rose.gill"))])
    with db.unit_of_work(factory) as session:
        session.execute(update(OutboxMessage).values(check_before_send=True))
    recording = RecordingPort()
    assert not hasattr(recording, "already_sent")
    with caplog.at_level(logging.WARNING, logger="oneday.outbox"):
        assert Sender(factory, recording, clock=TickingClock(NOW)).drain(timeout=10)
    assert recording.posts == [("dm:T-ROSE", "dm-rose")]
    assert any("cannot look up what was sent" in r.getMessage() and "may arrive twice" in r.getMessage()
               for r in caplog.records)


def test_a_platform_that_claims_a_look_up_its_port_lacks_is_refused(tiny) -> None:  # type: ignore[no-untyped-def]
    tiny.capabilities = frozenset({LOOKS_UP_SENT})
    with pytest.raises(TypeError, match="declares it can look up"):
        Sender(None, RecordingPort())  # type: ignore[arg-type]


def test_a_port_for_an_unregistered_platform_is_refused() -> None:
    with pytest.raises(KeyError, match="no platform 'tinychat'"):
        Sender(None, RecordingPort())  # type: ignore[arg-type]
