"""Replicas: three `oneday serve` and two `oneday worker` processes on one PostgreSQL, fed 5,000 mixed signed slash
commands round-robin from eight client threads, against the fake Slack.

Afterwards: every action recorded once (each has a unique wording), every outcome and refusal written once to
the processing log, every queued message in Slack exactly once (by the metadata key each post carries), no
error ever shown to a user; then two `oneday jobs run reminders` at once send each owner one reminder.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from cluster import (
    INCIDENT,
    Client,
    Cluster,
    World,
    assert_outbox_delivered_once,
    load_northtown,
    reply_text,
    stored_keys,
    wait_drained,
)
from fake_slack import FakeSlack
from slack_requests import clear_proxy_env
from sqlalchemy import func, select

from bot import db
from models import Action, AuditEvent, Member, Outcome
from models.calendar import is_working_day
from models.reminder_mark import ReminderMark

pytestmark = pytest.mark.postgres

COMMANDS = 5_000
THREADS = 8
LONDON = ZoneInfo("Europe/London")
# kind -> share of the commands (an outcome needs an action of the thread's own first; until then it is one)
MIX = {"whoami": 28, "mine": 14, "ocg07": 14, "action": 12, "outcome": 1.5, "refused": 30.5}


@dataclass
class Sent:
    kind: str
    command: str
    text: str
    user: str  # member key
    status: int
    reply: str
    expected: str  # what the reply must contain
    number: int | None = None  # the action number an /action reply gave or an /outcome closed

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.expected in self.reply and INCIDENT not in self.reply


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    clear_proxy_env()
    with FakeSlack() as f:
        yield f


def working_days_from(start: date, n: int) -> list[date]:
    days, day = [], start
    while len(days) < n:
        if is_working_day(day):
            days.append(day)
        day += timedelta(days=1)
    return days


def tag(text: str) -> str:
    """The unique mark in an action's wording (r<thread>n<command>)."""
    found = re.search(r"\br\d+n\d+\b", text)
    assert found, text
    return found[0]


def load(world: World, urls: list[str], dues: list[date]) -> list[Sent]:
    members = sorted(world.slack)
    owners = [m for m in members if m not in world.out_of_office]
    viewers = [m for m in members if world.may_see(m, "OCG-07")]
    outsiders = [m for m in members if not world.may_see(m, "OCG-07")]
    refs = [r for r in world.refs if sum(world.may_see(m, r) for m in owners) >= 2]
    assert viewers and outsiders and len(refs) > 20
    kinds, weights = zip(*MIX.items(), strict=True)
    results: list[list[Sent]] = [[] for _ in range(THREADS)]

    def script(t: int) -> None:
        rng, client, mine = random.Random(t), Client(), []
        for i in range(t, COMMANDS, THREADS):
            url = urls[i % len(urls)]
            kind = rng.choices(kinds, weights)[0]
            if kind == "outcome" and not mine:
                kind = "action"
            if kind == "whoami":
                user = rng.choice(members)
                command, text, expected = "/oneday", "whoami", f"({user})"
            elif kind == "mine":
                user = rng.choice(members)
                command, text, expected = "/actions", "", "Your open actions"
            elif kind == "ocg07":
                user = rng.choice(viewers)
                command, text, expected = "/actions", "OCG-07", "Actions on OCG-07"
            elif kind == "refused":
                user = rng.choice(outsiders)
                command, expected = rng.choice(("/actions", "/action")), "You can't see 'OCG-07'"
                text = "OCG-07" if command == "/actions" else \
                    f"OCG-07 @{rng.choice(viewers)} check the claim q{t}n{i} by {rng.choice(dues).isoformat()}"
            elif kind == "action":
                ref = rng.choice(refs)
                user = rng.choice([m for m in members if world.may_see(m, ref)])
                owner = rng.choice([m for m in owners if world.may_see(m, ref)])
                command, expected = "/action", "recorded"
                text = f"{ref} @{owner} review the case file r{t}n{i} by {rng.choice(dues).isoformat()}"
            else:
                number, user = mine.pop(rng.randrange(len(mine)))
                command, text, expected = "/outcome", f"{number} visited and reviewed, no further action", \
                    f"Action #{number} closed"
            status, body = client.command(url, command, text, world.slack[user], user.split(".")[0])
            sent = Sent(kind, command, text, user, status, reply_text(body), expected)
            if kind == "action" and (m := re.search(r"Action #(\d+) recorded", sent.reply)):
                sent.number = int(m[1])
                mine.append((sent.number, user))
            elif kind == "outcome":
                sent.number = number
            results[t].append(sent)
        client.close()

    threads = [threading.Thread(target=script, args=(t,)) for t in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=240)
    assert not any(th.is_alive() for th in threads), "the load did not finish"
    return [s for per_thread in results for s in per_thread]


