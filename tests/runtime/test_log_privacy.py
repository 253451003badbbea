"""No request body reaches a log, at any level: a badly signed request's command text and response_url, a
huge unsigned POST, a signed command's text. The app is built after the root logger is set to DEBUG, so
bolt's and slack_sdk's own loggers would inherit DEBUG if they were not ours (bot/logs.py)."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator

import pytest
from fake_slack import FakeSlack
from slack_requests import clear_proxy_env, send_command, send_raw

from bot.config import DEFAULT_COMMANDS
from bot.http import make_server
from bot.logs import JsonFormatter, NoBodies, library_logger
from bot.runner import Runner
from bot.slack.app import build_app, make_client
from bot.slack.http import bolt_routes

SECRET = "log-privacy-secret"
CANARY = "canary-7c1f0e-OCG-99-Mrs-Example"
RESPONSE_CANARY = "response-canary-55aa"


@pytest.fixture
def events(northtown_loaded, caplog: pytest.LogCaptureFixture,  # type: ignore[no-untyped-def]
           monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    caplog.set_level(logging.DEBUG)  # the root logger, before bolt builds its loggers from it
    clear_proxy_env(monkeypatch)
    with FakeSlack() as fake:
        runner = Runner(factory=northtown_loaded, names=dict(DEFAULT_COMMANDS))
        app = build_app(runner=runner, client=make_client("xoxb-test", fake.base_url), signing_secret=SECRET)
        server = make_server(bolt_routes(app), "127.0.0.1", 0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            yield f"http://127.0.0.1:{server.server_port}/slack/events"
        finally:
            server.shutdown()
            server.server_close()


def _logged(caplog: pytest.LogCaptureFixture) -> str:
    """Everything captured, as our JSON lines and as the raw messages and arguments."""
    formatter = JsonFormatter()
    return "\n".join(f"{formatter.format(r)}\n{r.getMessage()}\n{r.args!r}" for r in caplog.records)


def test_a_badly_signed_request_is_refused_and_not_logged(events: str, caplog: pytest.LogCaptureFixture) -> None:
    response_url = f"https://hooks.slack.com/commands/T0001/1/{RESPONSE_CANARY}"
    status, _, _ = send_command(events, "wrong-secret", "/action", f"{CANARY} check benefit claims by Friday",
                                user_id="U0TOM", response_url=response_url)
    assert status == 401
    status, _, _ = send_command(events, SECRET, "/oneday", CANARY, user_id="U0TOM", signature="v0=" + "0" * 64)
    assert status == 401
    big = "text=" + "x" * 2_000_000 + CANARY  # the 64 MB POST, scaled down: one log line per byte before
    status, _, _ = send_raw(events, "wrong-secret", big, "application/x-www-form-urlencoded", timeout=60)
    assert status == 401
    # a signed request still logs its one structured line (so the capture works), without its text
    status, _, _ = send_command(events, SECRET, "/oneday", f"whoami {CANARY}", user_id="U0TOM")
    assert status == 200
    assert any(r.getMessage() == "request" and r.fields["intent"] == "oneday"  # type: ignore[attr-defined]
               for r in caplog.records)
    logged = _logged(caplog)
    assert CANARY not in logged and RESPONSE_CANARY not in logged
    assert max((len(line) for line in logged.splitlines()), default=0) < 10_000


def test_library_warnings_that_quote_a_body_lose_it(caplog: pytest.LogCaptureFixture) -> None:
    """bolt logs 'A global middleware ... without providing a response for the request ({body})' at WARNING."""
    caplog.set_level(logging.DEBUG)
    logger = library_logger("bolt")
    logger.warning("A global middleware (X) skipped calling next() without providing a response for the request "
                   "(%s)", {"text": CANARY})
    logger.info("Invalid request signature detected (signature: v0=1, timestamp: 1, body: %s)", CANARY)
    logger.error("Failed to decode Slack API response: %s", CANARY * 1000)
    logged = _logged(caplog)
    assert CANARY not in logged
    assert [r.levelname for r in caplog.records] == ["WARNING", "ERROR"]  # INFO never passes the library logger
    assert "for the request ( (not logged)" in logged
    assert all(isinstance(f, NoBodies) for f in logger.filters) and len(logger.filters) == 1


def test_a_huge_message_of_our_own_is_capped() -> None:
    record = logging.LogRecord("oneday.test", logging.WARNING, __file__, 1, "x%s", ("y" * 100_000,), None)
    line = JsonFormatter().format(record)
    assert len(line) < 3000 and "more characters not logged" in json.loads(line)["msg"]
