"""The abuse bar, against `oneday serve` started as a real process: while 200 connections hold half-sent requests
and 40 kept-alive connections sit idle, and malformed requests keep coming, signed commands are still answered,
every malformed request gets a clear 4xx, the process's memory and threads stay bounded, the server closes the
stalled and idle connections itself, every log line is JSON, and SIGTERM still ends it with status 0."""

from __future__ import annotations

import json
import socket
import urllib.request
from pathlib import Path

import pytest
from fake_slack import FakeSlack
from processes import free_port
from slack_requests import clear_proxy_env, send_command, send_raw
from test_edge import ONEDAY, SECRET, _env, _start, _stop, assert_json_lines_only, raw

HALF_OPEN, IDLE = 200, 40
RSS_GROWTH_LIMIT_KIB = 40 * 1024  # the 32 MiB body of the old server cost +191 MiB; a connection costs a few KiB
THREAD_GROWTH_LIMIT = 8  # connections take no thread (asyncio); only the route pool may grow a little


def status_of(pid: int) -> dict[str, int]:
    """VmRSS (KiB) and Threads of a process, from /proc."""
    fields: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "Threads"):
            fields[key] = int(rest.split()[0])
    return fields


def whoami(base: str) -> str:
    status, body, _ = send_command(f"{base}/slack/events", SECRET, "/oneday", "whoami", user_id="U0TOM")
    assert status == 200, body
    return json.dumps(json.loads(body)["blocks"])


def closed_by_server(conn: socket.socket) -> bool:
    """Whether the server closes `conn` (an answer, if any, then end of stream) within the socket's timeout."""
    try:
        while conn.recv(65536):
            pass
        return True
    except TimeoutError:
        return False
    except OSError:  # reset: closed as well
        return True


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
def test_abuse_leaves_signed_commands_answered_and_memory_and_threads_bounded(
        tmp_path: Path, fake: FakeSlack, copy_database, northtown_template: Path) -> None:  # type: ignore[no-untyped-def]
    clear_proxy_env()
    url = copy_database(northtown_template, "abuse.db")
    port = free_port()
    served = _start([str(ONEDAY), "serve", "--port", str(port), "--workers", "1"], _env(url, fake), port,
                    tmp_path / "serve.log")
    held: list[socket.socket] = []
    try:
        assert "Tom Ashby" in whoami(served.base)  # warm: the first command loads what every command needs
        before = status_of(served.proc.pid)

        for _ in range(HALF_OPEN):  # request line and some headers, never the blank line that ends them
            conn = socket.create_connection(("127.0.0.1", port), timeout=30)
            conn.sendall(b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n")
            held.append(conn)
        idle = []
        for _ in range(IDLE):  # one request answered on a kept-alive connection, then nothing
            conn = socket.create_connection(("127.0.0.1", port), timeout=30)
            conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            assert conn.recv(65536).startswith(b"HTTP/1.1 200")
            idle.append(conn)
        held.extend(idle)

        # Meanwhile: signed commands are answered, and malformed requests refused with a 4xx that says why.
        assert "Tom Ashby" in whoami(served.base)
        for length in (f"{64 << 20}", f"{1 << 40}"):
            status, answer = raw(port, f"POST /slack/events HTTP/1.1\nHost: x\nContent-Length: {length}\n")
            assert status == 413 and b"application/json" in answer, answer  # {"error": "body over ..."}
        for length in ("-1", "abc", "1e3", "0x10", "+5", "5, 6", ""):
            status, answer = raw(port, f"POST /slack/events HTTP/1.1\nHost: x\nContent-Length: {length}\n", b"a=1")
            assert status == 400, (length, answer)
        for stamp in ("abc", "-1", "99999999999999999999999", "1.5", "", "0"):
            status, _, _ = send_raw(f"{served.base}/slack/events", SECRET, "command=%2Foneday&text=whoami",
                                    "application/x-www-form-urlencoded", timestamp=stamp)
            assert 400 <= status < 500, stamp
        assert "Tom Ashby" in whoami(served.base)

        during = status_of(served.proc.pid)
        assert during["VmRSS"] - before["VmRSS"] < RSS_GROWTH_LIMIT_KIB, (before, during)
        assert during["Threads"] - before["Threads"] <= THREAD_GROWTH_LIMIT, (before, during)

        # The server itself closes the stalled (header timeout) and the idle (keep-alive timeout) connections.
        assert all(closed_by_server(conn) for conn in idle)
        assert all(closed_by_server(conn) for conn in held[:HALF_OPEN])
        assert "Tom Ashby" in whoami(served.base)
        # One process (no multiprocess directory): /metrics counts its own commands, the refused ones not at all.
        with urllib.request.urlopen(f"{served.base}/metrics", timeout=10) as resp:
            scraped = resp.read().decode()
        assert 'oneday_command_seconds_count{command="oneday",outcome="ok"} 4.0' in scraped, scraped[:2000]
    finally:
        for conn in held:
            conn.close()
        code = _stop(served)
    assert code == 0, served.log.read_text()
    assert_json_lines_only(served.log)
    assert "Traceback" not in served.log.read_text()


@pytest.fixture
def fake():  # type: ignore[no-untyped-def]
    clear_proxy_env()
    with FakeSlack() as f:
        yield f
