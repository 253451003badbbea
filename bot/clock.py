"""The one place that reads the wall clock, and the clocks the edge hands to requests and jobs.

Below the edge nothing asks for the time: a command gets `Caller.now`, a job gets `now`, the outbox gets its
`clock`. So a job replayed for a missed window, a demo running a week in a minute, and a test running "as of"
a chosen day all store and compare the same instant everywhere, and the suite passes on any day it is run.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """Now, aware, in UTC: the edge's clock when nothing else was chosen."""
    return datetime.now(UTC)


class TickingClock:
    """Starts at a chosen instant and moves on with real elapsed (monotonic) time.

    The demo and the tests run the whole stack as of a chosen day; commands and the outbox share this one
    clock, so rows queued "now" are due for the sender at once and its pacing and retries still fall due as
    real seconds pass. `set` moves it to another instant (the clock keeps ticking from there).
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._base = start or system_clock()
        self._started = time.monotonic()
        if self._base.tzinfo is None:
            raise ValueError("a clock starts at an aware datetime")

    def __call__(self) -> datetime:
        with self._lock:
            return self._base + timedelta(seconds=time.monotonic() - self._started)

    def set(self, when: datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("a clock is set to an aware datetime")
        with self._lock:
            self._base, self._started = when, time.monotonic()

    def advance(self, delta: timedelta) -> None:
        self.set(self() + delta)
