"""Several `oneday` processes on one real PostgreSQL against the fake Slack: every due reminder is delivered
exactly once, and still exactly once when a worker is SIGKILLed mid-round, including the hard case of a kill
after Slack accepted a post but before the worker recorded it (found again through the message metadata)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from fake_slack import Call, FakeSlack
from moments import FILE_LOADED
from paths import REPO
from slack_requests import clear_proxy_env
from sqlalchemy import func, select

from bot import db
from bot.clock import system_clock
from bot.outbox import enqueue
from commands.core.replies import Destination, Notice, Reply
from commands.partnership import file as partnership
from models import Action, ChatIdentity, Member, OutboxMessage, Partnership, Target
from models.reminder_mark import ReminderMark

ONEDAY = Path(sys.executable).parent / "oneday"
NORTHTOWN = REPO / "bot" / "sample" / "northtown.yaml"
NOW = "2026-12-08T09:30:00+00:00"  # a Tuesday morning, in working hours
OWNERS = ("tom.ashby", "ali.khan", "priya.shah", "mark.dunn", "ruth.evans", "amy.clark", "helen.ward",
          "sam.patel", "will.frost", "paul.kerr")  # paul.kerr has no Slack id in the file: found by email
# Latest round at NOW: overdue-2 (due 1, 2 Dec), overdue-1 (3, 4 Dec), due (7, 8 Dec), before (9, 10 Dec); 14 and
# 21 Dec are in no round yet. None is overdue enough to escalate (that would DM the chair and lead officers).
DUES = (date(2026, 12, 1), date(2026, 12, 2), date(2026, 12, 3), date(2026, 12, 4), date(2026, 12, 7),
        date(2026, 12, 8), date(2026, 12, 9), date(2026, 12, 10), date(2026, 12, 14), date(2026, 12, 21))
LAST_ROUNDED = date(2026, 12, 10)


@dataclass
class World:
    url: str
    fake: FakeSlack
    expected: dict[str, list[int]]  # owner key -> action numbers due a reminder at NOW
    slack_ids: dict[str, str]  # owner key -> Slack user id


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    clear_proxy_env()
    with FakeSlack() as f:
        yield f


def seed(url: str, fake: FakeSlack) -> World:
    """Northtown with 30 open actions for 10 owners, due on dates that fall in different rounds at NOW (``url`` is
    at head already: the ``pg_db_url`` fixture)."""
    engine = db.make_engine(url)
    factory = db.session_factory(engine)
    fake.add_user("U0PAUL", "paul.kerr@planning.example", "paul")
    expected: dict[str, list[int]] = {}
    with db.unit_of_work(factory) as session:
        partnership.load(session, NORTHTOWN.read_text(encoding="utf-8"), source="northtown.yaml", now=FILE_LOADED)
        p = session.scalar(select(Partnership))
        members = {m.key: m for m in session.scalars(select(Member).where(Member.key.in_(OWNERS)))}
        targets = session.scalars(select(Target).order_by(Target.ref)).all()
        for i in range(30):
            owner = members[OWNERS[i % len(OWNERS)]]
            due = DUES[(i + i // len(OWNERS) * 3) % len(DUES)]
            session.add(Action(partnership_id=p.id, number=i + 1, target_id=targets[i % len(targets)].id,
                               owner_id=owner.id, text=f"check record {i + 1}", due=due, status="open",
                               created_at=FILE_LOADED, updated_at=FILE_LOADED))
            if due <= LAST_ROUNDED:
                expected.setdefault(owner.key, []).append(i + 1)
        session.flush()
        slack_ids = {k: m.identity("slack") or "U0PAUL" for k, m in members.items()}
    engine.dispose()
    assert len(expected) == len(OWNERS) and sum(map(len, expected.values())) >= 20
    return World(url, fake, expected, slack_ids)


def start(world: World, tmp_path: Path, name: str, *args: str, lease: float = 60) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if "PROXY" not in k.upper()}
    env.update(DATABASE_URL=world.url, SLACK_BOT_TOKEN="xoxb-test", SLACK_API_URL=world.fake.base_url,
               ONEDAY_OUTBOX_LEASE_SECONDS=str(lease))
    for key in ("SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "ONEDAY_PARTNERSHIP"):
        env.pop(key, None)
    log = (tmp_path / f"{name}.log").open("wb")
    return subprocess.Popen([str(ONEDAY), *args], env=env, stdout=log, stderr=subprocess.STDOUT)


def finish(procs: dict[str, subprocess.Popen[bytes]], tmp_path: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    for name, proc in procs.items():
        try:
            code = proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            code = None
        assert code == 0, f"{name} ended with {code}:\n" + (tmp_path / f"{name}.log").read_text()


def kill_all(procs: dict[str, subprocess.Popen[bytes]]) -> None:
    for proc in procs.values():
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def posted_numbers(call_args: dict) -> list[int]:  # type: ignore[type-arg]
    texts = [b["text"]["text"] for b in call_args.get("blocks") or [] if b.get("type") == "section" and "text" in b]
    return sorted(int(m.group(1)) for t in texts if (m := re.match(r"#(\d+) ", t)))


def assert_each_owner_reminded_once(world: World) -> None:
    fake = world.fake
    fake.assert_no_rejections()
    dm_of: dict[str, str] = {}
    for call in fake.calls_to("conversations.open"):
        users = call.args["users"]
        [user] = users if isinstance(users, list) else users.split(",")
        dm_of[user] = call.response["channel"]["id"]
    posts = fake.calls_to("chat.postMessage")
    per_channel = Counter(c.args["channel"] for c in posts)
    assert set(per_channel.values()) == {1}, per_channel
    assert set(per_channel) == {dm_of[world.slack_ids[k]] for k in world.expected}
    for owner, numbers in world.expected.items():
        [post] = [c for c in posts if c.args["channel"] == dm_of[world.slack_ids[owner]]]
        assert posted_numbers(post.args) == numbers, owner
    # by the key each post carries: no message is in Slack twice
    stored = [m["metadata"]["event_payload"]["key"] for m in fake.messages() if m.get("metadata")]
    assert len(stored) == len(set(stored)) == len(world.expected)

    engine = db.make_engine(world.url)
    try:
        with db.session_factory(engine)() as session:
            rows = session.scalars(select(OutboxMessage)).all()
            assert [r.status for r in rows] == ["sent"] * len(world.expected)
            assert sorted(r.idempotency_key for r in rows) == sorted(stored)
            marks = session.execute(select(ReminderMark.action_id, ReminderMark.round, func.count())
                                    .group_by(ReminderMark.action_id, ReminderMark.round)).all()
            assert {n for *_, n in marks} == {1}
            assert len(marks) == sum(map(len, world.expected.values()))
            paul = session.scalar(select(Member).where(Member.key == "paul.kerr"))
            assert session.scalar(select(ChatIdentity.user_id).where(ChatIdentity.member_id == paul.id)) == "U0PAUL"
    finally:
        engine.dispose()


def test_three_workers_run_one_round_and_each_owner_gets_one_dm(pg_db_url: str, fake: FakeSlack,
                                                                tmp_path: Path) -> None:
    world = seed(pg_db_url, fake)
    began = time.monotonic()
    procs = {f"w{i}": start(world, tmp_path, f"w{i}", "jobs", "run", "reminders", "--now", NOW) for i in range(3)}
    try:
        finish(procs, tmp_path)
    finally:
        kill_all(procs)
    took = time.monotonic() - began
    assert_each_owner_reminded_once(world)
    queued = [re.search(r"reminders: (\d+) reminder", (tmp_path / f"{n}.log").read_text()) for n in procs]
    assert sum(int(m.group(1)) for m in queued if m) == len(world.expected)  # one run queued; the others none
    print(f"three workers: {len(world.expected)} DMs for {sum(map(len, world.expected.values()))} actions "
          f"in {took:.1f}s")


def hung_post(fake: FakeSlack, timeout: float = 60) -> Call:
    """The post Slack stored but has not answered yet (the ``slow_after`` fault), once it is stored."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with fake._lock:
            found = [f for f in fake.faults if f.fault == "slow_after"]
        if found:
            return found[0]
        time.sleep(0.02)
    raise AssertionError(f"no post was left unanswered; calls: {[c.method for c in fake.calls]}")


