"""Slack's Web API, in process: a real HTTP server on 127.0.0.1 for `oneday demo` and `oneday console`.

It answers the methods Oneday calls, keeps a tiny workspace (users, channels and their members, messages,
views, files) and records what each person would see on their screen: ephemeral answers (acks, response_url,
chat.postEphemeral), modals (views.open/update, tied to the person through the trigger id or view id), DMs,
and the posts in every channel they are a member of. It checks nothing beyond what Oneday needs to be honest
(unknown channel, user or view, missing text): the tests' fake (tests/fake_slack.py) validates every call
against Slack's method reference; this one only has to run anywhere Oneday is installed.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

TEAM_ID, BOT_USER_ID, BOT_ID = "T0ONEDAY", "UBOT", "BBOT"


class SlackError(Exception):
    """Answered as Slack does: HTTP 200, {"ok": false, "error": code}."""


@dataclass
class Seen:
    """One thing a person saw: an ephemeral answer, a modal, a DM or a channel post."""

    at: datetime
    kind: str  # "ephemeral" | "modal" | "dm" | "post"
    where: str  # channel id ("" for a modal)
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    seq: int = 0
    contents: list[bytes] = field(default_factory=list)  # the files' bytes, in the order of `files`


@dataclass
class Channel:
    id: str
    name: str
    private: bool
    members: list[str]
    im_user: str | None = None
    messages: list[Seen] = field(default_factory=list)


def _blocks(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, str):
        value = json.loads(value) if value else []
    return list(value or [])


class FakeSlack:
    def __init__(self, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.clock = clock  # stamps what people saw (the demo passes its business clock)
        self.users: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, Channel] = {}
        self.screens: dict[str, list[Seen]] = {}  # user -> ephemeral answers, modals (DMs live in channels)
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._triggers: dict[str, str] = {}  # trigger_id -> user
        self._responses: dict[str, str] = {}  # response_url path -> user
        self._views: dict[str, tuple[str, dict[str, Any]]] = {}  # view id -> (user, view)
        self._uploads: dict[str, dict[str, Any]] = {}
        self._seq = 0
        self._lock = threading.RLock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.fake = self  # type: ignore[attr-defined]
        self.root_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.base_url = self.root_url + "/api/"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    def start(self) -> FakeSlack:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # -- the workspace ------------------------------------------------------------------------------
    def add_user(self, user_id: str, email: str, name: str, real_name: str) -> None:
        self.users[user_id] = {"id": user_id, "team_id": TEAM_ID, "name": name, "real_name": real_name,
                               "deleted": False, "is_bot": False,
                               "profile": {"email": email, "real_name": real_name, "display_name": name}}

    def add_channel(self, channel_id: str, name: str, members: list[str], private: bool = False) -> None:
        self.channels[channel_id] = Channel(channel_id, name, private, [BOT_USER_ID, *members])

    def user_named(self, name: str) -> str | None:
        return next((u for u, d in self.users.items() if d["name"] == name), None)

    def trigger_for(self, user: str) -> str:
        with self._lock:
            trigger = f"{int(time.time())}.{secrets.token_hex(8)}"
            self._triggers[trigger] = user
            return trigger

    def response_url_for(self, user: str) -> str:
        with self._lock:
            path = f"/response/{secrets.token_hex(8)}"
            self._responses[path] = user
            return self.root_url + path

    def show(self, user: str, kind: str, where: str, text: str, blocks: Any = None) -> None:
        """Put something on one person's screen (also used by the client side for acks)."""
        with self._lock:
            self._seq += 1
            self.screens.setdefault(user, []).append(Seen(self.clock(), kind, where, text, _blocks(blocks),
                                                          seq=self._seq))

    # -- what people saw ----------------------------------------------------------------------------
    def dm_channel(self, user: str) -> Channel | None:
        return next((c for c in self.channels.values() if c.im_user == user), None)

    def channels_of(self, user: str) -> list[Channel]:
        return [c for c in self.channels.values() if user in c.members and c.im_user is None]

    def seen_by(self, user: str, after: int = 0) -> list[Seen]:
        """Everything on `user`'s screen (ephemerals, modals, DMs; not channel posts), oldest first."""
        with self._lock:
            dm = self.dm_channel(user)
            items = self.screens.get(user, []) + (dm.messages if dm else [])
            return sorted((s for s in items if s.seq > after), key=lambda s: s.seq)

    def posts_seen_by(self, user: str, after: int = 0) -> list[Seen]:
        with self._lock:
            return sorted((m for c in self.channels_of(user) for m in c.messages if m.seq > after),
                          key=lambda s: s.seq)

    def last_modal(self, user: str) -> str | None:
        """The id of the newest modal open on `user`'s screen (to press a button inside it)."""
        found = [v for v, (u, view) in self._views.items() if u == user and view.get("type") == "modal"]
        return found[-1] if found else None

    @property
    def seq(self) -> int:
        return self._seq

    # -- Web API ------------------------------------------------------------------------------------
    def handle(self, method: str, a: dict[str, Any]) -> dict[str, Any]:
        handler = getattr(self, "api_" + method.replace(".", "_"), None)
        if handler is None:
            raise SlackError("unknown_method")
        with self._lock:
            self.calls.append((method, a))
            return {"ok": True, **handler(a)}

    def _channel(self, ref: Any) -> Channel:
        ref = str(ref)
        if ref[:1] in ("U", "W"):
            return self._im(ref)
        if ref not in self.channels:
            raise SlackError("channel_not_found")
        return self.channels[ref]

    def _im(self, user: str) -> Channel:
        if user not in self.users:
            raise SlackError("user_not_found")
        found = self.dm_channel(user)
        if found is None:
            found = Channel("D" + user[1:], "", True, [BOT_USER_ID, user], im_user=user)
            self.channels[found.id] = found
        return found

    def _post(self, channel: Channel, text: str, blocks: Any, files: list[str] | None = None,
              contents: list[bytes] | None = None) -> str:
        self._seq += 1
        kind = "dm" if channel.im_user else "post"
        channel.messages.append(Seen(self.clock(), kind, channel.id, text, _blocks(blocks), files or [],
                                     seq=self._seq, contents=contents or []))
        return f"{int(time.time())}.{self._seq:06d}"

    def api_auth_test(self, a: dict[str, Any]) -> dict[str, Any]:
        return {"url": "https://oneday-demo.slack.com/", "team": "Oneday demo", "user": "oneday",
                "team_id": TEAM_ID, "user_id": BOT_USER_ID, "bot_id": BOT_ID}

    def api_chat_postMessage(self, a: dict[str, Any]) -> dict[str, Any]:
        if not (a.get("text") or a.get("blocks")):
            raise SlackError("no_text")
        channel = self._channel(a["channel"])
        return {"channel": channel.id, "ts": self._post(channel, a.get("text", ""), a.get("blocks"))}

    def api_chat_postEphemeral(self, a: dict[str, Any]) -> dict[str, Any]:
        self.show(a["user"], "ephemeral", self._channel(a["channel"]).id, a.get("text", ""), a.get("blocks"))
        return {"message_ts": f"{int(time.time())}.000000"}

    def api_conversations_open(self, a: dict[str, Any]) -> dict[str, Any]:
        users = [u for u in str(a.get("users", "")).split(",") if u]
        if len(users) != 1:
            raise SlackError("users_list_not_supplied")
        return {"channel": {"id": self._im(users[0]).id}}

    def api_conversations_create(self, a: dict[str, Any]) -> dict[str, Any]:
        if any(c.name == a["name"] for c in self.channels.values()):
            raise SlackError("name_taken")
        self._seq += 1
        channel_id = f"C{self._seq:08d}"
        self.add_channel(channel_id, a["name"], [], private=str(a.get("is_private")).lower() in ("1", "true"))
        return {"channel": {"id": channel_id, "name": a["name"], "creator": BOT_USER_ID}}

    def api_conversations_invite(self, a: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(a["channel"])
        channel.members += [u for u in str(a["users"]).split(",") if u and u not in channel.members]
        return {"channel": {"id": channel.id}}

    def api_conversations_kick(self, a: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(a["channel"])
        if a["user"] not in channel.members:
            raise SlackError("not_in_channel")
        channel.members.remove(a["user"])
        return {}

    def api_conversations_members(self, a: dict[str, Any]) -> dict[str, Any]:
        return {"members": list(self._channel(a["channel"]).members), "response_metadata": {"next_cursor": ""}}

    def api_conversations_list(self, a: dict[str, Any]) -> dict[str, Any]:
        found = [{"id": c.id, "name": c.name, "is_private": c.private, "creator": BOT_USER_ID}
                 for c in self.channels.values() if c.im_user is None]
        return {"channels": found, "response_metadata": {"next_cursor": ""}}

    def api_conversations_history(self, a: dict[str, Any]) -> dict[str, Any]:
        # Only asked after an uncertain send; this fake never leaves one, so nothing was ever "maybe sent".
        self._channel(a["channel"])
        return {"messages": [], "has_more": False, "response_metadata": {"next_cursor": ""}}

    def api_users_info(self, a: dict[str, Any]) -> dict[str, Any]:
        if a["user"] not in self.users:
            raise SlackError("user_not_found")
        return {"user": self.users[a["user"]]}

    def api_users_lookupByEmail(self, a: dict[str, Any]) -> dict[str, Any]:
        email = str(a["email"]).lower()
        found = next((u for u in self.users.values() if u["profile"]["email"].lower() == email), None)
        if found is None:
            raise SlackError("users_not_found")
        return {"user": found}

    def _view(self, user: str, view: Any, view_id: str | None = None) -> dict[str, Any]:
        view = json.loads(view) if isinstance(view, str) else dict(view)
        if view_id is None:
            self._seq += 1
            view_id = f"V{self._seq:08d}"
        self._views[view_id] = (user, view)
        title = (view.get("title") or {}).get("text", "")
        self.show(user, "home" if view.get("type") == "home" else "modal", "", title, view.get("blocks"))
        return {"view": {**view, "id": view_id}}

    def api_views_open(self, a: dict[str, Any]) -> dict[str, Any]:
        user = self._triggers.pop(a["trigger_id"], None)
        if user is None:
            raise SlackError("invalid_trigger_id")
        return self._view(user, a["view"])

    def api_views_update(self, a: dict[str, Any]) -> dict[str, Any]:
        if a.get("view_id") not in self._views:
            raise SlackError("not_found")
        return self._view(self._views[a["view_id"]][0], a["view"], a["view_id"])

    def api_views_publish(self, a: dict[str, Any]) -> dict[str, Any]:
        return self._view(a["user_id"], a["view"], f"VHOME{a['user_id']}")

    def api_files_getUploadURLExternal(self, a: dict[str, Any]) -> dict[str, Any]:
        self._seq += 1
        file_id = f"F{self._seq:08d}"
        self._uploads[file_id] = {"id": file_id, "name": a["filename"], "content": None}
        return {"upload_url": f"{self.root_url}/upload/{file_id}", "file_id": file_id}

    def api_files_completeUploadExternal(self, a: dict[str, Any]) -> dict[str, Any]:
        files = a["files"] if isinstance(a["files"], list) else json.loads(a["files"])
        found = [self._uploads.get(f["id"]) for f in files]
        if not all(f and f["content"] is not None for f in found):
            raise SlackError("file_not_found")
        answered = [{"id": f["id"], "name": f["name"], "title": g.get("title") or f["name"],
                     "size": len(f["content"])} for f, g in zip(found, files, strict=True) if f]
        channel = a.get("channel_id") or a.get("channels")
        if channel:
            self._post(self._channel(str(channel).split(",")[0]), a.get("initial_comment", ""), None,
                       [f["name"] for f in answered], [f["content"] for f in found if f])
        return {"files": answered}

    def upload(self, file_id: str, body: bytes) -> None:
        with self._lock:
            if file_id not in self._uploads:
                raise SlackError("file_not_found")
            self._uploads[file_id]["content"] = body

    def respond(self, path: str, a: dict[str, Any]) -> None:
        """A POST to a response_url: bolt's respond(), shown to the person who pressed the button."""
        user = self._responses.get(path)
        if user is None:
            raise SlackError("expired_url")
        self.show(user, "ephemeral", "", a.get("text", ""), a.get("blocks"))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Any

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        fake: FakeSlack = self.server.fake
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path = urlsplit(self.path).path
        args: dict[str, Any] = dict(parse_qsl(urlsplit(self.path).query))
        try:
            if path.startswith("/upload/"):
                fake.upload(path[len("/upload/"):], body)
                return self._reply({"ok": True})
            if body and self.headers.get_content_type() == "application/json":
                args.update(json.loads(body))
            elif body:
                args.update(parse_qsl(body.decode()))
            if path.startswith("/response/"):
                fake.respond(path, args)
                return self._reply({"ok": True})
            if path.startswith("/api/"):
                return self._reply(fake.handle(path[len("/api/"):], args))
            return self._reply({"ok": False, "error": "not_found"}, 404)
        except SlackError as exc:
            return self._reply({"ok": False, "error": str(exc)})
        except (KeyError, ValueError) as exc:
            return self._reply({"ok": False, "error": "invalid_arguments", "detail": repr(exc)})

    def _reply(self, body: dict[str, Any], status: int = 200) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
