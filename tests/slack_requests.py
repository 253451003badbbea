"""Send correctly signed Slack requests (commands, interactivity, events) to a running bolt app over HTTP.

Requests go out through ``http.client`` directly, so no proxy from the environment is ever used.  (slack_sdk
itself reads ``HTTP(S)_PROXY`` and ignores ``NO_PROXY``: tests that build a ``WebClient`` against the fake
should call :func:`clear_proxy_env` first.)

Every ``send_*`` returns ``(status, body_text, elapsed_seconds)`` and accepts ``timestamp`` and
``signature`` overrides to test replay and forgery, plus extra ``headers``.

:class:`BoltHTTPServer` serves a ``slack_bolt.App`` on 127.0.0.1 with the standard library alone.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import os
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlencode, urlsplit

TEAM_ID, TEAM_DOMAIN, APP_ID, BOT_USER_ID = "T0001", "northtown", "A0ONEDAY", "UBOT"
USER_ID, USER_NAME, CHANNEL_ID, CHANNEL_NAME = "U0TESTER", "tester", "C0MEETING", "meeting"
# Nothing listens on the discard port: a bolt respond() to this default fails fast, never leaves the host.
DEAD_RESPONSE_URL = "http://127.0.0.1:9/commands/T0001/1/unused"
PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy")

Result = tuple[int, str, float]


def clear_proxy_env(monkeypatch: Any = None) -> None:
    """Remove proxy variables (through pytest's ``monkeypatch`` when given, so they come back)."""
    for name in PROXY_VARS:
        if monkeypatch is not None:
            monkeypatch.delenv(name, raising=False)
        else:
            os.environ.pop(name, None)


def sign(secret: str, body: str | bytes, timestamp: int | str | None = None) -> dict[str, str]:
    """Slack's v0 signature headers for ``body`` sent at ``timestamp`` (default: now)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    raw = body.encode() if isinstance(body, str) else body
    digest = hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + raw, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def new_trigger_id() -> str:
    return f"{int(time.time())}.{secrets.randbelow(10**12)}.{secrets.token_hex(16)}"


def send_raw(url: str, secret: str, body: str, content_type: str, *, timestamp: int | str | None = None,
             signature: str | None = None, headers: dict[str, str] | None = None,
             timeout: float = 10.0) -> Result:
    """POST ``body`` signed with ``secret`` (``signature`` replaces the computed one)."""
    all_headers = {"Content-Type": content_type, "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
                   **sign(secret, body, timestamp), **(headers or {})}
    if signature is not None:
        all_headers["X-Slack-Signature"] = signature
    parts = urlsplit(url)
    conn_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = conn_class(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
    started = time.monotonic()
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        conn.request("POST", target, body.encode(), all_headers)
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        return response.status, text, time.monotonic() - started
    finally:
        conn.close()


def send_command(url: str, secret: str, command: str = "/oneday", text: str = "", *, user_id: str = USER_ID,
                 user_name: str = USER_NAME, channel_id: str = CHANNEL_ID, channel_name: str = CHANNEL_NAME,
                 team_id: str = TEAM_ID, response_url: str = DEAD_RESPONSE_URL, trigger_id: str | None = None,
                 timestamp: int | str | None = None, signature: str | None = None,
                 headers: dict[str, str] | None = None, **extra: str) -> Result:
    """A slash command, form-encoded as Slack sends it."""
    fields = {"token": "legacy-verification-token", "team_id": team_id, "team_domain": TEAM_DOMAIN,
              "channel_id": channel_id, "channel_name": channel_name, "user_id": user_id,
              "user_name": user_name, "command": command, "text": text, "api_app_id": APP_ID,
              "is_enterprise_install": "false", "response_url": response_url,
              "trigger_id": trigger_id or new_trigger_id(), **extra}
    return send_raw(url, secret, urlencode(fields), "application/x-www-form-urlencoded",
                    timestamp=timestamp, signature=signature, headers=headers)


def send_action(url: str, secret: str, payload: dict[str, Any], *, timestamp: int | str | None = None,
                signature: str | None = None, headers: dict[str, str] | None = None) -> Result:
    """An interactivity request (block_actions, view_submission, shortcut, ...): ``payload=<json>``."""
    body = urlencode({"payload": json.dumps(payload)})
    return send_raw(url, secret, body, "application/x-www-form-urlencoded",
                    timestamp=timestamp, signature=signature, headers=headers)


def send_event(url: str, secret: str, event: dict[str, Any], *, event_id: str | None = None,
               team_id: str = TEAM_ID, timestamp: int | str | None = None, signature: str | None = None,
               headers: dict[str, str] | None = None) -> Result:
    """An Events API ``event_callback`` envelope around ``event``."""
    envelope = {"token": "legacy-verification-token", "team_id": team_id, "api_app_id": APP_ID,
                "event": event, "type": "event_callback",
                "event_id": event_id or f"Ev{secrets.token_hex(5).upper()}",
                "event_time": int(time.time()), "is_ext_shared_channel": False,
                "authorizations": [{"enterprise_id": None, "team_id": team_id, "user_id": BOT_USER_ID,
                                    "is_bot": True, "is_enterprise_install": False}]}
    return send_raw(url, secret, json.dumps(envelope), "application/json",
                    timestamp=timestamp, signature=signature, headers=headers)


def _user(user_id: str, team_id: str) -> dict[str, str]:
    return {"id": user_id, "username": USER_NAME, "name": USER_NAME, "team_id": team_id}


def block_actions_payload(action_id: str, value: str | None = None, *, block_id: str = "b0",
                          user_id: str = USER_ID, channel_id: str = CHANNEL_ID, message: dict | None = None,
                          view: dict | None = None, response_url: str = DEAD_RESPONSE_URL,
                          team_id: str = TEAM_ID, action_type: str = "button") -> dict[str, Any]:
    """A ``block_actions`` payload for a click on ``action_id`` in a message (or in ``view``)."""
    action = {"type": action_type, "action_id": action_id, "block_id": block_id,
              "action_ts": f"{time.time():.6f}", **({"value": value} if value is not None else {})}
    payload: dict[str, Any] = {
        "type": "block_actions", "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "user": _user(user_id, team_id),
        "api_app_id": APP_ID, "token": "legacy-verification-token", "trigger_id": new_trigger_id(),
        "actions": [action], "is_enterprise_install": False}
    if view is not None:
        payload["view"] = view
        payload["container"] = {"type": "view", "view_id": view.get("id", "V0VIEW")}
    else:
        message = message or {"type": "message", "ts": "1700000000.000100", "text": "", "user": BOT_USER_ID}
        payload.update(channel={"id": channel_id, "name": CHANNEL_NAME}, message=message,
                       response_url=response_url,
                       container={"type": "message", "message_ts": message["ts"], "channel_id": channel_id})
    return payload


def view_submission_payload(callback_id: str, values: dict[str, Any], *, private_metadata: str = "",
                            view_id: str = "V0VIEW", user_id: str = USER_ID,
                            team_id: str = TEAM_ID) -> dict[str, Any]:
    """A ``view_submission`` payload; ``values`` is ``state.values`` ({block_id: {action_id: {...}}})."""
    view: dict[str, Any] = {"id": view_id, "team_id": team_id, "type": "modal", "callback_id": callback_id,
            "private_metadata": private_metadata, "state": {"values": values},
            "hash": f"{int(time.time())}.x",
            "title": {"type": "plain_text", "text": "Oneday"}, "blocks": [], "app_id": APP_ID,
            "root_view_id": view_id, "previous_view_id": None, "external_id": "", "bot_id": "BBOT"}
    return {"type": "view_submission", "team": {"id": team_id, "domain": TEAM_DOMAIN},
            "user": _user(user_id, team_id), "api_app_id": APP_ID, "token": "legacy-verification-token",
            "trigger_id": new_trigger_id(), "view": view, "response_urls": [], "is_enterprise_install": False}


def send_view_submission(url: str, secret: str, callback_id: str, values: dict[str, Any], *,
                         private_metadata: str = "", view_id: str = "V0VIEW", user_id: str = USER_ID,
                         timestamp: int | str | None = None, signature: str | None = None) -> Result:
    payload = view_submission_payload(callback_id, values, private_metadata=private_metadata,
                                      view_id=view_id, user_id=user_id)
    return send_action(url, secret, payload, timestamp=timestamp, signature=signature)


class BoltHTTPServer:
    """Serves a ``slack_bolt.App`` on a free port of 127.0.0.1; ``.url`` is its request URL."""

    def __init__(self, app: Any, path: str = "/slack/events") -> None:
        from slack_bolt.request import BoltRequest

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

            def do_POST(self) -> None:  # noqa: N802
                parts = urlsplit(self.path)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                if parts.path != path:
                    status, text, headers = 404, "Not Found", {}
                else:
                    request = BoltRequest(body=body, query=parts.query, headers=dict(self.headers.items()))
                    response = app.dispatch(request)
                    status, text, headers = response.status, response.body, response.headers
                data = text.encode()
                self.send_response(status)
                for name, values in headers.items():
                    if name.lower() != "content-length":
                        for value in [values] if isinstance(values, str) else values:
                            self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}{path}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> BoltHTTPServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
