"""An in-process Teams stack (`oneday demo --platform teams`, and tests): TeamsInbound's route on Oneday's
threaded HTTP server (real HTTP), the commands and the outbox sender on one TickingClock, and the loopback
FakeTeams as the far end.

Every Northtown member gets a Teams identity (`guid_for(key)`) and the fake tenant is linked to the partnership,
so the partnership lives on Teams and the outbox sends members' DMs there.
"""

from __future__ import annotations

import itertools
import json
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from bot import db
from bot.clock import TickingClock
from bot.config import DEFAULT_COMMANDS
from bot.faketeams.server import TENANT, FakeTeams, guid_for
from bot.http import make_server
from bot.outbox import Sender
from bot.runner import Runner
from bot.teams.inbound import TeamsInbound
from bot.teams.port import TeamsPort, build_port
from bot.teams.settings import from_env
from models import ChatIdentity, Member, Partnership, Workspace

_ids = itertools.count(1)


def give_teams_identities(factory: Any, *, created_at: datetime, link_tenant: bool = True) -> dict[str, str]:
    """Every member's Teams identity (their Entra object id); the fake tenant linked to the partnership."""
    out: dict[str, str] = {}
    with db.unit_of_work(factory) as session:
        p = session.scalars(select(Partnership)).one()
        for member in session.scalars(select(Member)):
            if member.identity("teams") is None:
                session.add(ChatIdentity(partnership_id=p.id, member_id=member.id, platform="teams",
                                         user_id=guid_for(member.key)))
            out[member.key] = guid_for(member.key)
        if link_tenant:
            session.add(Workspace(partnership_id=p.id, platform="teams", workspace_id=TENANT,
                                  created_at=created_at))
    return out


@dataclass
class TeamsStack:
    fake: FakeTeams
    factory: Any
    clock: TickingClock
    ids: dict[str, str] = field(default_factory=dict)
    url: str = ""
    port: TeamsPort | None = None
    inbound: TeamsInbound | None = None
    sender: Sender | None = None
    server: Any = None

    def start(self) -> TeamsStack:
        self.ids = give_teams_identities(self.factory, created_at=self.clock())
        settings = from_env(self.fake.env())
        self.port = build_port(settings, self.factory, self.clock)
        runner = Runner(factory=self.factory, names=dict(DEFAULT_COMMANDS), clock=self.clock)
        self.inbound = TeamsInbound(settings, engine=None, runner=runner, port=self.port)  # type: ignore[arg-type]
        self.inbound.start()
        self.sender = Sender(self.factory, self.port, clock=self.clock)
        self.server = make_server(self.inbound.routes, "127.0.0.1", 0)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/api/messages"
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()
        if self.inbound:
            self.inbound.stop()

    # -- activities ----------------------------------------------------------------------------------------

    def activity(self, key: str, text: str = "", *, conversation: str | None = None, kind: str = "personal",
                 entities: list[dict[str, Any]] | None = None, type_: str = "message",
                 activity_id: str | None = None, **extra: Any) -> dict[str, Any]:
        """An activity from member `key` (their Entra object id) in their 1:1 chat, or in `conversation`
        (`kind` "channel" or "groupChat")."""
        aad = self.ids[key]
        conv = conversation or self.fake.personal_of(aad)
        out: dict[str, Any] = {
            "type": type_, "id": activity_id or f"in-{next(_ids)}", "channelId": "msteams",
            "serviceUrl": self.fake.service_url, "text": text,
            "from": {"id": f"29:{key}", "name": key, "aadObjectId": aad},
            "recipient": {"id": "28:oneday", "name": "Oneday"},
            "conversation": {"id": conv, "conversationType": kind, "tenantId": TENANT},
            "channelData": {"tenant": {"id": TENANT}},
        }
        if entities:
            out["entities"] = entities
        out.update(extra)
        return out

    def press(self, key: str, verb: str, data: dict[str, Any], **kw: Any) -> dict[str, Any]:
        return self.activity(key, type_="invoke", name="adaptiveCard/action",
                             value={"action": {"type": "Action.Execute", "verb": verb, "data": data}}, **kw)

    def post(self, activity: dict[str, Any], token: str | None = "valid") -> tuple[int, Any]:
        headers = {"Content-Type": "application/json"}
        if token == "valid":
            token = self.fake.token()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        req = urllib.request.Request(self.url, data=json.dumps(activity).encode(), headers=headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                body = r.read()
                return r.status, json.loads(body) if body else None
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()
        except ConnectionError:  # the route raised: this test server closes (`oneday serve` answers 500)
            return 0, None

    def drain(self, timeout: float = 30.0) -> None:
        """The outbox delivered, and every invoke answer meant for a 1:1 chat sent."""
        assert self.sender is not None and self.inbound is not None
        assert self.inbound.settle(timeout), "answers to 1:1 chats still being sent"
        assert self.sender.drain(timeout=timeout), "outbox not drained"

    def to(self, key: str) -> str:
        """Everything the connector delivered to member `key`'s 1:1 chat, as one text."""
        return " ".join(s.text for s in self.fake.sent_to(self.fake.personal_of(self.ids[key])))
