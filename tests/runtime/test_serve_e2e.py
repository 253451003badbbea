"""End to end: `oneday serve` as a real subprocess, signed HTTP requests, a fake Slack on loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_slack import FakeSlack
from processes import free_port, wait_healthy
from slack_requests import clear_proxy_env, send_command

from bot.db import head_revision

SECRET = "test-signing-secret"
ONEDAY = Path(sys.executable).parent / "oneday"



@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    clear_proxy_env()
    with FakeSlack() as f:
        yield f


@pytest.fixture
def served(tmp_path: Path, fake: FakeSlack, copy_database, northtown_template: Path,  # type: ignore[no-untyped-def]
           ) -> Iterator[tuple[str, str, FakeSlack]]:
    url = copy_database(northtown_template, "serve.db")  # Northtown loaded
    port = free_port()
    env = {k: v for k, v in os.environ.items() if "PROXY" not in k.upper()}
    env.update(DATABASE_URL=url, SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET=SECRET,
               SLACK_API_URL=fake.base_url)
    env.pop("SLACK_APP_TOKEN", None)
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen([str(ONEDAY), "serve", "--port", str(port)], env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, proc, time.monotonic() + 20, (tmp_path / "serve.log").read_text)
        yield f"{base}/slack/events", url, fake
    finally:
        # Only cleaning up: a clean exit on SIGTERM is checked where it is the point (tests/scale/test_replicas.py and
        # tests/scale/test_faults.py assert exit code 0 of every `oneday serve` they stop); here it would cost ~0.7 s a test.
        proc.kill()
        proc.wait(timeout=10)
        log.close()
    (tmp_path / "serve.log.txt").write_text((tmp_path / "serve.log").read_text())


def blocks_text(body: str) -> str:
    data = json.loads(body)
    assert data["response_type"] == "ephemeral"
    return json.dumps(data["blocks"])


def test_signed_whoami_is_answered_in_the_ack(served: tuple[str, str, FakeSlack]) -> None:
    events, _, fake = served
    status, body, _ = send_command(events, SECRET, "/oneday", "whoami", user_id="U0TOM")
    assert status == 200
    text = blocks_text(body)  # the answer is the ack's own body: nothing is left to do after it
    assert "Tom Ashby (tom.ashby)" in text
    assert "Northtown Police" in text
    # bolt checked the token once at start-up; a known member costs no further Web API call
    assert [c.method for c in fake.calls] == ["auth.test"]
    fake.assert_no_rejections()


def test_forged_signature_and_stale_timestamp_get_401(served: tuple[str, str, FakeSlack]) -> None:
    events, _, fake = served
    status, _, _ = send_command(events, SECRET, "/oneday", "whoami", user_id="U0TOM", signature="v0=" + "0" * 64)
    assert status == 401
    status, _, _ = send_command(events, "wrong-secret", "/oneday", "whoami", user_id="U0TOM")
    assert status == 401
    status, _, _ = send_command(events, SECRET, "/oneday", "whoami", user_id="U0TOM",
                                timestamp=int(time.time()) - 6 * 60)
    assert status == 401
    status, _, _ = send_command(events, SECRET, "/oneday", "whoami", user_id="U0TOM",
                                timestamp=int(time.time()) - 4 * 60)
    assert status == 200


def test_user_is_matched_by_email_once_then_by_id(served: tuple[str, str, FakeSlack]) -> None:
    events, url, fake = served
    fake.add_user("U0FAY", "Fay.Moss@health.example", "fay")  # in the file without a Slack id
    for _ in range(2):
        status, body, _ = send_command(events, SECRET, "/oneday", "whoami", user_id="U0FAY")
        assert status == 200
        assert "Fay Moss (fay.moss)" in blocks_text(body)
    assert len(fake.calls_to("users.info")) == 1  # the stored identity is the cache


def test_unknown_user_is_told_to_ask_the_coordinator(served: tuple[str, str, FakeSlack]) -> None:
    events, _, fake = served
    fake.add_user("U0NEW", "stranger@elsewhere.example", "stranger")
    status, body, _ = send_command(events, SECRET, "/oneday", "whoami", user_id="U0NEW")
    assert status == 200
    text = blocks_text(body)
    assert "You are not a member of Northtown CSP" in text
    assert "Jo Bloggs" in text  # the coordinator to ask


def test_every_command_answers_help_and_bad_input_gets_an_example(served: tuple[str, str, FakeSlack]) -> None:
    events, _, _ = served
    for command in ("/agenda", "/action", "/outcome", "/actions", "/oneday"):
        status, body, _ = send_command(events, SECRET, command, "help", user_id="U0TOM")
        assert status == 200
        assert f"{command} help" in blocks_text(body)
    status, body, _ = send_command(events, SECRET, "/oneday", "whoami extra", user_id="U0TOM")
    assert status == 200
    assert "takes no arguments" in blocks_text(body) and "Example: /oneday whoami" in blocks_text(body)
    status, body, _ = send_command(events, SECRET, "/oneday", "frobnicate", user_id="U0TOM")
    assert "unknown subcommand 'frobnicate'" in blocks_text(body)


def test_user_text_is_escaped_in_replies(served: tuple[str, str, FakeSlack]) -> None:
    events, _, _ = served
    status, body, _ = send_command(events, SECRET, "/oneday", "<!channel>", user_id="U0TOM")
    assert status == 200
    text = blocks_text(body)
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text


def test_healthz_reports_database(served: tuple[str, str, FakeSlack]) -> None:
    events, _, _ = served
    with urllib.request.urlopen(events.replace("/slack/events", "/readyz"), timeout=2) as r:
        assert json.loads(r.read()) == {"ok": True, "database": "reachable", "schema": "head",
                                    "revision": head_revision(), "head": head_revision()}


def test_one_structured_log_line_per_command_without_text(served: tuple[str, str, FakeSlack], tmp_path: Path) -> None:
    events, _, _ = served
    send_command(events, SECRET, "/oneday", "whoami OCG-07 secret-words", user_id="U0TOM")
    deadline = time.monotonic() + 5
    lines: list[dict] = []
    while time.monotonic() < deadline and not lines:
        for raw in (tmp_path / "serve.log").read_text().splitlines():
            if raw.startswith("{") and json.loads(raw).get("msg") == "request":
                lines.append(json.loads(raw))
        time.sleep(0.05)
    [entry] = lines
    assert entry["intent"] == "oneday" and entry["user"] == "U0TOM" and entry["team"] == "T0001"
    assert entry["outcome"] == "usage" and isinstance(entry["latency_ms"], float)
    log_text = (tmp_path / "serve.log").read_text()
    assert "OCG-07" not in log_text and "secret-words" not in log_text and "xoxb-test" not in log_text


def test_a_badly_signed_request_never_reaches_the_log(served: tuple[str, str, FakeSlack], tmp_path: Path) -> None:
    """bolt logged the whole body of a badly signed request (command text, response_url) at INFO."""
    events, _, _ = served
    canary = "canary-3d9b-N-0418-Mr-Example"
    status, _, _ = send_command(events, "wrong-secret", "/action", f"{canary} visit on Friday", user_id="U0TOM",
                                response_url=f"https://hooks.slack.com/commands/T0001/1/{canary}-url")
    assert status == 401  # bolt had logged it before answering
    send_command(events, SECRET, "/oneday", "whoami", user_id="U0TOM")
    deadline = time.monotonic() + 5  # the signed request's line shows the log is being written
    while '"msg": "request"' not in (tmp_path / "serve.log").read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    log_text = (tmp_path / "serve.log").read_text()
    assert '"msg": "request"' in log_text
    assert canary not in log_text and "wrong-secret" not in log_text