def test_three_servers_and_two_workers_answer_5000_commands_and_record_and_send_everything_once(
        pg_db_url: str, fake: FakeSlack, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    world = load_northtown(pg_db_url, now)
    # Due dates three weeks out: beyond the reach of the workers' own reminder job (which runs on the real
    # clock), so the one round below, at a fixed working morning, is the only one.
    first = working_days_from(now.astimezone(LONDON).date() + timedelta(days=21), 1)[0]
    dues = working_days_from(first, 3)
    round_at = datetime.combine(first, dtime(10, 0), tzinfo=LONDON)
    cluster = Cluster(pg_db_url, fake, tmp_path, lease=5, job_interval=1)
    try:
        urls = cluster.serve_many(f"serve{i}" for i in range(3))
        cluster.workers(f"worker{i}" for i in range(2))
        began = time.monotonic()
        sent = load(world, urls, dues)
        load_took = time.monotonic() - began
        cpu = cluster.cpu_seconds()
        rows = wait_drained(pg_db_url, timeout=60)
        drain_took = time.monotonic() - began - load_took
        cluster.run("remind0", "jobs", "run", "reminders", "--now", round_at.isoformat())
        cluster.run("remind1", "jobs", "run", "reminders", "--now", round_at.isoformat())
        cluster.wait(["remind0", "remind1"], timeout=60)
        rows = wait_drained(pg_db_url, timeout=30)
    finally:
        codes = cluster.stop()
    print(f"{len(sent)} commands in {load_took:.1f}s ({len(sent) / load_took:.0f}/s) on 3 servers; "
          f"{len(rows)} messages drained {drain_took:.1f}s after; kinds {dict(Counter(s.kind for s in sent))}; "
          f"CPU seconds {cpu}")

    # no error visible to a user: every answer 200 and what that command should say
    assert len(sent) == COMMANDS
    wrong = [(s.command, s.text, s.status, s.reply[:300]) for s in sent if not s.ok]
    assert not wrong, f"{len(wrong)} commands were not answered as expected, e.g. {wrong[:5]}"
    assert codes == {n: 0 for n in codes}, f"processes did not stop cleanly: {codes}"
    assert not cluster.error_lines(), cluster.error_lines()

    created = {tag(s.text): s for s in sent if s.kind == "action"}
    closed = {s.number for s in sent if s.kind == "outcome"}
    refused = [s for s in sent if s.kind == "refused"]
    engine = db.make_engine(pg_db_url)
    try:
        with db.session_factory(engine)() as session:
            # every action recorded once, with the number its reply gave
            actions = session.execute(select(Action.number, Action.text, Action.status)).all()
            tags = Counter(tag(text) for _, text, _ in actions)
            assert len(actions) == len(created) and set(tags) == set(created) and set(tags.values()) == {1}
            assert {tag(text): n for n, text, _ in actions} == {t: s.number for t, s in created.items()}
            assert {n for n, _, st in actions if st == "done"} == closed
            # one outcome per closed action
            outcomes = Counter(session.scalars(select(Action.number).join(Outcome, Outcome.action_id == Action.id)))
            assert set(outcomes) == closed and set(outcomes.values()) == {1}
            # the processing log: one entry per action, per outcome, per refusal
            audit = Counter((k, re.sub(r"\d+", "N", w.split(" on ")[0].split(":")[0]))
                            for k, w in session.execute(select(AuditEvent.kind, AuditEvent.what)))
            assert audit[("collection", "action N recorded")] == len(created)
            assert audit[("alteration", "outcome recorded for action N")] == len(closed)
            assert sum(n for (k, _), n in audit.items() if k == "refusal") == len(refused)
            # every reminder sent once: one mark per open action and round, one DM per owner
            marks = session.execute(select(ReminderMark.action_id, ReminderMark.round, func.count())
                                    .group_by(ReminderMark.action_id, ReminderMark.round)).all()
            assert {n for *_, n in marks} == {1}
            open_owners = Counter(session.scalars(select(Member.key).join(Action, Action.owner_id == Member.id)
                                                  .where(Action.status == "open")))
            assert len(marks) == sum(open_owners.values()) and len(open_owners) >= 10
    finally:
        engine.dispose()

    rows, keys = assert_outbox_delivered_once(pg_db_url, fake, world)
    created_dms = {r.idempotency_key for r in rows if re.fullmatch(r"action:\d+:created", r.idempotency_key)}
    assert created_dms == {f"action:{s.number}:created" for s in created.values()}
    reminders = [r for r in rows if r.idempotency_key.startswith("remind:")]
    assert Counter(r.destination_ref for r in reminders) == Counter(set(open_owners))  # one per owner
    assert {r.status for r in reminders} == {"sent"}
    assert all(keys[r.idempotency_key] == 1 for r in reminders)
    assert sum(stored_keys(fake).values()) == sum(r.status == "sent" for r in rows)
    fake.assert_no_rejections()
