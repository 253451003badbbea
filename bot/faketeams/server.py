"""Loopback fakes of the far ends Teams puts between Oneday and its users, as one real HTTP server on 127.0.0.1
(for the tests and `oneday demo --platform teams`):

- the Bot Framework issuer: OpenID metadata (`/openid/.well-known/openidconfiguration`) naming a JWKS
  (`/openid/keys`) with a local RSA key endorsed for "msteams" (`endorsements`, the channels a key may sign
  for); `token()` signs activity tokens as the Bot Framework does (issuer, audience = app id, `serviceurl`
  claim), and can forge, expire or mis-address them, or sign with another published key (`add_key`);
- the client-credentials token endpoint (`/token`): any form with the right client id and secret gets a token;
- the Bot Connector (`/connector/v3/conversations...`): records every activity (`.activities`), answers with ids,
  creates 1:1 conversations, deletes activities (`.deleted`: (conversation, activity id); 404 for one it does
  not hold), and can answer the next calls with a scripted status (`fail_next(429, ...)`);
- Microsoft Graph (`/graph/v1.0/...`): group chats with members (added and removed: 404 for a membership it
  does not hold), the app catalog, app installation in a chat and users; every call recorded in `.graph_calls`.

Each request to the connector or Graph must carry a token the token endpoint issued (else 401, recorded in
`.rejected`), so a test also proves the port authenticates.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

ISSUER = "https://api.botframework.com"
APP_ID = "00000000-0000-4000-8000-0000000000a1"
APP_PASSWORD = "test-app-password"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CATALOG_ID = "cat-0001"


def guid_for(key: str) -> str:
    """A stable Entra object id for a member key (the tests and the demo give members Teams identities with it)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"oneday-test:{key}"))


@dataclass
class Sent:
    conversation: str
    activity: dict[str, Any]
    reply_to: str | None = None
    method: str = "POST"
    activity_id: str | None = None
    at: datetime | None = None  # on the fake's clock, when it was given one

    @property
    def text(self) -> str:
        """Everything a person could read in it: the text and every card's text runs, flattened."""
        return json.dumps(self.activity, ensure_ascii=False)


@dataclass
class Chat:
    id: str
    topic: str
    members: dict[str, str] = field(default_factory=dict)  # user id -> membership id
    apps: list[str] = field(default_factory=list)


