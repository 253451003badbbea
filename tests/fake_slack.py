"""A fake of Slack's Web API: a real HTTP server on 127.0.0.1 that checks and records every call.

Point a real client at it: ``WebClient(base_url=fake.base_url, token="xoxb-test")``.  Every call is checked
against the machine-readable reference (``slack_reference``): unknown methods, bad tokens, missing or
ill-typed or unknown arguments are answered like Slack answers them and recorded in ``.rejected`` (a test
ends with ``fake.assert_no_rejections()``).  Accepted calls are recorded in ``.calls`` and answered from a
small in-memory workspace (channels, members, users, messages, views, uploaded files).

Besides ``/api/<method>`` the server offers ``/upload/<file_id>`` (the ``upload_url`` of
``files.getUploadURLExternal``) and ``/response/<n>`` (``fake.response_url()``; POSTs to it are recorded as
calls of the pseudo-method ``"response_url"``, the way bolt's ``respond()`` talks to Slack).

Records: ``.calls`` (accepted, answered by the workspace), ``.rejected`` (refused by the checks),
``.faults`` (answered by an injected fault, see ``fail_next``/``fail_randomly``) and ``.ratelimited``
(refused by ``limit_per_channel``).  Calls answered by a fault or the channel limit are not in ``.calls``
(except ``slow_after``, which does the call, records it, and only then delays the answer).

Message ``ts`` values follow the real clock (microseconds, strictly increasing), so ``conversations.history``
with ``oldest``/``latest`` behaves as Slack's does; messages keep the ``metadata`` they were posted with, and
history returns it only with ``include_all_metadata``.  A file shared by ``files.completeUploadExternal``
appears in its channel as a message carrying ``files``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import random
import re
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import default as email_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import slack_reference as ref

TEAM_ID, TEAM_NAME, BOT_USER_ID, BOT_ID, APP_ID = "T0001", "Northtown", "UBOT", "BBOT", "A0ONEDAY"
# "slow": wait ``delay`` then answer normally; "slow_after": do the call (a post is stored) and record it, then
# wait ``delay`` before answering, so a client killed meanwhile never learns that Slack accepted it.
FAULT_KINDS = ("ratelimited", "server_error", "drop", "slow", "slow_after")
_TOKEN_RE = re.compile(r"^(xox[abpe]|xapp)-[\w-]+$")
_ID_RE = re.compile(r"^[CDG][A-Z0-9]+$")


@dataclass(frozen=True)
class Call:
    method: str
    args: dict[str, Any]
    token: str | None
    at: float
    response: dict[str, Any] | None = None  # the answer given (accepted calls)
    error: str | None = None  # Slack's error code, when the answer was ok: false
    fault: str | None = None  # injected fault kind, or "channel_limit"


@dataclass
class UploadedFile:
    file_id: str
    filename: str
    length: int
    content: bytes | None = None
    title: str | None = None
    channel_id: str | None = None
    initial_comment: str | None = None
    completed: bool = False
    deleted: bool = False


@dataclass
class _Fault:
    kind: str
    retry_after: int = 1
    delay: float = 2.0


class SlackError(Exception):
    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.body = {"ok": False, "error": error, **extra}


class _Server(ThreadingHTTPServer):
    # the stdlib's listen backlog of 5 drops connections when 16 arrive at once (slack_sdk opens one per call), and
    # the client's retry a second later shows up as a 1 s latency in benchmarks that is the fake's, not Oneday's
    request_queue_size = 128


class FakeSlack:
    def __init__(self, tokens: set[str] | None = None) -> None:
        """``tokens``: the valid tokens; by default any well-formed ``xox?-``/``xapp-`` token is."""
        self.tokens = tokens
        self.socket_mode_url = "ws://127.0.0.1:9/link/?ticket=fake-ticket&app_id=" + APP_ID
        self.calls: list[Call] = []
        self.rejected: list[Call] = []
        self.faults: list[Call] = []
        self.ratelimited: list[Call] = []
        self.files: dict[str, UploadedFile] = {}
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._seq = 0
        self._last_ts = 0  # microseconds of the newest message ts handed out
        self._stopping = threading.Event()
        self._users: dict[str, dict[str, Any]] = {}
        self._channels: dict[str, dict[str, Any]] = {}
        self._members: dict[str, list[str]] = {}
        self._messages: dict[tuple[str, str], dict[str, Any]] = {}
        self._views: dict[str, dict[str, Any]] = {}
        self.oauth_apps: dict[str, str] = {}  # client_id -> client_secret (oauth.v2.access)
        self._oauth_codes: dict[str, dict[str, Any]] = {}  # code -> what the installing user approved
        self._queued: dict[str, deque[_Fault]] = defaultdict(deque)
        self._random: tuple[random.Random, float, tuple[str, ...], _Fault] | None = None
        self._channel_interval: float | None = None
        self._last_post: dict[str, float] = {}
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.fake = self  # type: ignore[attr-defined]
        self.root_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.base_url = self.root_url + "/api/"
        self._thread: threading.Thread | None = None

    # ---------------------------------------------------------------- lifecycle
    def start(self) -> FakeSlack:
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # end the waits of slow answers
        if self._thread:  # shutdown() would wait forever for a loop that never ran
            self._server.shutdown()
            self._thread.join(5)
        self._server.server_close()

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---------------------------------------------------------------- records
    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def clear(self) -> None:
        """Forget the records (not the workspace state)."""
        with self._lock:
            for records in (self.calls, self.rejected, self.faults, self.ratelimited):
                records.clear()

    def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Block until ``count`` accepted calls of ``method`` were recorded; returns them."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.calls_to(method)) >= count, timeout):
                seen = [c.method for c in self.calls]
                raise AssertionError(f"{method}: wanted {count} call(s) within {timeout}s; calls: {seen}")
            return self.calls_to(method)

    def assert_no_rejections(self) -> None:
        with self._lock:
            lines = [f"{c.method}: {c.error} {c.response and c.response.get('response_metadata')}"
                     for c in self.rejected]
        assert not lines, "Slack rejected calls:\n" + "\n".join(lines)

    def uploaded(self, file_id: str) -> bytes | None:
        return self.files[file_id].content

    def messages(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Current channel messages (after updates and deletes), oldest first."""
        with self._lock:
            found = [m for (ch, _), m in self._messages.items() if channel in (None, ch)]
        return sorted(found, key=lambda m: float(m["ts"]))

    def members(self, channel_id: str) -> list[str]:
        with self._lock:
            return list(self._members.get(channel_id, []))

    # ---------------------------------------------------------------- workspace seeding
    def add_user(self, user_id: str, email: str, name: str, real_name: str | None = None) -> dict[str, Any]:
        real = real_name or name
        user = {"id": user_id, "team_id": TEAM_ID, "name": name, "real_name": real, "deleted": False,
                "is_bot": False, "tz": "Europe/London", "tz_offset": 0,
                "profile": {"email": email, "real_name": real, "display_name": name}}
        with self._lock:
            self._users[user_id] = user
        return user

    def add_channel(self, name: str, is_private: bool = False, members: tuple[str, ...] = (),
                    bot_is_member: bool = True) -> str:
        with self._lock:
            return self._new_channel(name, is_private, [*([BOT_USER_ID] if bot_is_member else []), *members])

    def add_message(self, channel: str, text: str, user: str, ts: str | None = None) -> str:
        with self._lock:
            ts = ts or self._next_ts()
            self._messages[(channel, ts)] = {"type": "message", "user": user, "text": text, "ts": ts}
            return ts

    def response_url(self) -> str:
        with self._lock:
            self._seq += 1
            return f"{self.root_url}/response/{self._seq}"

    def approve_install(self, client_id: str, client_secret: str, *, scopes: tuple[str, ...] = ("commands",),
                        user: str = "U0INSTALLER", redirect_uri: str | None = None) -> str:
        """A user approves the app on slack.com: register the app and return the one-time ``code`` Slack puts
        on the redirect to the app's ``/slack/oauth_redirect`` (exchanged with oauth.v2.access)."""
        with self._lock:
            self.oauth_apps[client_id] = client_secret
            self._seq += 1
            code = f"{self._seq}.{hashlib.sha256(f'{client_id}{self._seq}'.encode()).hexdigest()[:40]}"
            self._oauth_codes[code] = {"client_id": client_id, "scopes": scopes, "user": user,
                                       "redirect_uri": redirect_uri}
            return code

    # ---------------------------------------------------------------- fault injection
    def fail_next(self, method: str, n: int = 1, kind: str = "ratelimited", *, retry_after: int = 1,
                  delay: float = 2.0, after: int = 0) -> None:
        """The next ``n`` valid calls of ``method`` ("*": any) get ``kind`` instead of an answer (after
        ``after`` calls answered normally)."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {FAULT_KINDS}")
        with self._lock:
            self._queued[method].extend(_Fault("") for _ in range(after))
            self._queued[method].extend(_Fault(kind, retry_after, delay) for _ in range(n))

    def fail_randomly(self, rate: float, kinds: tuple[str, ...] = ("ratelimited", "server_error"),
                      seed: int | None = 0, *, retry_after: int = 1, delay: float = 2.0) -> None:
        """Each valid call fails with probability ``rate`` (kind picked from ``kinds``); rate 0 stops."""
        if set(kinds) - set(FAULT_KINDS):
            raise ValueError(f"kinds must be among {FAULT_KINDS}")
        with self._lock:
            self._random = (random.Random(seed), rate, tuple(kinds), _Fault("", retry_after, delay)) \
                if rate > 0 else None

    def limit_per_channel(self, per_second: float | None = 1.0) -> None:
        """chat.postMessage to one channel more often than ``per_second`` gets a 429 (None: no limit)."""
        with self._lock:
            self._channel_interval = 1.0 / per_second if per_second else None
            self._last_post.clear()

    def _take_fault(self, method: str) -> _Fault | None:
        with self._lock:
            for key in (method, "*"):
                if self._queued[key]:
                    return self._queued[key].popleft()
            if self._random:
                rng, rate, kinds, template = self._random
                if rng.random() < rate:
                    return _Fault(rng.choice(kinds), template.retry_after, template.delay)
        return None

    def _channel_wait(self, args: dict[str, Any]) -> float:
        """Seconds until another post to the channel is allowed (0: allowed now, and counted)."""
        with self._lock:
            if self._channel_interval is None:
                return 0.0
            channel, now = str(args.get("channel")), time.monotonic()
            wait = self._last_post.get(channel, -math.inf) + self._channel_interval - now
            if wait > 0:
                return wait
            self._last_post[channel] = now
            return 0.0

    # ---------------------------------------------------------------- request handling
    def _record(self, records: list[Call], call: Call) -> None:
        with self._changed:
            records.append(call)
            self._changed.notify_all()

    def _handle_api(self, http: _Handler, method: str, args: dict[str, Any]) -> None:
        auth = http.headers.get("Authorization", "")
        token = auth[7:].strip() if auth.startswith("Bearer ") else None
        if auth.startswith("Basic ") and method == "oauth.v2.access":  # the app's client id and secret
            client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
            args.setdefault("client_id", client_id)
            args.setdefault("client_secret", secret)
        token = token or args.pop("token", None)
        args.pop("token", None)
        rejected = self._refusal(method, token, args)
        if rejected:
            self._record(self.rejected, Call(method, args, token, time.time(), rejected.body,
                                             rejected.body["error"]))
            return http.reply(200, rejected.body)
        record = ref.decode_for_record(method, args)
        fault = self._take_fault(method)
        if fault and not fault.kind:  # a placeholder of fail_next(after=...)
            fault = None
        if fault and fault.kind not in ("slow", "slow_after"):
            self._record(self.faults, Call(method, record, token, time.time(), fault=fault.kind))
            if fault.kind == "ratelimited":
                body = {"ok": False, "error": "ratelimited"}
                return http.reply(429, body, {"Retry-After": str(fault.retry_after)})
            if fault.kind == "server_error":
                return http.reply(500, {"ok": False, "error": "internal_error"})
            http.close_connection = True  # "drop": no answer at all
            return None
        if fault and fault.kind == "slow":
            self._stopping.wait(fault.delay)
        if method == "chat.postMessage" and (wait := self._channel_wait(record)) > 0:
            self._record(self.ratelimited, Call(method, record, token, time.time(), fault="channel_limit"))
            return http.reply(429, {"ok": False, "error": "ratelimited"},
                              {"Retry-After": str(max(1, math.ceil(wait)))})
        handler = getattr(self, "_api_" + method.replace(".", "_"), None)
        with self._lock:
            try:
                body = {"ok": True, **(handler(record) if handler else {})}
            except SlackError as error:
                body = error.body
            failed = body.get("error")
            self._record(self.calls, Call(method, record, token, time.time(), body, str(failed) if failed else None))
        if fault and fault.kind == "slow_after":
            self._record(self.faults, Call(method, record, token, time.time(), body, fault=fault.kind))
            self._stopping.wait(fault.delay)
        return http.reply(200, body)

    def _refusal(self, method: str, token: str | None, args: dict[str, Any]) -> SlackError | None:
        if not ref.exists(method):
            return SlackError("unknown_method")
        if method == "oauth.v2.access":  # authenticated by client id and secret, never by a token
            problems = ref.check(method, args)
            return SlackError("invalid_arguments", response_metadata={"messages": problems}) if problems else None
        if not token:
            return SlackError("not_authed")
        if not _TOKEN_RE.match(token) or (self.tokens is not None and token not in self.tokens):
            return SlackError("invalid_auth")
        if (method == "apps.connections.open") != token.startswith("xapp-"):
            return SlackError("not_allowed_token_type")
        problems = ref.check(method, {**args, "token": token})
        if problems:
            return SlackError("invalid_arguments", response_metadata={"messages": problems})
        return None

    def _refuse(self, http: _Handler, path: str, error: str, status: int) -> None:
        body = {"ok": False, "error": error}
        self._record(self.rejected, Call(path.removeprefix("/api/"), {}, None, time.time(), body, error))
        return http.reply(status, body)

    def _handle_upload(self, http: _Handler, file_id: str, body: bytes) -> None:
        with self._lock:
            upload = self.files.get(file_id)
            if upload is None or upload.completed:
                return http.reply(404, "Not Found")
            upload.content = body
        return http.reply(200, f"OK - {len(body)}")

    def _handle_response_url(self, http: _Handler, args: dict[str, Any]) -> None:
        self._record(self.calls, Call("response_url", args, None, time.time(), {"url": http.path}))
        return http.reply(200, "ok")

    # ---------------------------------------------------------------- workspace helpers
    def _next_ts(self) -> str:
        """Like Slack's: the current time in microseconds, strictly increasing."""
        self._seq += 1
        self._last_ts = max(time.time_ns() // 1000, self._last_ts + 1)
        return f"{self._last_ts // 1_000_000}.{self._last_ts % 1_000_000:06d}"

    def _new_channel(self, name: str, is_private: bool, members: list[str], **extra: Any) -> str:
        self._seq += 1
        channel_id = extra.pop("id", None) or f"C{self._seq:010d}"
        self._channels[channel_id] = {
            "id": channel_id, "name": name, "is_channel": not (extra.get("is_im") or extra.get("is_mpim")),
            "is_group": False,
            "is_im": False, "is_private": is_private, "is_archived": False, "created": int(time.time()),
            "creator": BOT_USER_ID, "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0}, **extra}
        self._members[channel_id] = list(dict.fromkeys(members))
        return channel_id

    def _channel(self, channel: Any, writable: bool = False) -> dict[str, Any]:
        name = str(channel).lstrip("#")
        found = self._channels.get(name) or next(
            (c for c in self._channels.values() if c["name"] and c["name"] == name), None)
        if found is None:
            raise SlackError("channel_not_found")
        if writable and found["is_archived"]:
            raise SlackError("is_archived")
        return found

    def _channel_view(self, channel: dict[str, Any]) -> dict[str, Any]:
        return {**channel, "num_members": len(self._members[channel["id"]])}

    def _post_target(self, channel: Any) -> str:
        channel = str(channel)
        if channel[:1] in ("U", "W"):
            return self._dm_for([channel])
        if _ID_RE.match(channel) and channel not in self._channels:
            return channel  # a conversation the fake was not told about: accept it as Slack would
        return self._channel(channel, writable=True)["id"]

    def _dm_for(self, users: list[str]) -> str:
        users = sorted(set(users) - {BOT_USER_ID})
        channel_id = "D" + hashlib.sha256(",".join(users).encode()).hexdigest()[:10].upper()
        if channel_id not in self._channels:
            extra = {"user": users[0]} if len(users) == 1 else {"is_mpim": True}
            self._new_channel("", False, [BOT_USER_ID, *users], id=channel_id, is_im=len(users) == 1, **extra)
        return channel_id

    @staticmethod
    def _page(items: list[Any], args: dict[str, Any]) -> tuple[list[Any], dict[str, str]]:
        start, limit = int(args.get("cursor") or 0), int(args.get("limit") or 100)
        more = start + limit < len(items)
        return items[start:start + limit], {"next_cursor": str(start + limit) if more else ""}

    def _user(self, user_id: str) -> dict[str, Any]:
        if user_id == BOT_USER_ID:
            return {"id": BOT_USER_ID, "team_id": TEAM_ID, "name": "oneday", "is_bot": True, "deleted": False,
                    "profile": {"bot_id": BOT_ID, "real_name": "Oneday", "display_name": "oneday"}}
        if user_id not in self._users:
            raise SlackError("user_not_found")
        return self._users[user_id]

    # ---------------------------------------------------------------- Web API methods
    def _api_auth_test(self, a: dict[str, Any]) -> dict[str, Any]:
        return {"url": "https://northtown.slack.com/", "team": TEAM_NAME, "user": "oneday",
                "team_id": TEAM_ID, "user_id": BOT_USER_ID, "bot_id": BOT_ID, "is_enterprise_install": False}

    def _api_oauth_v2_access(self, a: dict[str, Any]) -> dict[str, Any]:
        client_id = a.get("client_id")
        if client_id not in self.oauth_apps:
            raise SlackError("invalid_client_id")
        if self.oauth_apps[client_id] != a.get("client_secret"):
            raise SlackError("bad_client_secret")
        grant = self._oauth_codes.get(a.get("code") or "")
        if grant is None or grant["client_id"] != client_id:
            raise SlackError("invalid_code")
        if grant["redirect_uri"] and a.get("redirect_uri") != grant["redirect_uri"]:
            raise SlackError("bad_redirect_uri")
        del self._oauth_codes[a["code"]]  # a code is good once
        self._seq += 1
        token = f"xoxb-{TEAM_ID}-{self._seq}-{hashlib.sha256(a['code'].encode()).hexdigest()[:24]}"
        return {"access_token": token, "token_type": "bot", "scope": ",".join(grant["scopes"]),
                "bot_user_id": BOT_USER_ID, "app_id": APP_ID, "team": {"id": TEAM_ID, "name": TEAM_NAME},
                "enterprise": None, "is_enterprise_install": False, "authed_user": {"id": grant["user"]}}

    def _api_team_info(self, a: dict[str, Any]) -> dict[str, Any]:
        return {"team": {"id": TEAM_ID, "name": TEAM_NAME, "domain": "northtown", "email_domain": ""}}

    def _api_apps_connections_open(self, a: dict[str, Any]) -> dict[str, Any]:
        return {"url": self.socket_mode_url}

    def _api_chat_postMessage(self, a: dict[str, Any]) -> dict[str, Any]:
        if not any(a.get(k) for k in ("text", "blocks", "attachments", "markdown_text")):
            raise SlackError("no_text")
        channel, ts = self._post_target(a["channel"]), self._next_ts()
        keep = ("text", "blocks", "attachments", "thread_ts", "metadata")
        message = {"type": "message", "user": BOT_USER_ID, "bot_id": BOT_ID, "app_id": APP_ID,
                   "team": TEAM_ID, "ts": ts, **{k: a[k] for k in keep if a.get(k) is not None}}
        self._messages[(channel, ts)] = message
        return {"channel": channel, "ts": ts, "message": message}

    def _api_chat_postEphemeral(self, a: dict[str, Any]) -> dict[str, Any]:
        self._post_target(a["channel"])
        return {"message_ts": self._next_ts()}

    def _own_message(self, a: dict[str, Any], refusal: str) -> tuple[str, dict[str, Any]]:
        channel = self._post_target(a["channel"])
        message = self._messages.get((channel, a["ts"]))
        if message is None:
            raise SlackError("message_not_found")
        if message.get("user") != BOT_USER_ID:
            raise SlackError(refusal)
        return channel, message

    def _api_chat_update(self, a: dict[str, Any]) -> dict[str, Any]:
        channel, message = self._own_message(a, "cant_update_message")
        message.update({k: a[k] for k in ("text", "blocks", "attachments", "metadata") if k in a})
        message["edited"] = {"user": BOT_USER_ID, "ts": self._next_ts()}
        return {"channel": channel, "ts": a["ts"], "text": message.get("text", ""), "message": message}

    def _api_chat_delete(self, a: dict[str, Any]) -> dict[str, Any]:
        channel, _ = self._own_message(a, "cant_delete_message")
        del self._messages[(channel, a["ts"])]
        return {"channel": channel, "ts": a["ts"]}

    def _api_conversations_open(self, a: dict[str, Any]) -> dict[str, Any]:
        if a.get("channel"):
            return {"channel": self._channel_view(self._channel(a["channel"])), "already_open": True}
        users = [u for u in str(a.get("users", "")).split(",") if u]
        if not users:
            raise SlackError("users_list_not_supplied")
        channel_id = self._dm_for(users)
        return {"channel": self._channel_view(self._channels[channel_id]) if a.get("return_im")
                else {"id": channel_id}}

    def _api_conversations_create(self, a: dict[str, Any]) -> dict[str, Any]:
        name = a["name"]
        if not name:
            raise SlackError("invalid_name_required")
        if len(name) > 80:
            raise SlackError("invalid_name_maxlength")
        if not re.fullmatch(r"[a-z0-9_\-\u00c0-\uffff]+", name):
            raise SlackError("invalid_name_specials")
        if any(c["name"] == name for c in self._channels.values()):
            raise SlackError("name_taken")
        channel_id = self._new_channel(name, bool(a.get("is_private")), [BOT_USER_ID])
        return {"channel": self._channel_view(self._channels[channel_id])}

    def _api_conversations_invite(self, a: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(a["channel"], writable=True)
        members, users = self._members[channel["id"]], [u for u in a["users"].split(",") if u]
        if BOT_USER_ID in users:
            raise SlackError("cant_invite_self")
        if any(u in members for u in users) and not a.get("force"):
            raise SlackError("already_in_channel")
        members.extend(u for u in users if u not in members)
        return {"channel": self._channel_view(channel)}

    def _api_conversations_kick(self, a: dict[str, Any]) -> dict[str, Any]:
        channel, user = self._channel(a["channel"]), a.get("user")
        if user == BOT_USER_ID:
            raise SlackError("cant_kick_self")
        if user not in self._members[channel["id"]]:
            raise SlackError("not_in_channel")
        self._members[channel["id"]].remove(user)
        return {}

    def _api_conversations_members(self, a: dict[str, Any]) -> dict[str, Any]:
        members, meta = self._page(self._members[self._channel(a["channel"])["id"]], a)
        return {"members": members, "response_metadata": meta}

    def _api_conversations_list(self, a: dict[str, Any]) -> dict[str, Any]:
        kinds = set(str(a.get("types") or "public_channel").split(","))

        def kind(c: dict[str, Any]) -> str:
            if c["is_im"] or c.get("is_mpim"):
                return "mpim" if c.get("is_mpim") else "im"
            return "private_channel" if c["is_private"] else "public_channel"

        found = [self._channel_view(c) for c in self._channels.values()
                 if kind(c) in kinds and not (a.get("exclude_archived") and c["is_archived"])]
        channels, meta = self._page(found, a)
        return {"channels": channels, "response_metadata": meta}

    def _api_conversations_history(self, a: dict[str, Any]) -> dict[str, Any]:
        """Newest first, strictly between ``oldest`` and ``latest`` (or including them with ``inclusive``)."""
        channel = self._post_target(a["channel"])
        oldest, latest = _micros(a.get("oldest") or "0"), _micros(a["latest"]) if a.get("latest") else None
        inclusive = bool(a.get("inclusive"))

        def within(ts: str) -> bool:
            t = _micros(ts)
            above = t >= oldest if inclusive else t > oldest
            below = latest is None or (t <= latest if inclusive else t < latest)
            return above and below

        found = sorted((m for (ch, ts), m in self._messages.items() if ch == channel and within(ts)),
                       key=lambda m: _micros(m["ts"]), reverse=True)
        if not a.get("include_all_metadata"):
            found = [{k: v for k, v in m.items() if k != "metadata"} for m in found]
        page, meta = self._page(found, a)
        return {"messages": page, "has_more": bool(meta["next_cursor"]), "pin_count": 0,
                "channel_actions_ts": None, "channel_actions_count": 0, "response_metadata": meta}

    def _api_conversations_info(self, a: dict[str, Any]) -> dict[str, Any]:
        return {"channel": self._channel_view(self._channel(a["channel"]))}

    def _api_conversations_setTopic(self, a: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(a["channel"], writable=True)
        channel["topic"] = {"value": a["topic"], "creator": BOT_USER_ID, "last_set": int(time.time())}
        return {"channel": self._channel_view(channel)}

    def _api_conversations_archive(self, a: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(a["channel"])
        if channel["is_archived"]:
            raise SlackError("already_archived")
        channel["is_archived"] = True
        return {}

    def _api_users_lookupByEmail(self, a: dict[str, Any]) -> dict[str, Any]:
        email = a["email"].strip().lower()
        for user in self._users.values():
            if user["profile"]["email"].lower() == email:
                return {"user": user}
        raise SlackError("users_not_found")

    def _api_users_info(self, a: dict[str, Any]) -> dict[str, Any]:
        return {"user": self._user(a["user"])}

    def _store_view(self, view: Any, view_id: str | None = None, **extra: Any) -> dict[str, Any]:
        if not isinstance(view, dict):
            raise SlackError("invalid_arguments")
        self._seq += 1
        view_id = view_id or f"V{self._seq:010d}"
        stored = {"id": view_id, "team_id": TEAM_ID, "app_id": APP_ID, "bot_id": BOT_ID,
                  "private_metadata": "", "callback_id": "", "external_id": "", "state": {"values": {}},
                  "root_view_id": view_id,
                  "previous_view_id": None, **self._views.get(view_id, {}), **view, **extra,
                  "hash": f"{int(time.time())}.{self._seq}"}
        self._views[view_id] = stored
        return {"view": stored}

    def _api_views_open(self, a: dict[str, Any]) -> dict[str, Any]:
        return self._store_view(a["view"])

    def _api_views_push(self, a: dict[str, Any]) -> dict[str, Any]:
        return self._store_view(a["view"])

    def _api_views_publish(self, a: dict[str, Any]) -> dict[str, Any]:
        return self._store_view(a["view"], f"VHOME{a['user_id']}")

    def _api_views_update(self, a: dict[str, Any]) -> dict[str, Any]:
        external = a.get("external_id")
        view_id = a.get("view_id") or next(
            (v["id"] for v in self._views.values() if external and v["external_id"] == external), None)
        if view_id is None:
            raise SlackError("not_found")
        # A view_id the fake never issued (e.g. taken from a hand-built payload) is accepted.
        if a.get("hash") and view_id in self._views and self._views[view_id]["hash"] != a["hash"]:
            raise SlackError("hash_conflict")
        return self._store_view(a["view"], view_id)

    def _api_files_getUploadURLExternal(self, a: dict[str, Any]) -> dict[str, Any]:
        self._seq += 1
        file_id = f"F{self._seq:010d}"
        self.files[file_id] = UploadedFile(file_id, a["filename"], int(a["length"]))
        return {"upload_url": f"{self.root_url}/upload/{file_id}", "file_id": file_id}

    def _api_files_completeUploadExternal(self, a: dict[str, Any]) -> dict[str, Any]:
        channel_id = a.get("channel_id") or (a.get("channels") or "").split(",")[0] or None
        answered = []
        for item in a["files"]:
            upload = self.files.get(item.get("id"))
            if upload is None or upload.content is None:
                raise SlackError("file_not_found")
            upload.title = item.get("title") or upload.filename
            upload.channel_id, upload.initial_comment, upload.completed = (
                channel_id, a.get("initial_comment"), True)
            answered.append({"id": upload.file_id, "name": upload.filename, "title": upload.title,
                             "size": len(upload.content), "channels": [channel_id] if channel_id else [],
                             "permalink": f"https://northtown.slack.com/files/{BOT_USER_ID}/{upload.file_id}"})
        if channel_id and answered:  # the share shows in the channel as a message carrying the files
            channel, ts = self._post_target(channel_id), self._next_ts()
            self._messages[(channel, ts)] = {
                "type": "message", "user": BOT_USER_ID, "bot_id": BOT_ID, "upload": True, "ts": ts,
                "text": a.get("initial_comment") or "", "files": [dict(f) for f in answered]}
        return {"files": answered}


    def _api_files_delete(self, a: dict[str, Any]) -> dict[str, Any]:
        """The bot deletes a file it uploaded: the file and the share message(s) that carried it go."""
        upload = self.files.get(a["file"])
        if upload is None:
            raise SlackError("file_not_found")
        if upload.deleted:
            raise SlackError("file_deleted")
        upload.deleted = True
        for key, message in list(self._messages.items()):
            if any(f.get("id") == upload.file_id for f in message.get("files") or []):
                del self._messages[key]
        return {}

class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Any

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet test output
        pass

    def reply(self, status: int, body: dict[str, Any] | str, headers: dict[str, str] | None = None) -> None:
        is_json = not isinstance(body, str)
        data = (body if isinstance(body, str) else json.dumps(body)).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8" if is_json else "text/plain")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        try:
            self.end_headers()
            self.wfile.write(data)
        except OSError:  # the client is gone (killed while waiting for a slow answer)
            self.close_connection = True

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _args(self, body: bytes) -> dict[str, Any]:
        args: dict[str, Any] = dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))
        kind = self.headers.get_content_type()
        if kind == "application/json" and body:
            args.update(json.loads(body))
        elif kind == "multipart/form-data":
            head = f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode()
            for part in BytesParser(policy=email_policy).parsebytes(head + body).iter_parts():
                raw = part.get_payload(decode=True)
                data = raw if isinstance(raw, bytes) else b""
                is_file = part.get_filename() is not None
                args[str(part.get_param("name", header="content-disposition"))] = data if is_file else data.decode()
        elif body:
            args.update(parse_qsl(body.decode(), keep_blank_values=True))
        return args

    def do_GET(self) -> None:  # noqa: N802
        self._route(b"")

    def do_POST(self) -> None:  # noqa: N802
        self._route(self._body())

    def _route(self, body: bytes) -> None:
        fake: FakeSlack = self.server.fake
        path = urlsplit(self.path).path
        try:
            if path.startswith("/api/"):
                return fake._handle_api(self, path[5:], self._args(body))
            if path.startswith("/upload/") and self.command == "POST":
                return fake._handle_upload(self, path[8:], body)
            if path.startswith("/response/") and self.command == "POST":
                return fake._handle_response_url(self, self._args(body))
        except ValueError:  # undecodable body
            return fake._refuse(self, path, "invalid_json", 200)
        except Exception as error:  # a bug in the fake must fail the test, not hang it
            return fake._refuse(self, path, f"fake_slack_crashed: {error!r}", 500)
        return self.reply(404, "Not Found")


def _micros(ts: str) -> int:
    """A Slack ts ("1700000000.000100") as integer microseconds, for exact comparison."""
    whole, _, frac = str(ts).partition(".")
    return int(whole or 0) * 1_000_000 + int((frac + "000000")[:6])
