"""Waiting for a started `oneday serve` to answer, shared by the end-to-end and cluster tests."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable


def wait_healthy(base: str, proc: subprocess.Popen[bytes], deadline: float, log: Callable[[], str]) -> None:
    """Return once GET {base}/healthz answers 200; fail with the server's log if it exits or the monotonic
    `deadline` passes first (a safety net, not a speed claim)."""
    while True:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"oneday serve at {base} did not start:\n{log()}") from None
            time.sleep(0.05)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now (the OS picks it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
