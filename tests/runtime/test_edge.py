"""The edge of `oneday serve` (bot/asgi.py on uvicorn), as a real subprocess: limits on what a client may send,
readiness against the Alembic head, a graceful SIGTERM, and a log of JSON lines only."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fake_slack import FakeSlack
from processes import free_port, wait_healthy
from slack_requests import clear_proxy_env, send_raw

from bot import db

SECRET = "test-signing-secret"
ONEDAY = Path(sys.executable).parent / "oneday"



@dataclass
class Served:
    base: str
    port: int
    proc: subprocess.Popen[bytes]
    log: Path


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    clear_proxy_env()
    with FakeSlack() as f:
        yield f


def _env(url: str, fake: FakeSlack) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if "PROXY" not in k.upper()}
    env.update(DATABASE_URL=url, SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET=SECRET,
               SLACK_API_URL=fake.base_url)
    env.pop("SLACK_APP_TOKEN", None)
    return env


def _start(cmd: list[str], env: dict[str, str], port: int, log: Path) -> Served:
    out = log.open("w")
    proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
    out.close()
    base = f"http://127.0.0.1:{port}"
    wait_healthy(base, proc, time.monotonic() + 30, log.read_text)
    return Served(base, port, proc, log)


def _stop(served: Served) -> int:
    if served.proc.poll() is None:
        served.proc.send_signal(signal.SIGTERM)
    return served.proc.wait(timeout=60)


def assert_json_lines_only(log: Path) -> None:
    """Every line of the log is one JSON object: no plain-text traceback, no uvicorn banner."""
    text = log.read_text()
    assert "Traceback" not in "\n".join(line for line in text.splitlines() if not line.startswith("{"))
    for line in text.splitlines():
        if line.strip():
            assert line.startswith("{"), line
            json.loads(line)


@pytest.fixture
def served(tmp_path: Path, fake: FakeSlack, copy_database, northtown_template: Path,
           ) -> Iterator[Served]:  # type: ignore[no-untyped-def]
    clear_proxy_env()
    url = copy_database(northtown_template, "edge.db")
    port = free_port()
    s = _start([str(ONEDAY), "serve", "--port", str(port), "--workers", "2"], _env(url, fake), port, tmp_path / "serve.log")
    try:
        yield s
    finally:
        code = _stop(s)
    assert code == 0, s.log.read_text()
    assert_json_lines_only(s.log)


def raw(port: int, head: str, body: bytes = b"") -> tuple[int, bytes]:
    """Send a request line and headers (and `body`, if any) as they are; the status and whole answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    return int(data.split(b" ", 2)[1]), data


def test_a_declared_64_mib_body_is_refused_with_413_before_it_is_sent(served: Served) -> None:
    status, answer = raw(served.port, f"POST /slack/events HTTP/1.1\nHost: x\nContent-Length: {64 << 20}\n"
                                      "Content-Type: application/x-www-form-urlencoded\n")  # no body follows
    assert status == 413, answer


