"""Oneday's production stack in one process, against the in-process fake Slack: the bolt app from
`bot.slack.app.build_app` served by `bot.http.make_server` on loopback, the Runner on a chosen clock, and the
outbox Sender delivering through `SlackPort`. Used by `oneday demo` and `oneday console`.

Every member of the partnership becomes a Slack user of the fake workspace: with their Slack id from the
partnership file, or (no id on file) a made-up one that Oneday has to link by email, as it would in a real
workspace. The meeting channel holds everyone.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.config import DEFAULT_COMMANDS
from bot.fakeslack import FakeSlack, SlackClientSide
from bot.http import make_server
from bot.outbox import Sender
from bot.runner import Runner
from bot.slack.app import build_app, make_client
from bot.slack.http import bolt_routes
from bot.slack.port import SlackPort
from commands.partnership.file import select_partnership
from models import Member

PROXY_VARS = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy")


@dataclass(frozen=True)
class Person:
    key: str
    name: str
    agency: str
    roles: tuple[str, ...]
    user: str  # Slack user id in the fake workspace
    on_file: bool  # the id came from the partnership file (else Oneday links it by email)


def synthetic_id(key: str) -> str:
    return "UX" + hashlib.sha256(key.encode()).hexdigest()[:8].upper()


class LocalSlack:
    def __init__(self, factory: sessionmaker[Session], *, clock: Callable[[], datetime],
                 names: dict[str, str] | None = None, partnership: str | None = None) -> None:
        self.factory, self.clock = factory, clock
        self.names = dict(names or DEFAULT_COMMANDS)
        self.partnership = partnership
        self.fake = FakeSlack(clock=clock)
        self.people: dict[str, Person] = {}
        self.meeting_channel = "C0MEET"
        self.secret = secrets.token_hex(16)
        self.server: Any = None
        self.sender: Sender | None = None
        self.slack: SlackClientSide | None = None

    def start(self) -> LocalSlack:
        # slack_sdk honours HTTP(S)_PROXY and ignores NO_PROXY: a proxy must never see loopback calls.
        # An empty value means "no proxy" to slack_sdk and urllib alike (this process only).
        for name in PROXY_VARS:
            if os.environ.get(name):
                os.environ[name] = ""
        self.fake.start()
        with self.factory() as session:
            p = select_partnership(session, self.partnership)
            self.meeting_channel = str((p.meeting or {}).get("channel") or "C0MEET")
            for m in session.scalars(select(Member).where(Member.partnership_id == p.id,
                                                          Member.active.is_(True)).order_by(Member.key)):
                on_file = m.identity("slack")
                person = Person(m.key, m.name, m.agency.name, tuple(m.roles or ()),
                                on_file or synthetic_id(m.key), bool(on_file))
                self.people[m.key] = person
                self.fake.add_user(person.user, m.email, m.key, m.name)
        self.fake.add_channel(self.meeting_channel, "oneday-meeting", [p.user for p in self.people.values()])
        client = make_client("xoxb-oneday-local", self.fake.base_url)
        client.retry_handlers = []
        runner = Runner(factory=self.factory, names=self.names, partnership_key=self.partnership, clock=self.clock)
        app = build_app(runner=runner, client=client, signing_secret=self.secret)
        self.server = make_server(bolt_routes(app), "127.0.0.1", 0)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{self.server.server_port}/slack/events"
        self.slack = SlackClientSide(self.fake, url, self.secret)
        self.sender = Sender(self.factory, SlackPort(client), clock=self.clock)  # one clock for commands and delivery
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()
        self.fake.stop()

    def __enter__(self) -> LocalSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what people do -----------------------------------------------------------------------------
    def user(self, key: str) -> str:
        return self.people[key].user

    def command(self, key: str, line: str, channel: str | None = None) -> dict[str, Any]:
        """`key` types `line` (e.g. "/actions OCG-07") in `channel` (default: the meeting channel)."""
        assert self.slack is not None
        command, _, text = line.strip().partition(" ")
        return self.slack.command(self.user(key), command, text.strip(), channel or self.meeting_channel)

    def press(self, key: str, action_id: str, value: str, *, channel: str | None = None,
              view_id: str | None = None) -> int:
        assert self.slack is not None
        return self.slack.press(self.user(key), action_id, value,
                                channel=None if view_id else (channel or self.meeting_channel), view_id=view_id)

    def drain(self, timeout: float = 60.0) -> bool:
        """Deliver everything queued (True), or give up after `timeout` (False)."""
        assert self.sender is not None
        return self.sender.drain(timeout=timeout)

    def deliver_due(self, patience: float = 2.0, timeout: float = 30.0) -> None:
        """Deliver what is due now and what falls due within `patience` seconds (channel pacing); leave rows
        that wait longer (a retry backing off) to later calls, so an interactive prompt never hangs."""
        assert self.sender is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.sender.run_once()
            wait = self.sender.seconds_until_due()
            if wait is None or wait > patience:
                return
            time.sleep(max(wait, 0.02))

    def section_channel(self, cohort: str) -> str | None:
        """The private channel Oneday created for a section (by its name's ending)."""
        return next((c.id for c in self.fake.channels.values()
                     if c.im_user is None and c.name.endswith(f"-{cohort}")), None)

    def last_modal_id(self, key: str) -> str | None:
        return self.fake.last_modal(self.user(key))
