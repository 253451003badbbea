"""A small threaded HTTP server for the bolt App: /slack/events (and bolt's OAuth paths), and /healthz.

bolt's own `App.start()` is a development server; this one is threaded, answers health checks, and is the
same server the benchmark's bare bolt app runs on, so the comparison measures Oneday, not the server.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from slack_bolt import App, BoltRequest

log = logging.getLogger("oneday.http")


def make_server(app: App, host: str, port: int, *, healthy: Callable[[], bool] = lambda: True,
                slack_paths: tuple[str, ...] = ("/slack/events", "/slack/install", "/slack/oauth_redirect"),
                ) -> ThreadingHTTPServer:
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

        def _bolt(self, method: str) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode("utf-8") if length else ""
            headers: dict[str, str | Sequence[str]] = {k.lower(): [v] for k, v in self.headers.items()}
            req = BoltRequest(body=body, query=parts.query, headers=headers)
            flow = app.oauth_flow  # App.dispatch handles events only; the OAuth pages are the flow's (GET)
            if method == "GET" and flow is not None and parts.path == flow.install_path:
                resp = flow.handle_installation(req)
            elif method == "GET" and flow is not None and parts.path == flow.redirect_uri_path:
                resp = flow.handle_callback(req)
            elif method == "GET":
                self._send(404, b"not found")
                return
            else:
                resp = app.dispatch(req)
            out_headers = {k: ", ".join(v) if isinstance(v, list) else str(v)
                           for k, v in resp.headers.items() if k.lower() != "content-length"}
            self._send(resp.status, (resp.body or "").encode("utf-8"), out_headers)

        def do_POST(self) -> None:  # noqa: N802 - stdlib name
            if urlsplit(self.path).path in slack_paths:
                self._bolt("POST")
            else:
                self._send(404, b"not found")

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
            elif path in slack_paths:
                self._bolt("GET")
            else:
                self._send(404, b"not found")

    class Server(ThreadingHTTPServer):
        request_queue_size = 128  # the stdlib's 5 resets connections when many arrive at once

    server = Server((host, port), Handler)
    server.daemon_threads = True
    return server