def owner_pid(url: str, row_id: int) -> int:
    engine = db.make_engine(url)
    try:
        with db.session_factory(engine)() as session:
            claimed_by = session.scalar(select(OutboxMessage.claimed_by).where(OutboxMessage.id == row_id))
    finally:
        engine.dispose()
    assert claimed_by, "the row being posted must be claimed"
    return int(claimed_by.split(":")[1])  # host:pid:sender


def test_a_worker_killed_mid_round_after_slack_accepted_its_post_loses_and_repeats_nothing(
        pg_db_url: str, fake: FakeSlack, tmp_path: Path) -> None:
    world = seed(pg_db_url, fake)
    # The 4th post is stored by Slack, which then takes 30 s to answer: its worker is killed in between.
    fake.fail_next("chat.postMessage", 1, "slow_after", delay=30, after=3)
    procs = {f"w{i}": start(world, tmp_path, f"w{i}", "jobs", "run", "reminders", "--now", NOW, lease=2)
             for i in range(3)}
    try:
        hung = hung_post(fake)
        row_id = hung.args["metadata"]["event_payload"]["id"]
        pid = owner_pid(pg_db_url, row_id)
        [victim] = [n for n, p in procs.items() if p.pid == pid]
        killed_at = time.monotonic()
        os.kill(pid, signal.SIGKILL)
        assert procs.pop(victim).wait(timeout=10) == -signal.SIGKILL
        finish(procs, tmp_path)
        recovered = time.monotonic() - killed_at
    finally:
        kill_all(procs)
    assert_each_owner_reminded_once(world)
    # the survivors looked the hung post up once (only that row was in flight) and recorded Slack's ts
    assert len(fake.calls_to("conversations.history")) == 1
    engine = db.make_engine(pg_db_url)
    try:
        with db.session_factory(engine)() as session:
            row = session.get(OutboxMessage, row_id)
            assert (row.status, row.sent_ref) == ("sent", hung.response["ts"])
            assert row.claimed_by and int(row.claimed_by.split(":")[1]) != pid
    finally:
        engine.dispose()
    print(f"killed worker's round recovered {recovered:.1f}s after the SIGKILL (lease 2s)")


