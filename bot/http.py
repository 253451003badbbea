"""A small threaded HTTP server: the platforms' routes (e.g. Slack's /slack/events) and /healthz.

It knows no platform: each platform hands it routes (bot/platforms.py `Inbound.routes`), a path and a handler
that takes the request and returns the response. bolt's own `App.start()` is a development server; this one is
threaded, answers health checks, and is the same server the benchmark's bare bolt app runs on, so the
comparison measures Oneday, not the server.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

log = logging.getLogger("oneday.http")


@dataclass(frozen=True)
class HttpRequest:
    method: str  # GET | POST
    path: str
    query: str
    headers: dict[str, list[str]]  # lower-case names
    body: bytes


@dataclass(frozen=True)
class HttpResponse:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


Route = Callable[[HttpRequest], HttpResponse]
NOT_FOUND = HttpResponse(404, b"not found")


def make_server(routes: Mapping[str, Route], host: str, port: int, *,
                healthy: Callable[[], bool] = lambda: True) -> ThreadingHTTPServer:
    """Serve `routes` (GET and POST by path) and GET /healthz; anything else is 404."""
    table = dict(routes)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes; without TCP_NODELAY a kept-alive client waits ~40 ms for the
        # body (Nagle + delayed ACK). Measured in benchmarks/: 44 ms -> 1.6 ms p50 per command.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
            pass  # the runner logs one structured line per command

        def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _route(self, method: str, path: str) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): [v] for k, v in self.headers.items()}
            resp = table[path](HttpRequest(method, parts.path, parts.query, headers, body))
            self._send(resp.status, resp.body, {k: v for k, v in resp.headers.items() if k.lower() != "content-length"})

        def do_POST(self) -> None:  # noqa: N802 - stdlib name
            path = urlsplit(self.path).path
            if path in table:
                self._route("POST", path)
            else:
                self._send(NOT_FOUND.status, NOT_FOUND.body)

        def do_GET(self) -> None:  # noqa: N802
            path = urlsplit(self.path).path
            if path == "/healthz":
                ok = False
                try:
                    ok = healthy()
                except Exception:
                    log.warning("health check failed", exc_info=True)
                body = json.dumps({"ok": ok, "database": "reachable" if ok else "unreachable"}).encode()
                self._send(200 if ok else 503, body, {"Content-Type": "application/json"})
            elif path in table:
                self._route("GET", path)
            else:
                self._send(NOT_FOUND.status, NOT_FOUND.body)

    class Server(ThreadingHTTPServer):
        request_queue_size = 128  # the stdlib's 5 resets connections when many arrive at once

    server = Server((host, port), Handler)
    server.daemon_threads = True
    return server
