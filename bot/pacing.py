"""Pacing per conversation, to a platform's declared limits (bot/platform.py `Limit`).

Slack allows about one message a second per channel; Teams 7 in any second, 8 in any 2 seconds, 60 in any 30
seconds and 1,800 in any hour per conversation. A `Pacer` keeps, for each conversation, the times of its last
sends (as many as the largest limit counts) and says how long to wait before the next one keeps every limit,
and honours a platform's "not before" (Retry-After). It uses a monotonic clock: pacing is about real seconds
between real sends, whatever day the sender's own clock says it is.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence

from bot.platform import Limit

MAX_CONVERSATIONS = 10_000  # beyond this many remembered conversations, forget the ones no limit still covers


class Pacer:
    def __init__(self, limits: Sequence[Limit], *, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = tuple(limits)
        self.clock = clock
        self._keep = max((lim.count for lim in self.limits), default=0)
        self._horizon = max((lim.seconds for lim in self.limits), default=0.0)
        self._sent: dict[str, deque[float]] = {}
        self._held: dict[str, float] = {}  # conversation -> not before (the platform said so)
        self._prune_at = MAX_CONVERSATIONS
        self._lock = threading.Lock()

    def wait(self, conversation: str) -> float:
        """Seconds until one more message to `conversation` keeps every limit (0: now)."""
        with self._lock:
            now = self.clock()
            wait = self._held.get(conversation, now) - now
            times = self._sent.get(conversation)
            if times:
                for lim in self.limits:
                    if len(times) >= lim.count:
                        wait = max(wait, times[-lim.count] + lim.seconds - now)
            return max(wait, 0.0)

    def sent(self, conversation: str) -> None:
        """A message went to `conversation` just now."""
        with self._lock:
            now = self.clock()
            times = self._sent.get(conversation)
            if times is None:
                times = self._sent[conversation] = deque(maxlen=self._keep)
            times.append(now)
            if len(self._sent) > self._prune_at:
                self._prune(now)

    def hold(self, conversation: str, seconds: float) -> None:
        """The platform asked us not to send to `conversation` for `seconds` (e.g. a 429's Retry-After)."""
        with self._lock:
            self._held[conversation] = self.clock() + seconds

    def _prune(self, now: float) -> None:
        stale = [c for c, times in self._sent.items() if not times or times[-1] + self._horizon <= now]
        for c in stale:
            del self._sent[c]
        for c in [c for c, until in self._held.items() if until <= now]:
            del self._held[c]
        self._prune_at = max(MAX_CONVERSATIONS, 2 * len(self._sent))