class FakeTeams:
    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self.clock = clock
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "test-key-1"
        self.lock = threading.Lock()
        self.activities: list[Sent] = []
        self.deleted: list[tuple[str, str]] = []  # (conversation, activity id) of each DELETE that removed one
        self.endorsements: list[str] | None = ["msteams"]  # of the main key; None publishes none
        self.other_keys: dict[str, tuple[rsa.RSAPrivateKey, list[str] | None]] = {}  # kid -> (key, endorsements)
        self.created: list[dict[str, Any]] = []  # bodies of createConversation
        self.graph_calls: list[tuple[str, str, Any]] = []  # (method, path, body)
        self.rejected: list[tuple[str, str]] = []
        self.token_requests: list[dict[str, str]] = []
        self.chats: dict[str, Chat] = {}
        self.users: dict[str, dict[str, str]] = {}  # id -> {"id", "mail", "userPrincipalName"}
        self.issued: set[str] = set()
        self.uploads: dict[str, tuple[bytes, str]] = {}  # upload session id -> (bytes, Content-Range)
        self._script: list[tuple[int, float | None]] = []
        self.scripted: list[int] = []  # statuses answered from the script, in order
        self.fetches: dict[str, int] = {"metadata": 0, "keys": 0}
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

            def _body(self) -> bytes:
                n = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(n) if n else b""

            def _answer(self, status: int, data: Any = None, headers: dict[str, str] | None = None) -> None:
                body = b"" if data is None else json.dumps(data).encode()
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802
                fake._route(self, "GET", None)

            def do_POST(self) -> None:  # noqa: N802
                fake._route(self, "POST", self._body())

            def do_PUT(self) -> None:  # noqa: N802
                fake._route(self, "PUT", self._body())

            def do_DELETE(self) -> None:  # noqa: N802
                fake._route(self, "DELETE", None)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread: threading.Thread | None = None

    # -- configuration a test hands to Oneday ------------------------------------------------------------

    @property
    def service_url(self) -> str:
        return f"{self.base}/connector/"

    def env(self) -> dict[str, str]:
        return {"TEAMS_APP_ID": APP_ID, "TEAMS_APP_PASSWORD": APP_PASSWORD, "TEAMS_TENANT_ID": TENANT,
                "TEAMS_OPENID_METADATA_URL": f"{self.base}/openid/.well-known/openidconfiguration",
                "TEAMS_TOKEN_ISSUER": ISSUER, "TEAMS_TOKEN_URL": f"{self.base}/token",
                "GRAPH_API_URL": f"{self.base}/graph/v1.0"}

    def start(self) -> FakeTeams:
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeTeams:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the issuer ------------------------------------------------------------------------------------

    def token(self, *, audience: str = APP_ID, issuer: str = ISSUER, service_url: str | None = None,
              expires_in: int = 3600, forged: bool = False, kid: str | None = None, signer: str | None = None) -> str:
        """A Bot Framework activity token; `forged` signs it with a key nobody published; `signer` with the
        published key of that kid (`add_key`)."""
        now = int(time.time())
        claims = {"iss": issuer, "aud": audience, "serviceurl": service_url or self.service_url,
                  "iat": now - 10, "nbf": now - 10, "exp": now + expires_in}
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048) if forged else self.key
        if signer is not None:
            key, kid = self.other_keys[signer][0], signer
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid or self.kid})

    def add_key(self, kid: str, endorsements: list[str] | None) -> None:
        """Publish another signing key in the JWKS, endorsed for `endorsements` (None: no endorsements field)."""
        self.other_keys[kid] = (rsa.generate_private_key(public_exponent=65537, key_size=2048), endorsements)

    # -- scripting ---------------------------------------------------------------------------------------

    def fail_next(self, status: int, count: int = 1, retry_after: float | None = None) -> None:
        """The next `count` connector calls on activities (send, reply, update, delete) answer `status` (with
        Retry-After when given), storing and deleting nothing."""
        with self.lock:
            self._script.extend([(status, retry_after)] * count)

    def add_user(self, user_id: str, email: str) -> None:
        self.users[user_id] = {"id": user_id, "mail": email, "userPrincipalName": email}

    def sent_to(self, conversation: str) -> list[Sent]:
        return [s for s in self.activities if s.conversation == conversation]

    def held(self, conversation: str) -> list[Sent]:
        """What the conversation still shows: the activities posted there and not deleted."""
        return [s for s in self.sent_to(conversation) if s.method == "POST"
                and (conversation, s.activity_id) not in self.deleted]

    def upload_url(self, session: str) -> str:
        return f"{self.base}/upload/{session}"

    def personal_of(self, user: str) -> str:
        return f"a:1:{user}"

    # -- the server --------------------------------------------------------------------------------------

    def _authorised(self, h: BaseHTTPRequestHandler, path: str) -> bool:
        auth = h.headers.get("Authorization") or ""
        if auth.startswith("Bearer ") and auth[7:] in self.issued:
            return True
        self.rejected.append((path, "no valid token"))
        return False

    def _route(self, h: Any, method: str, body: bytes | None) -> None:
        parts = urlsplit(h.path)
        path = unquote(parts.path)
        if path == "/openid/.well-known/openidconfiguration":
            self.fetches["metadata"] += 1
            return h._answer(200, {"issuer": ISSUER, "jwks_uri": f"{self.base}/openid/keys",
                                   "id_token_signing_alg_values_supported": ["RS256"]})
        if path == "/openid/keys":
            self.fetches["keys"] += 1
            keys = []
            for kid, (key, endorsements) in [(self.kid, (self.key, self.endorsements)), *self.other_keys.items()]:
                jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
                jwk.update(kid=kid, use="sig", alg="RS256")
                if endorsements is not None:
                    jwk["endorsements"] = endorsements
                keys.append(jwk)
            return h._answer(200, {"keys": keys})
        if path == "/token" and method == "POST":
            form = dict(parse_qsl((body or b"").decode()))
            self.token_requests.append(form)
            if form.get("client_id") != APP_ID or form.get("client_secret") != APP_PASSWORD:
                return h._answer(401, {"error": "invalid_client"})
            token = f"tok-{uuid.uuid4().hex[:12]}"
            self.issued.add(token)
            return h._answer(200, {"access_token": token, "expires_in": 3600, "token_type": "Bearer"})
        if path.startswith("/upload/") and method == "PUT":  # a OneDrive upload session Teams opened
            self.uploads[path[len("/upload/"):]] = (body or b"", h.headers.get("Content-Range") or "")
            return h._answer(201, {"id": path})
        if path.startswith("/connector/"):
            if not self._authorised(h, path):
                return h._answer(401, {"error": "unauthorized"})
            return self._connector(h, method, path[len("/connector"):], json.loads(body or b"{}"))
        if path.startswith("/graph/v1.0/"):
            if not self._authorised(h, path):
                return h._answer(401, {"error": "unauthorized"})
            return self._graph(h, method, path[len("/graph/v1.0"):], json.loads(body) if body else None,
                               dict(parse_qsl(parts.query)))
        return h._answer(404, {"error": "not found"})

    def _connector(self, h: Any, method: str, path: str, body: dict[str, Any]) -> None:
        if path == "/v3/conversations" and method == "POST":
            with self.lock:
                self.created.append(body)
            user = body["members"][0]["id"]
            return h._answer(201, {"id": self.personal_of(user)})
        m = re.fullmatch(r"/v3/conversations/([^/]+)/activities(?:/([^/]+))?", path)
        if not m:
            return h._answer(404, {"error": "not found"})
        with self.lock:
            if self._script:
                status, retry = self._script.pop(0)
                self.scripted.append(status)
                return h._answer(status, {"error": "scripted"},
                                 {"Retry-After": f"{retry:g}"} if retry is not None else None)
            if method == "DELETE":
                held = any(s.conversation == m[1] and s.activity_id == m[2] and s.method == "POST"
                           for s in self.activities) and (m[1], m[2]) not in self.deleted
                if not m[2] or not held:
                    return h._answer(404, {"error": {"code": "ActivityNotFound"}})
                self.deleted.append((m[1], m[2]))
                return h._answer(200, None)
            activity_id = f"act-{len(self.activities) + 1}"
            at = self.clock() if self.clock else None
            if method == "PUT":
                self.activities.append(Sent(m[1], body, None, "PUT", m[2], at))
            else:
                self.activities.append(Sent(m[1], body, m[2], "POST", activity_id, at))
        return h._answer(200 if method == "PUT" else 201, {"id": activity_id})

    def _graph(self, h: Any, method: str, path: str, body: Any, query: dict[str, str]) -> None:
        with self.lock:
            self.graph_calls.append((method, path, body))
        if path == "/chats" and method == "POST":
            chat = Chat(f"19:chat{len(self.chats) + 1}@thread.v2", body.get("topic", ""))
            for member in body.get("members") or []:
                user = re.search(r"users\('([^']+)'\)", member["user@odata.bind"])[1]  # type: ignore[index]
                chat.members[user] = f"mem-{uuid.uuid4().hex[:8]}"
            self.chats[chat.id] = chat
            return h._answer(201, {"id": chat.id, "topic": chat.topic, "chatType": "group"})
        if path == "/appCatalogs/teamsApps":
            found = [{"id": CATALOG_ID, "externalId": APP_ID}] if APP_ID in query.get("$filter", "") else []
            return h._answer(200, {"value": found})
        m = re.fullmatch(r"/chats/([^/]+)/(members|installedApps)(?:/([^/]+))?", path)
        if m and m[1] in self.chats:
            chat = self.chats[m[1]]
            if m[2] == "installedApps" and method == "POST":
                chat.apps.append(body["teamsApp@odata.bind"].rsplit("/", 1)[-1])
                return h._answer(201, None)
            if m[2] == "members" and method == "GET":
                return h._answer(200, {"value": [{"id": mid, "userId": u} for u, mid in chat.members.items()]})
            if m[2] == "members" and method == "POST":
                user = re.search(r"users\('([^']+)'\)", body["user@odata.bind"])[1]  # type: ignore[index]
                chat.members[user] = f"mem-{uuid.uuid4().hex[:8]}"
                return h._answer(201, {"id": chat.members[user]})
            if m[2] == "members" and method == "DELETE":
                if m[3] not in chat.members.values():
                    return h._answer(404, {"error": {"code": "NotFound"}})
                chat.members = {u: mid for u, mid in chat.members.items() if mid != m[3]}
                return h._answer(204, None)
        m = re.fullmatch(r"/users/([^/]+)", path)
        if m and method == "GET":
            wanted = m[1].lower()
            for user in self.users.values():
                if wanted in (user["id"].lower(), user["mail"].lower()):
                    return h._answer(200, user)
            return h._answer(404, {"error": {"code": "Request_ResourceNotFound"}})
        return h._answer(404, {"error": "not found"})