def test_a_killed_drain_is_finished_by_the_next_worker_exactly_once(pg_db_url: str, fake: FakeSlack,
                                                                   tmp_path: Path) -> None:
    world = seed(pg_db_url, fake)
    engine = db.make_engine(pg_db_url)
    factory = db.session_factory(engine)
    with db.unit_of_work(factory) as session:
        p = session.scalar(select(Partnership))
        for i in range(30):  # one channel each: no pacing in the way
            enqueue(session, p.id, Notice(Destination.space(f"C0ROOM{i:02d}"),
                                          Reply(title=f"message {i}"), f"bulk:{i}"),
                    now=system_clock())
    # 5 posts answered, the 6th stored then left unanswered: the kill lands between Slack and the commit
    fake.fail_next("chat.postMessage", 1, "slow_after", delay=30, after=5)
    first = {"first": start(world, tmp_path, "first", "jobs", "run", "outbox", lease=2)}
    try:
        hung = hung_post(fake)
        first["first"].send_signal(signal.SIGKILL)
        assert first["first"].wait(timeout=10) == -signal.SIGKILL
        with factory() as session:
            states = Counter(session.scalars(select(OutboxMessage.status)))
            in_flight = session.get(OutboxMessage, hung.args["metadata"]["event_payload"]["id"])
        assert states["sent"] == 5 and states["sending"] >= 1, states
        assert (in_flight.status, in_flight.check_before_send) == ("sending", True)
        assert in_flight.channel == hung.args["channel"]
        began = time.monotonic()
        rest = {f"next{i}": start(world, tmp_path, f"next{i}", "jobs", "run", "outbox", lease=2) for i in range(2)}
        try:
            finish(rest, tmp_path)
        finally:
            kill_all(rest)
        took = time.monotonic() - began
    finally:
        kill_all(first)
    fake.assert_no_rejections()
    keys = [m["metadata"]["event_payload"]["key"] for m in fake.messages() if m.get("metadata")]
    assert sorted(keys) == sorted(f"bulk:{i}" for i in range(30))  # each exactly once
    assert len(fake.calls_to("chat.postMessage")) == 30  # the hung one was never posted again
    assert len(fake.calls_to("conversations.history")) == 1  # only the row in flight was looked up
    with factory() as session:
        rows = session.scalars(select(OutboxMessage)).all()
        assert {r.status for r in rows} == {"sent"}
        assert session.get(OutboxMessage, in_flight.id).sent_ref == hung.response["ts"]
    engine.dispose()
    print(f"30 messages: 5 sent before the SIGKILL, the rest by two workers in {took:.1f}s (lease 2s); "
          f"logs: {json.dumps(sorted(p.name for p in tmp_path.glob('*.log')))}")
