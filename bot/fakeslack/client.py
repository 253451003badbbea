"""Slack's side of the conversation with the bolt app: what a person's Slack client sends when they type a
slash command or press a button, signed with the app's signing secret and POSTed over HTTP, exactly as Slack
would. The answers Slack would show the person (an ephemeral ack) go onto their screen in the fake.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import re
import time
from typing import Any
from urllib.parse import urlencode, urlsplit

from bot.fakeslack.server import TEAM_ID, FakeSlack

_MENTION = re.compile(r"(?<![\w<])@([a-z0-9][a-z0-9._-]*[a-z0-9])", re.IGNORECASE)


class SlackClientSide:
    def __init__(self, fake: FakeSlack, url: str, secret: str) -> None:
        self.fake, self.url, self.secret = fake, url, secret

    def _post(self, fields: dict[str, str]) -> tuple[int, dict[str, Any]]:
        body = urlencode(fields)
        ts = str(int(time.time()))
        signature = hmac.new(self.secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
        parts = urlsplit(self.url)
        conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
        try:
            conn.request("POST", parts.path, body.encode(), {
                "Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": ts,
                "X-Slack-Signature": f"v0={signature}"})
            response = conn.getresponse()
            text = response.read().decode("utf-8", "replace")
        finally:
            conn.close()
        try:
            return response.status, json.loads(text) if text.strip() else {}
        except ValueError:
            return response.status, {"text": text}

    def escape(self, text: str) -> str:
        """As Slack sends command text with `should_escape`: entities, and known @names as mentions."""
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

        def mention(m: re.Match[str]) -> str:
            user = self.fake.user_named(m[1].rstrip("."))
            return f"<@{user}|{m[1]}>" if user else m[0]

        return _MENTION.sub(mention, text)

    def command(self, user: str, command: str, text: str, channel: str) -> dict[str, Any]:
        """Type `/command text` in `channel`; returns the ack's body (also shown to the person)."""
        status, body = self._post({
            "token": "unused", "team_id": TEAM_ID, "team_domain": "oneday-demo", "channel_id": channel,
            "channel_name": self.fake.channels[channel].name if channel in self.fake.channels else "",
            "user_id": user, "user_name": self.fake.users.get(user, {}).get("name", ""), "command": command,
            "text": self.escape(text), "api_app_id": "A0ONEDAY", "is_enterprise_install": "false",
            "response_url": self.fake.response_url_for(user), "trigger_id": self.fake.trigger_for(user)})
        if status != 200:
            body = {"text": f"(Slack could not reach the app: HTTP {status})"}
        if body.get("text") or body.get("blocks"):
            self.fake.show(user, "ephemeral", channel, body.get("text", ""), body.get("blocks"))
        return body

    def press(self, user: str, action_id: str, value: str, *, channel: str | None = None,
              view_id: str | None = None) -> int:
        """Press a button in a message in `channel`, or inside the modal `view_id`."""
        payload: dict[str, Any] = {
            "type": "block_actions", "team": {"id": TEAM_ID, "domain": "oneday-demo"},
            "user": {"id": user, "name": self.fake.users.get(user, {}).get("name", ""), "team_id": TEAM_ID},
            "api_app_id": "A0ONEDAY", "token": "unused", "trigger_id": self.fake.trigger_for(user),
            "actions": [{"type": "button", "action_id": action_id, "block_id": "b0", "value": value,
                         "action_ts": f"{time.time():.6f}"}], "is_enterprise_install": False}
        if view_id:
            payload.update(view={"id": view_id, "type": "modal"}, container={"type": "view", "view_id": view_id})
        else:
            message = {"type": "message", "ts": f"{time.time():.6f}", "text": ""}
            payload.update(channel={"id": channel, "name": ""}, message=message,
                           response_url=self.fake.response_url_for(user),
                           container={"type": "message", "message_ts": message["ts"], "channel_id": channel})
        status, _ = self._post({"payload": json.dumps(payload)})
        return status
