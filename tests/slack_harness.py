"""An in-process Oneday on the real stack for feature tests: bolt app served over HTTP on loopback by
bot.http, a SQLite database with the Northtown sample, the fake Slack, and the outbox sender.

Requests are signed and sent over real HTTP; the only fake is Slack's Web API. Use `slack_env` (fixture in
conftest.py); `drain()` delivers queued messages before you assert on what people received.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

from fake_slack import FakeSlack
from moments import STACK_START
from slack_requests import block_actions_payload, send_action, send_command, view_submission_payload
from slack_sdk import WebClient

from bot.clock import TickingClock
from bot.config import DEFAULT_COMMANDS
from bot.http import make_server
from bot.outbox import Sender
from bot.runner import Runner
from bot.slack.app import build_app
from bot.slack.http import bolt_routes
from bot.slack.port import SlackPort

SECRET = "harness-secret"


@dataclass
class Answer:
    status: int
    body: dict[str, Any]

    @property
    def text(self) -> str:
        """Everything the person sees in the ack, as one string (blocks JSON, escaped as sent)."""
        return json.dumps(self.body.get("blocks", [])) + " " + str(self.body.get("text", ""))


@dataclass
class SlackEnv:
    fake: FakeSlack
    factory: Any
    # commands and the sender share it; it starts on a fixed day, never today
    clock: TickingClock = field(default_factory=lambda: TickingClock(STACK_START))
    url: str = ""
    server: Any = None
    sender: Sender | None = None
    _thread: threading.Thread | None = field(default=None, repr=False)

    def start(self) -> SlackEnv:
        client = WebClient(token="xoxb-test", base_url=self.fake.base_url, retry_handlers=[])
        self.sender = Sender(self.factory, SlackPort(client), clock=self.clock)
        runner = Runner(factory=self.factory, names=dict(DEFAULT_COMMANDS), clock=self.clock)
        app = build_app(runner=runner, client=client, signing_secret=SECRET)
        self.server = make_server(bolt_routes(app), "127.0.0.1", 0)
        # shutdown() waits for serve_forever's next poll: 0.05 s instead of the default 0.5 s, at each stop
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/slack/events"
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    def command(self, user: str, command: str, text: str = "", channel: str = "C0MEET") -> Answer:
        status, body, _ = send_command(self.url, SECRET, command, text, user_id=user, channel_id=channel)
        return Answer(status, json.loads(body) if body else {})

    def press(self, user: str, action_id: str, value: str = "", channel: str = "C0MEET") -> int:
        payload = block_actions_payload(action_id, value, user_id=user, channel_id=channel,
                                        response_url=self.fake.response_url())
        status, _, _ = send_action(self.url, SECRET, payload)
        return status

    def submit(self, user: str, callback: str, values: dict[str, str], context: str = "") -> Answer:
        state = {name: {name: {"type": "plain_text_input", "value": v}} for name, v in values.items()}
        payload = view_submission_payload(callback, state, private_metadata=context, user_id=user)
        status, body, _ = send_action(self.url, SECRET, payload)
        return Answer(status, json.loads(body) if body else {})

    def drain(self, timeout: float = 30.0) -> None:
        assert self.sender is not None
        assert self.sender.drain(timeout=timeout), "outbox did not drain"

    def dm_channel(self, user: str) -> str | None:
        """The DM channel the bot opened with a user, if any."""
        for call in self.fake.calls_to("conversations.open"):
            users = call.args.get("users")
            users = users if isinstance(users, list) else str(users).split(",")
            if users == [user]:
                return call.response["channel"]["id"]
        return None

    def posts_to(self, channel: str | None) -> list[dict[str, Any]]:
        """chat.postMessage arguments sent to a channel (a DM channel from dm_channel(), or a space)."""
        return [c.args for c in self.fake.calls_to("chat.postMessage") if channel and c.args.get("channel") == channel]

    def dms_to(self, user: str) -> list[dict[str, Any]]:
        return self.posts_to(self.dm_channel(user))

    def responses(self) -> list[dict[str, Any]]:
        """What buttons answered through response_url (ephemeral to the presser)."""
        return [c.args for c in self.fake.calls_to("response_url")]

    def modals(self) -> list[dict[str, Any]]:
        return [c.args["view"] for c in self.fake.calls_to("views.open")]
