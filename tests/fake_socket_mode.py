"""A fake of Slack's Socket Mode endpoint: a minimal RFC 6455 websocket server on 127.0.0.1, stdlib only.

Give ``fake_slack.FakeSlack.socket_mode_url = sm.url`` so ``apps.connections.open`` hands the client this
server.  Each accepted connection gets Slack's ``hello`` message first (as Slack sends it), answers pings
with pongs, and queues every text frame the client sends, JSON-decoded (``{"unparsed": text}`` if it is not JSON)::

    with FakeSocketMode() as sm:
        conn = sm.wait_for_connection(timeout=10)
        conn.send_json({"envelope_id": "e1", "type": "slash_commands", "payload": {...}})
        ack = conn.receive_json(timeout=5)

Only what Slack's clients use is implemented: unfragmented-or-fragmented text frames, ping/pong and close;
no extensions, no TLS (``ws://`` only).
"""

from __future__ import annotations

import base64
import hashlib
import json
import queue
import socket
import socketserver
import struct
import threading
from typing import Any

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
APP_ID = "A0ONEDAY"


def accept_key(key: str) -> str:
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()  # noqa: S324 - RFC 6455


def encode_frame(opcode: int, payload: bytes) -> bytes:
    """A server frame: final, unmasked (RFC 6455 5.1: servers never mask)."""
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, n)
    elif n < 1 << 16:
        head = struct.pack("!BBH", 0x80 | opcode, 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 127, n)
    return head + payload


class Connection:
    """One client connection, as seen by the server."""

    def __init__(self, sock: socket.socket, path: str, headers: dict[str, str]) -> None:
        self.sock, self.path, self.headers = sock, path, headers
        self.received: queue.Queue[dict[str, Any]] = queue.Queue()
        self.pings = 0
        self.closed = threading.Event()
        self._send_lock = threading.Lock()

    def send_frame(self, opcode: int, payload: bytes) -> None:
        with self._send_lock:
            self.sock.sendall(encode_frame(opcode, payload))

    def send_json(self, message: dict[str, Any]) -> None:
        self.send_frame(OP_TEXT, json.dumps(message).encode())

    def receive_json(self, timeout: float = 5.0) -> dict[str, Any]:
        """The next text message the client sent; AssertionError if none came within ``timeout``."""
        try:
            return self.received.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"the client sent nothing within {timeout}s") from None

    def close(self) -> None:
        if not self.closed.is_set():
            try:
                self.send_frame(OP_CLOSE, struct.pack("!H", 1000))
            except OSError:
                pass
        self._drop()

    def _drop(self) -> None:
        self.closed.set()
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the reader blocked in recv
        except OSError:
            pass

    # ---------------------------------------------------------------- reading (the handler thread)
    def _recv_exact(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("client closed the connection")
            data += chunk
        return data

    def _read_frame(self) -> tuple[bool, int, bytes]:
        b1, b2 = self._recv_exact(2)
        n = b2 & 0x7F
        if n == 126:
            (n,) = struct.unpack("!H", self._recv_exact(2))
        elif n == 127:
            (n,) = struct.unpack("!Q", self._recv_exact(8))
        if not b2 & 0x80:
            raise ConnectionError("client frames must be masked (RFC 6455 5.1)")
        mask = self._recv_exact(4)
        data = bytes(b ^ mask[i % 4] for i, b in enumerate(self._recv_exact(n)))
        return bool(b1 & 0x80), b1 & 0x0F, data

    def _serve(self) -> None:
        message, message_op = b"", None
        try:
            while not self.closed.is_set():
                fin, opcode, data = self._read_frame()
                if opcode == OP_PING:
                    self.pings += 1
                    self.send_frame(OP_PONG, data)
                elif opcode == OP_CLOSE:
                    self.send_frame(OP_CLOSE, data[:2])
                    break
                elif opcode in (OP_TEXT, OP_BINARY, OP_CONT):
                    message_op = opcode if opcode != OP_CONT else message_op
                    message += data
                    if fin:
                        if message_op == OP_TEXT:
                            text = message.decode("utf-8")
                            try:
                                self.received.put(json.loads(text))
                            except ValueError:  # not JSON: keep it visible to the test anyway
                                self.received.put({"unparsed": text})
                        message, message_op = b"", None
        except (OSError, ValueError):
            pass  # closed by either side; nothing more to read
        finally:
            self._drop()


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.settimeout(None)
        try:
            path, headers = self._read_request(sock)
        except (OSError, ValueError):
            return
        key = headers.get("sec-websocket-key", "")
        if headers.get("upgrade", "").lower() != "websocket" or not key or headers.get("sec-websocket-version") != "13":
            sock.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return
        sock.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      f"Sec-WebSocket-Accept: {accept_key(key)}\r\n\r\n").encode())
        conn = Connection(sock, path, headers)
        fake = self.server.fake
        if fake.send_hello:
            conn.send_json({"type": "hello", "num_connections": 1,
                            "debug_info": {"host": "applink-fake", "build_number": 1,
                                           "approximate_connection_time": 18060},
                            "connection_info": {"app_id": APP_ID}})
        with fake._changed:
            fake.connections.append(conn)
            fake._changed.notify_all()
        conn._serve()

    @staticmethod
    def _read_request(sock: socket.socket) -> tuple[str, dict[str, str]]:
        sock.settimeout(5)
        raw = b""
        while b"\r\n\r\n" not in raw:
            chunk = sock.recv(1024)
            if not chunk or len(raw) > 16384:
                raise ValueError("incomplete handshake")
            raw += chunk
        sock.settimeout(None)
        lines = raw.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        if method != "GET":
            raise ValueError(f"handshake must be a GET, got {method}")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        return path, headers


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    fake: FakeSocketMode


class FakeSocketMode:
    def __init__(self, send_hello: bool = True) -> None:
        self.send_hello = send_hello
        self.connections: list[Connection] = []
        self._changed = threading.Condition()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self.port = self._server.server_address[1]
        self.url = f"ws://127.0.0.1:{self.port}/link/?ticket=fake-ticket&app_id={APP_ID}"
        self._thread: threading.Thread | None = None

    def start(self) -> FakeSocketMode:
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread:
            self._server.shutdown()
            self._thread.join(5)
        for conn in list(self.connections):
            conn.close()
        self._server.server_close()

    def __enter__(self) -> FakeSocketMode:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_for_connection(self, count: int = 1, timeout: float = 10.0) -> Connection:
        """The ``count``-th connection (1-based), once the client completed the handshake."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.connections) >= count, timeout):
                raise AssertionError(f"no websocket connection #{count} within {timeout}s")
            return self.connections[count - 1]