def test_a_chunked_body_over_1_mib_is_refused_with_413(served: Served) -> None:
    chunk = b"a" * 65536
    body = (f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n") * 17 + b"0\r\n\r\n"
    status, answer = raw(served.port, "POST /slack/events HTTP/1.1\nHost: x\nTransfer-Encoding: chunked\n", body)
    assert status == 413, answer


@pytest.mark.parametrize("length", ["-1", "abc"])
def test_an_invalid_content_length_gets_400(served: Served, length: str) -> None:
    status, answer = raw(served.port, f"POST /slack/events HTTP/1.1\nHost: x\nContent-Length: {length}\n", b"a=1")
    assert status == 400, answer


def test_a_post_without_content_length_gets_400(served: Served) -> None:
    status, answer = raw(served.port, "POST /slack/events HTTP/1.1\nHost: x\n")
    assert status == 400, answer


def test_a_non_numeric_signature_timestamp_gets_a_4xx_not_500(served: Served) -> None:
    status, _, _ = send_raw(f"{served.base}/slack/events", SECRET, "command=%2Foneday&text=whoami",
                            "application/x-www-form-urlencoded", timestamp="abc")
    assert 400 <= status < 500
    status, _, _ = send_raw(f"{served.base}/slack/events", SECRET, "command=%2Foneday&text=whoami",
                            "application/x-www-form-urlencoded", signature="v0=not-hex")
    assert 400 <= status < 500


def test_healthz_is_alive_and_readyz_is_at_head(served: Served) -> None:
    with urllib.request.urlopen(f"{served.base}/healthz", timeout=5) as r:
        assert json.loads(r.read()) == {"ok": True}
    with urllib.request.urlopen(f"{served.base}/readyz", timeout=5) as r:
        ready = json.loads(r.read())
    assert ready["ok"] is True and ready["schema"] == "head" and ready["revision"] == db.head_revision()


def test_readyz_is_503_when_the_schema_is_behind(tmp_path: Path, fake: FakeSlack,  # type: ignore[no-untyped-def]
                                                 copy_database, northtown_template: Path) -> None:
    clear_proxy_env()
    url = copy_database(northtown_template, "behind.db")
    db.downgrade(url, "-1")  # one revision behind the head
    port = free_port()
    s = _start([str(ONEDAY), "serve", "--port", str(port), "--workers", "1"], _env(url, fake), port, tmp_path / "serve.log")
    try:
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(f"{s.base}/readyz", timeout=5)
        assert caught.value.code == 503
        ready = json.loads(caught.value.read())
        assert ready["ok"] is False and ready["schema"] == "behind" and ready["head"] == db.head_revision()
        assert ready["revision"] != ready["head"]
    finally:
        assert _stop(s) == 0
    assert_json_lines_only(s.log)


SLOW_APP = """
import sys, threading
from bot import logs
from bot.asgi import EdgeApp
from bot.http import HttpResponse
from bot.serve import run_app

release = threading.Event()

def slow(request):
    print("slow request started", file=sys.stderr, flush=True)
    release.wait(float(sys.argv[2]))  # the test's SIGTERM arrives while this request is in flight
    return HttpResponse(200, b"finished")

def boom(request):
    raise RuntimeError("a route failed")

logs.configure()
run_app(EdgeApp({"/slow": slow, "/boom": boom}), "127.0.0.1", int(sys.argv[1]))
"""


def test_sigterm_lets_an_in_flight_request_finish_then_exits_0(tmp_path: Path) -> None:
    clear_proxy_env()
    script = tmp_path / "slow_app.py"
    script.write_text(textwrap.dedent(SLOW_APP))
    port = free_port()
    log = tmp_path / "slow.log"
    s = _start([sys.executable, str(script), str(port), "2"], dict(os.environ), port, log)
    try:
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(f"{s.base}/boom", timeout=5)
        assert caught.value.code == 500
        with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
            conn.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
            deadline = time.monotonic() + 20
            while "slow request started" not in log.read_text():
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.02)
            s.proc.send_signal(signal.SIGTERM)
            answer = b""
            while chunk := conn.recv(65536):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"finished"), answer
    finally:
        code = _stop(s)
    assert code == 0, log.read_text()
    text = log.read_text()
    assert "a route failed" in text  # the 500's one JSON line, its trace inside
    lines = [line for line in text.splitlines() if line.startswith("{")]
    assert any(json.loads(line)["msg"] == "request failed" and "trace" in json.loads(line) for line in lines)
    assert_json_lines_only(_only_json(log))


def _only_json(log: Path) -> Path:
    """The slow app's own marker line is plain text by design; the rest must be JSON."""
    kept = log.with_name("slow.json.log")
    kept.write_text("".join(line for line in log.read_text().splitlines(keepends=True)
                            if line.strip() != "slow request started"))
    return kept
