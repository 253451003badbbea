"""Helpers for the replica and fault tests: real `oneday serve` / `oneday worker` processes on one PostgreSQL
database, a keep-alive client that sends signed slash commands to them, and the checks both tests share
(outbox delivered exactly once by metadata key, entitlements computed by the product's own rule).
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from fake_slack import FakeSlack
from moments import FILE_LOADED
from processes import free_port, wait_healthy
from slack_requests import APP_ID, TEAM_DOMAIN, TEAM_ID, new_trigger_id, sign
from sqlalchemy import select

from bot import db
from commands.core import access
from commands.core.context import Caller
from commands.partnership import file as partnership
from models import Member, OutboxMessage, Partnership, Target

ONEDAY = Path(sys.executable).parent / "oneday"
NORTHTOWN = Path(__file__).resolve().parent.parent / "bot" / "sample" / "northtown.yaml"
SECRET = "test-signing-secret"
INCIDENT = "Something went wrong"



# ------------------------------------------------------------------------------------------ the world


@dataclass
class World:
    """Northtown as loaded, and who may see what by the need-to-know rule (commands/core/access.py), not by guess."""

    url: str
    slack: dict[str, str]  # member key -> Slack user id (members with one in the file)
    entitled: dict[str, set[str]]  # member key -> refs of the targets they may see now
    refs: list[str]
    out_of_office: set[str] = field(default_factory=set)

    def may_see(self, member: str, ref: str) -> bool:
        return ref in self.entitled[member]


def load_northtown(url: str, now: datetime) -> World:
    """Load examples/northtown.yaml into the database at ``url`` (already at head: the ``pg_db_url`` fixture)."""
    engine = db.make_engine(url)
    try:
        with db.unit_of_work(db.session_factory(engine)) as session:
            partnership.load(session, NORTHTOWN.read_text(encoding="utf-8"), source="northtown.yaml", now=FILE_LOADED)
        return entitlements(url, now)
    finally:
        engine.dispose()


def entitlements(url: str, now: datetime) -> World:
    engine = db.make_engine(url)
    try:
        with db.session_factory(engine)() as session:
            p = session.scalar(select(Partnership))
            members = list(session.scalars(select(Member).where(Member.active.is_(True)).order_by(Member.key)))
            targets = list(session.scalars(select(Target).where(Target.status == "active").order_by(Target.ref)))
            caller = Caller(session=session, partnership=p, member=members[0], now=now)
            entitled = {m.key: {t.ref for t in targets if access.member_may_see(caller, m, t)} for m in members}
            slack = {m.key: uid for m in members if (uid := m.identity("slack"))}
            away = {m.key for m in members if m.out_of_office_until and m.out_of_office_until >= now.date()}
            return World(url, slack, entitled, [t.ref for t in targets], away)
    finally:
        engine.dispose()


# ------------------------------------------------------------------------------------------ processes


class Cluster:
    """`oneday` subprocesses against one database and the fake Slack; logs in tmp_path/<name>.log."""

    def __init__(self, url: str, fake: FakeSlack, tmp_path: Path, *, lease: float = 5,
                 job_interval: float = 1) -> None:
        self.url, self.fake, self.tmp_path = url, fake, tmp_path
        self.lease, self.job_interval = lease, job_interval
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.servers: list[str] = []  # /slack/events URLs

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if "PROXY" not in k.upper()}
        for key in ("SLACK_APP_TOKEN", "ONEDAY_PARTNERSHIP", "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET"):
            env.pop(key, None)
        env.update(DATABASE_URL=self.url, SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET=SECRET,
                   SLACK_API_URL=self.fake.base_url, ONEDAY_OUTBOX_LEASE_SECONDS=str(self.lease),
                   ONEDAY_JOB_INTERVAL_SECONDS=str(self.job_interval))
        return env

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        with (self.tmp_path / f"{name}.log").open("ab") as log:
            proc = subprocess.Popen([str(ONEDAY), *args], env=self.env(), stdout=log, stderr=subprocess.STDOUT)
        self.procs[name] = proc
        return proc

    def log(self, name: str) -> str:
        return (self.tmp_path / f"{name}.log").read_text(errors="replace")

    def serve(self, name: str) -> str:
        """Start `oneday serve` and wait until it answers /healthz; returns its /slack/events URL."""
        return self.serve_many([name])[0]

    def serve_many(self, names: Iterable[str]) -> list[str]:
        """Start one `oneday serve` per name at once, then wait until each answers /healthz; their URLs."""
        started = []
        for name in names:
            port = free_port()
            started.append((name, self.start(name, "serve", "--port", str(port)), f"http://127.0.0.1:{port}"))
        deadline = time.monotonic() + 60  # several at once on a busy machine
        for name, proc, base in started:
            wait_healthy(base, proc, deadline, lambda n=name: self.log(n))
            self.servers.append(f"{base}/slack/events")
        return self.servers[-len(started):]

    def worker(self, name: str) -> subprocess.Popen[bytes]:
        """Start `oneday worker` and wait until it runs (it checks the schema first, and exits if it can't)."""
        return self.workers([name])[0]

    def workers(self, names: Iterable[str]) -> list[subprocess.Popen[bytes]]:
        """Start one `oneday worker` per name at once, then wait until each runs."""
        started = [(name, self.start(name, "worker")) for name in names]
        deadline = time.monotonic() + 60
        for name, proc in started:
            while "worker started" not in self.log(name):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"{name} did not start:\n{self.log(name)}")
                time.sleep(0.05)
        return [proc for _, proc in started]

    def kill(self, name: str) -> None:
        proc = self.procs.pop(name)
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=10) == -signal.SIGKILL

    def run(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        return self.start(name, *args)

    def wait(self, names: Iterable[str], timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        for name in names:
            proc = self.procs.pop(name)
            try:
                code = proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                code = None
            assert code == 0, f"{name} ended with {code}:\n{self.log(name)}"

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time (user + system) each running process has used so far (Linux; empty elsewhere)."""
        found: dict[str, float] = {}
        for name, proc in self.procs.items():
            try:
                fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            found[name] = round((int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), 1)
        return found

    def alive(self) -> list[str]:
        return [n for n, p in self.procs.items() if p.poll() is None]

    def stop(self) -> dict[str, int | None]:
        """SIGTERM everyone, then SIGKILL whoever is still there; returns the exit codes."""
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        codes: dict[str, int | None] = {}
        deadline = time.monotonic() + 15
        for name, proc in self.procs.items():
            try:
                codes[name] = proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                codes[name] = None
        self.procs.clear()
        return codes

    def error_lines(self) -> dict[str, list[str]]:
        """Lines of each log that report an unexpected error (a trace or an incident)."""
        found: dict[str, list[str]] = {}
        for path in self.tmp_path.glob("*.log"):
            bad = [line for line in path.read_text(errors="replace").splitlines()
                   if "Traceback" in line or "unexpected error" in line]
            if bad:
                found[path.stem] = bad
        return found


# ------------------------------------------------------------------------------------------ client


class Client:
    """One thread's keep-alive connections to the servers; sends signed slash commands as Slack does."""

    def __init__(self, timeout: float = 30) -> None:
        self.timeout = timeout
        self.conns: dict[str, http.client.HTTPConnection] = {}

    def command(self, url: str, command: str, text: str, user_id: str, user_name: str = "tester") -> tuple[int, str]:
        fields = {"token": "legacy-verification-token", "team_id": TEAM_ID, "team_domain": TEAM_DOMAIN,
                  "channel_id": "C0MEETING", "channel_name": "meeting", "user_id": user_id, "user_name": user_name,
                  "command": command, "text": text, "api_app_id": APP_ID, "is_enterprise_install": "false",
                  "response_url": "http://127.0.0.1:9/commands/T0001/1/unused", "trigger_id": new_trigger_id()}
        body = urlencode(fields)
        headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(SECRET, body)}
        parts = urlsplit(url)
        conn = self.conns.get(url)
        if conn is None:
            conn = self.conns[url] = http.client.HTTPConnection(parts.hostname, parts.port, timeout=self.timeout)
        try:
            conn.request("POST", parts.path, body.encode(), headers)
            response = conn.getresponse()
            return response.status, response.read().decode("utf-8", "replace")
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            del self.conns[url]
            return -1, f"{type(exc).__name__}: {exc}"

    def close(self) -> None:
        for conn in self.conns.values():
            conn.close()
        self.conns.clear()


def reply_text(body: str) -> str:
    """What the user sees: the ack's fallback text and its blocks, as one string."""
    try:
        data = json.loads(body)
    except ValueError:
        return body
    return f"{data.get('text', '')} {json.dumps(data.get('blocks') or [], ensure_ascii=False)}"


# ------------------------------------------------------------------------------------------ outbox


def outbox_rows(url: str) -> list[OutboxMessage]:
    engine = db.make_engine(url)
    try:
        with db.session_factory(engine)() as session:
            return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    finally:
        engine.dispose()


def wait_drained(url: str, timeout: float) -> list[OutboxMessage]:
    """Poll until no outbox row is pending or sending (or the timeout passes); returns the rows."""
    deadline = time.monotonic() + timeout
    while True:
        rows = outbox_rows(url)
        busy = [r for r in rows if r.status in ("pending", "sending")]
        if not busy or time.monotonic() > deadline:
            return rows
        time.sleep(0.1)


def stored_keys(fake: FakeSlack) -> Counter[str]:
    """How many times each outbox key is in Slack (posts carry it in their metadata)."""
    return Counter(m["metadata"]["event_payload"]["key"] for m in fake.messages()
                   if (m.get("metadata") or {}).get("event_type") == "oneday_outbox")


def no_account(row: OutboxMessage) -> bool:
    return row.status == "failed" and (row.last_error or "").startswith("no slack account for ")


def assert_outbox_delivered_once(url: str, fake: FakeSlack, world: World) -> tuple[list[OutboxMessage], Counter[str]]:
    """Every row sent (or failed only because the member has no Slack account); each post in Slack once."""
    rows = outbox_rows(url)
    statuses = Counter(r.status for r in rows)
    failed = [r for r in rows if r.status != "sent"]
    bad = [(r.id, r.idempotency_key, r.status, r.last_error) for r in failed if not no_account(r)]
    assert not bad, f"outbox rows not delivered: {bad[:10]} ({statuses})"
    for r in failed:  # only members Slack really does not know
        member = (r.last_error or "").removeprefix("no slack account for ")
        assert r.destination_kind == "member" and member == r.destination_ref and member not in world.slack, r
    keys = stored_keys(fake)
    twice = {k: n for k, n in keys.items() if n > 1}
    assert not twice, f"posted more than once: {list(twice.items())[:10]}"
    posted = {r.idempotency_key for r in rows if r.status == "sent" and "space" not in r.payload
              and "attachment" not in r.payload}
    assert posted <= set(keys), f"sent but not in Slack: {sorted(posted - set(keys))[:10]}"
    assert set(keys) <= {r.idempotency_key for r in rows}, "a post in Slack that no outbox row queued"
    return rows, keys
