"""The platforms' routes as an ASGI app, served by uvicorn (`oneday serve`); hardened at the edge.

Platform-neutral, like bot/http.py whose `HttpRequest`/`HttpResponse`/`Route` stay the contract: each platform
hands its routes (bot/platform.py `Inbound.routes`), this app answers them plus GET /healthz (the process is
alive), GET /readyz (the database answers and its schema is at the Alembic head) and GET /metrics (Prometheus,
bot/metrics.py; when a `metrics` renderer is given).

At the edge, before a route sees anything:
- Content-Length is checked before the body is read: missing on a POST, not a number or negative -> 400; more than
  MAX_BODY -> 413, without reading a byte of the body. A chunked body is capped at MAX_BODY while it is read.
- the body must arrive within BODY_TIMEOUT seconds (408); headers within HEADER_TIMEOUT (`EdgeH11Protocol`).
- the sync route runs in a thread pool, so the event loop never waits on bolt or the database.
- an exception becomes a 500 and one JSON log line (bot/logs.py puts the trace inside it), never a plain traceback.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from bot.http import NOT_FOUND, HttpRequest, HttpResponse, Route

log = logging.getLogger("oneday.http")

MAX_BODY = 1 << 20  # 1 MiB: Slack's payloads are a few KiB
BODY_TIMEOUT = 10.0  # seconds for the whole body, once the headers are in
HEADER_TIMEOUT = 10.0  # seconds from connection (or the end of the last response) to the end of the headers
METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"  # Prometheus' text format
THREADS = 32  # routes running at once in one worker; uvicorn's limit_concurrency answers 503 beyond its own limit

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


@dataclass(frozen=True)
class Readiness:
    ok: bool
    detail: dict[str, Any]


class BadRequest(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


def json_response(status: int, data: Mapping[str, Any]) -> HttpResponse:
    return HttpResponse(status, json.dumps(data).encode(), {"Content-Type": "application/json"})


class EdgeApp:
    """An ASGI app serving `routes` (GET and POST by path), /healthz and /readyz; anything else is 404.

    `ready` is called in the thread pool for /readyz; `on_start`/`on_stop` run at the ASGI lifespan's startup
    and shutdown (uvicorn runs shutdown after in-flight requests have finished)."""

    def __init__(self, routes: Mapping[str, Route], *, ready: Callable[[], Readiness] = lambda: Readiness(True, {}),
                 on_start: Callable[[], None] = lambda: None, on_stop: Callable[[], None] = lambda: None,
                 max_body: int = MAX_BODY, body_timeout: float = BODY_TIMEOUT, threads: int = THREADS,
                 metrics: Callable[[], bytes] | None = None) -> None:
        self.routes = dict(routes)
        self.metrics = metrics
        self.ready, self.on_start, self.on_stop = ready, on_start, on_stop
        self.max_body, self.body_timeout = max_body, body_timeout
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="oneday-route")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        loop = asyncio.get_running_loop()
        while True:
            message = await receive()
            kind = message["type"]
            hook = self.on_start if kind == "lifespan.startup" else self.on_stop
            try:
                await loop.run_in_executor(self.pool, hook)
            except Exception as exc:
                log.error("%s failed", kind, exc_info=True)
                await send({"type": f"{kind}.failed", "message": type(exc).__name__})
                if kind == "lifespan.startup":
                    continue
                return
            await send({"type": f"{kind}.complete"})
            if kind == "lifespan.shutdown":
                self.pool.shutdown(wait=False)
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        method, path = scope["method"], scope["path"]
        started = time.monotonic()
        try:
            if method not in ("GET", "POST", "HEAD"):
                resp = HttpResponse(405, b"method not allowed", {"Allow": "GET, POST"})
            elif path == "/healthz":
                resp = json_response(200, {"ok": True})
            elif path == "/readyz":
                resp = await self._readyz()
            elif path == "/metrics" and self.metrics is not None:
                body = await asyncio.get_running_loop().run_in_executor(self.pool, self.metrics)
                resp = HttpResponse(200, body, {"Content-Type": METRICS_CONTENT_TYPE})
            elif path not in self.routes:
                resp = NOT_FOUND
            else:
                headers = _headers(scope)
                body = await self._body(method, headers, receive)
                request = HttpRequest("GET" if method == "HEAD" else method, path,
                                      scope.get("query_string", b"").decode("latin-1"), headers, body)
                resp = await asyncio.get_running_loop().run_in_executor(self.pool, self.routes[path], request)
        except BadRequest as exc:
            log.warning("refused", extra={"fields": {"status": exc.status, "reason": exc.reason, "path": path}})
            resp = HttpResponse(exc.status, json.dumps({"error": exc.reason}).encode(),
                                {"Content-Type": "application/json", "Connection": "close"})
        except Exception:
            log.error("request failed", exc_info=True,
                      extra={"fields": {"path": path, "latency_ms": round((time.monotonic() - started) * 1000, 1)}})
            resp = HttpResponse(500, b'{"error": "internal"}', {"Content-Type": "application/json"})
        await _send(send, resp, head=method == "HEAD")

    async def _readyz(self) -> HttpResponse:
        try:
            readiness = await asyncio.get_running_loop().run_in_executor(self.pool, self.ready)
        except Exception as exc:
            log.warning("readiness check failed: %s", type(exc).__name__)
            readiness = Readiness(False, {"database": "unreachable"})
        return json_response(200 if readiness.ok else 503, {"ok": readiness.ok, **readiness.detail})

    async def _body(self, method: str, headers: dict[str, list[str]], receive: Receive) -> bytes:
        """The body, read only once its declared size is known to be acceptable."""
        chunked = any("chunked" in v.lower() for v in headers.get("transfer-encoding", []))
        lengths = headers.get("content-length", [])
        if not chunked:
            if not lengths:
                if method == "POST":
                    raise BadRequest(400, "Content-Length required")
                return b""
            if len(set(lengths)) != 1 or not lengths[0].strip().isdigit():
                raise BadRequest(400, "invalid Content-Length")
            if int(lengths[0]) > self.max_body:
                raise BadRequest(413, f"body over {self.max_body} bytes")
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(self.body_timeout):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        raise BadRequest(400, "client went away")
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > self.max_body:
                        raise BadRequest(413, f"body over {self.max_body} bytes")
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        return b"".join(chunks)
        except TimeoutError:
            raise BadRequest(408, "body not received in time") from None


def _headers(scope: Scope) -> dict[str, list[str]]:
    headers: dict[str, list[str]] = {}
    for name, value in scope["headers"]:
        headers.setdefault(name.decode("latin-1").lower(), []).append(value.decode("latin-1"))
    return headers


async def _send(send: Send, resp: HttpResponse, *, head: bool = False) -> None:
    headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in resp.headers.items()
               if k.lower() != "content-length"]
    headers.append((b"content-length", str(len(resp.body)).encode()))
    await send({"type": "http.response.start", "status": resp.status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else resp.body})


class EdgeH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a header read timeout: a connection that has not finished sending a request's
    headers HEADER_TIMEOUT seconds after it opened (or after the last response) is closed. uvicorn's own
    keep-alive timer stops at the first byte, so a client trickling headers would otherwise hold it forever."""

    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_timer()

    def _arm_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
        self._header_timer = self.loop.call_later(HEADER_TIMEOUT, self._header_timeout)

    def _header_timeout(self) -> None:
        self._header_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            log.warning("refused", extra={"fields": {"status": 408, "reason": "headers not received in time"}})
            self.transport.close()

    def handle_events(self) -> None:
        super().handle_events()
        if self._header_timer is not None and self.conn.their_state is not h11.IDLE:
            self._header_timer.cancel()
            self._header_timer = None

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None
        super().connection_lost(exc)
