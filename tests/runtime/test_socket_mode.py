"""End to end in Socket Mode: `oneday serve` as a subprocess with SLACK_APP_TOKEN, a fake Slack Web API and a
fake Socket Mode websocket endpoint on loopback (tests/fake_socket_mode.py, stdlib only)."""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fake_slack import FakeSlack
from fake_socket_mode import Connection, FakeSocketMode
from slack_requests import APP_ID, clear_proxy_env, new_trigger_id
from test_serve_e2e import ONEDAY, free_port

from bot.db import head_revision

APP_TOKEN = "xapp-1-A0ONEDAY-1-test"


@dataclass
class Served:
    proc: subprocess.Popen[bytes]
    base: str  # http://127.0.0.1:<port>
    fake: FakeSlack
    socket_mode: FakeSocketMode
    conn: Connection  # the websocket the bot opened
    log: Path


@pytest.fixture
def served(tmp_path: Path, copy_database, northtown_template: Path) -> Iterator[Served]:  # type: ignore[no-untyped-def]
    clear_proxy_env()
    url = copy_database(northtown_template, "serve.db")  # Northtown loaded

    with FakeSlack() as fake, FakeSocketMode() as socket_mode:
        fake.socket_mode_url = socket_mode.url
        port = free_port()
        env = {k: v for k, v in os.environ.items() if "PROXY" not in k.upper()}
        env.update(DATABASE_URL=url, SLACK_BOT_TOKEN="xoxb-test", SLACK_APP_TOKEN=APP_TOKEN,
                   SLACK_API_URL=fake.base_url)
        env.pop("SLACK_SIGNING_SECRET", None)  # Socket Mode needs none
        log_path = tmp_path / "serve.log"
        with log_path.open("w") as log:
            proc = subprocess.Popen([str(ONEDAY), "serve", "--port", str(port)], env=env, stdout=log,
                                    stderr=subprocess.STDOUT)
            base = f"http://127.0.0.1:{port}"
            try:
                _wait_healthy(base, proc, log_path)
                try:
                    conn = socket_mode.wait_for_connection(timeout=10)
                except AssertionError as error:
                    raise AssertionError(f"{error}\n{log_path.read_text()}") from None
                yield Served(proc, base, fake, socket_mode, conn, log_path)
            finally:
                # A clean stop on SIGTERM is test_sigterm_closes_the_socket_and_exits's subject (and takes the bot
                # a few seconds); after the other tests the process is only cleaned up.
                if proc.poll() is None:
                    proc.kill()
                    proc.wait(timeout=10)


def _wait_healthy(base: str, proc: subprocess.Popen[bytes], log_path: Path, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError("oneday serve (socket mode) did not start:\n" + log_path.read_text())
        time.sleep(0.1)


def slash_command(envelope_id: str, text: str, *, user_id: str = "U0TOM", command: str = "/oneday") -> dict:
    """A Socket Mode ``slash_commands`` envelope; the payload has the fields of an HTTP slash command."""
    payload = {"token": "legacy-verification-token", "team_id": "T0001", "team_domain": "northtown",
               "channel_id": "C0MEETING", "channel_name": "meeting", "user_id": user_id, "user_name": "tom",
               "command": command, "text": text, "api_app_id": APP_ID, "is_enterprise_install": "false",
               "response_url": "http://127.0.0.1:9/commands/T0001/1/unused", "trigger_id": new_trigger_id()}
    return {"envelope_id": envelope_id, "type": "slash_commands", "accepts_response_payload": True,
            "payload": payload}


def receive_acks(conn: Connection, envelope_ids: set[str], timeout: float = 30.0) -> dict[str, dict]:
    """The client's answers to ``envelope_ids``, by envelope id, in whatever order they come (the client
    answers on a thread pool); other messages are skipped. ``timeout`` only ends the wait for an ack that never
    comes (how fast acks come is a question for benchmarks/, not for this test)."""
    deadline, acks = time.monotonic() + timeout, {}
    while set(acks) != envelope_ids:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"no ack for {sorted(envelope_ids - set(acks))} within {timeout}s")
        message = conn.receive_json(timeout=remaining)
        if message.get("envelope_id") in envelope_ids:
            acks[message["envelope_id"]] = message
    return acks


def test_whoami_over_socket_mode_is_answered_in_the_ack(served: Served) -> None:
    # the websocket URL came from apps.connections.open, called with the app-level token
    opened = served.fake.wait_for("apps.connections.open", timeout=5)
    assert [c.token for c in opened] == [APP_TOKEN]
    assert served.conn.path == "/link/?ticket=fake-ticket&app_id=" + APP_ID

    served.conn.send_json(slash_command("env-whoami-1", "whoami"))
    ack = receive_acks(served.conn, {"env-whoami-1"})["env-whoami-1"]

    assert set(ack) == {"envelope_id", "payload"}  # the answer is in the ack itself
    payload = ack["payload"]
    assert payload["response_type"] == "ephemeral"
    blocks = json.dumps(payload["blocks"])
    assert "Tom Ashby (tom.ashby)" in blocks
    assert "Northtown Police" in blocks
    # bolt checked the bot token once, the socket client opened one connection; nothing else went to Slack
    assert sorted(c.method for c in served.fake.calls) == ["apps.connections.open", "auth.test"]
    assert [c.token for c in served.fake.calls_to("auth.test")] == ["xoxb-test"]
    served.fake.assert_no_rejections()


def test_each_envelope_gets_its_own_ack(served: Served) -> None:
    served.conn.send_json(slash_command("env-help", "help", command="/agenda"))
    served.conn.send_json(slash_command("env-bad", "frobnicate"))
    acks = receive_acks(served.conn, {"env-help", "env-bad"})
    assert "/agenda help" in json.dumps(acks["env-help"]["payload"]["blocks"])
    assert "unknown subcommand 'frobnicate'" in json.dumps(acks["env-bad"]["payload"]["blocks"])


def test_socket_mode_serves_health_but_no_events_endpoint(served: Served) -> None:
    with urllib.request.urlopen(f"{served.base}/readyz", timeout=2) as r:
        assert json.loads(r.read()) == {"ok": True, "database": "reachable", "schema": "head",
                                    "revision": head_revision(), "head": head_revision()}
    request = urllib.request.Request(f"{served.base}/slack/events", data=b"{}", method="POST",
                                     headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=2)
    assert refused.value.code == 404


def test_sigterm_closes_the_socket_and_exits(served: Served) -> None:
    served.conn.send_json(slash_command("env-before-stop", "whoami"))
    receive_acks(served.conn, {"env-before-stop"})
    served.proc.terminate()
    assert served.proc.wait(timeout=10) == 0, served.log.read_text()
    assert served.conn.closed.wait(5), "the websocket stayed open after the bot exited"
