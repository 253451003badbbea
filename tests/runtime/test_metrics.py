"""Prometheus metrics: `oneday serve --workers 2` and `oneday worker --metrics-port` as real processes, real signed
commands and real outbox rows, scraped over HTTP; the numbers must move with what was done."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fake_slack import FakeSlack
from processes import free_port, wait_healthy
from prometheus_client.parser import text_string_to_metric_families
from slack_requests import clear_proxy_env, send_command
from sqlalchemy import select

from bot import db
from bot.clock import system_clock
from bot.metrics import command_label
from bot.outbox import enqueue
from commands.core.replies import Destination, Notice, Reply
from models import Partnership

SECRET = "metrics-signing-secret"
ONEDAY = Path(sys.executable).parent / "oneday"


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    clear_proxy_env()
    with FakeSlack() as f:
        yield f


def environment(url: str, fake: FakeSlack) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if "PROXY" not in k.upper() and not k.startswith("PROMETHEUS")}
    env.update(DATABASE_URL=url, SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET=SECRET,
               SLACK_API_URL=fake.base_url)
    env.pop("SLACK_APP_TOKEN", None)
    return env


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape, by name and labels."""
    with urllib.request.urlopen(url, timeout=10) as resp:
        assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/plain")
        text = resp.read().decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def queue(url: str, notices: list[Notice], *, due_in: timedelta = timedelta(0), age: timedelta = timedelta(0)) -> None:
    engine = db.make_engine(url)
    now = system_clock()
    with db.unit_of_work(db.session_factory(engine)) as session:
        p = session.scalar(select(Partnership))
        for n in notices:
            assert enqueue(session, p.id, n, now=now - age)
        session.flush()
        if due_in:
            from models import OutboxMessage
            for row in session.scalars(select(OutboxMessage).where(OutboxMessage.status == "pending")):
                row.next_attempt_at = now + due_in
    engine.dispose()


def test_serve_with_two_workers_counts_every_command_and_reads_the_queue_at_scrape(
        tmp_path: Path, fake: FakeSlack, copy_database, northtown_template: Path) -> None:  # type: ignore[no-untyped-def]
    url = copy_database(northtown_template, "metrics.db")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "serve.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen([str(ONEDAY), "serve", "--port", str(port), "--workers", "2"],
                                env=environment(url, fake), stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_healthy(base, proc, time.monotonic() + 60, log_path.read_text)
            before = scrape(f"{base}/metrics")
            assert value(before, "oneday_database_up") == 1
            for _ in range(6):  # spread over both workers by the kernel
                status, _, _ = send_command(f"{base}/slack/events", SECRET, "/oneday", "whoami", user_id="U0TOM")
                assert status == 200
            status, _, _ = send_command(f"{base}/slack/events", SECRET, "/actions", "", user_id="U0TOM")
            assert status == 200
            status, _, _ = send_command(f"{base}/slack/events", SECRET, "/oneday", "frobnicate", user_id="U0TOM")
            assert status == 200

            # Two messages that will not fall due for an hour, queued ten minutes ago; one due now.
            queue(url, [Notice(Destination.space("C0MEET"), Reply(title=f"later {i}"), key=f"later:{i}")
                        for i in range(2)], due_in=timedelta(hours=1), age=timedelta(minutes=10))
            queue(url, [Notice(Destination.space("C0MEET"), Reply(title="now"), key="now:1")])
            fake.wait_for("chat.postMessage", 1, timeout=20)  # a worker's sender delivers the due one
            deadline = time.monotonic() + 20
            while True:  # the delivery is committed just after Slack answered it
                after = [scrape(f"{base}/metrics") for _ in range(4)]  # whichever worker answers, the same counts
                if value(after[0], "oneday_outbox_messages", platform="slack", status="sent") >= 1 \
                        or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
        finally:
            proc.terminate()
            assert proc.wait(timeout=40) == 0
    for samples in after:
        count = value(samples, "oneday_command_seconds_count", command="oneday", outcome="ok")
        assert count - value(before, "oneday_command_seconds_count", command="oneday", outcome="ok") == 6
        assert value(samples, "oneday_command_seconds_count", command="actions", outcome="ok") == 1
        assert value(samples, "oneday_command_seconds_count", command="oneday", outcome="usage") == 1
        assert value(samples, "oneday_command_seconds_bucket", command="oneday", outcome="ok", le="+Inf") >= 6
        assert value(samples, "oneday_outbox_deliveries_total", platform="slack", outcome="sent") == 1
        assert value(samples, "oneday_outbox_queue_depth", platform="slack") == 2
        assert 600 <= value(samples, "oneday_outbox_oldest_pending_seconds", platform="slack") < 3600
        assert value(samples, "oneday_outbox_messages", platform="slack", status="sent") == 1
    text = log_path.read_text()
    assert "Traceback" not in text


def test_the_worker_serves_its_job_runs_deliveries_and_reminder_rounds(
        tmp_path: Path, fake: FakeSlack, copy_database, northtown_template: Path) -> None:  # type: ignore[no-untyped-def]
    url = copy_database(northtown_template, "worker.db")
    queue(url, [Notice(Destination.space("C0MEET"), Reply(title="hello"), key="hello:1")])
    port = free_port()
    log_path = tmp_path / "worker.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen([str(ONEDAY), "worker", "--metrics-port", str(port)],
                                env=environment(url, fake), stdout=log, stderr=subprocess.STDOUT)
        try:
            fake.wait_for("chat.postMessage", 1, timeout=30)
            deadline, samples = time.monotonic() + 30, {}
            while time.monotonic() < deadline:
                try:
                    samples = scrape(f"http://127.0.0.1:{port}/metrics")
                except OSError:
                    samples = {}
                if value(samples, "oneday_reminder_rounds_total") >= 1 and \
                        value(samples, "oneday_outbox_messages", platform="slack", status="sent") >= 1:
                    break
                time.sleep(0.2)
        finally:
            proc.terminate()
            assert proc.wait(timeout=40) == 0
    assert value(samples, "oneday_reminder_rounds_total") >= 1, log_path.read_text()
    assert value(samples, "oneday_job_runs_total", job="reminders", outcome="ok") >= 1
    # (the jobs may queue reminders of their own, depending on the day and hour the suite runs: at least ours)
    assert value(samples, "oneday_outbox_deliveries_total", platform="slack", outcome="sent") >= 1
    assert value(samples, "oneday_outbox_messages", platform="slack", status="sent") >= 1
    assert value(samples, "oneday_database_up") == 1


def test_command_labels_are_known_names_only() -> None:
    assert command_label("oneday") == "oneday"
    assert command_label("button:no-such-button") == "button:other"
    assert command_label("form:anything at all") == "form:other"
    assert command_label("<script>") == "other"
