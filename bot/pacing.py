"""Pacing per conversation, to a platform's declared limits (bot/platform.py `Limit`).

`SharedPacer` is what the outbox uses: the sends of every sender (threads, processes, replicas) are counted
together in the database (models/pacing.py), so N workers never exceed a channel's rate. `Pacer` is the same
rule in memory, for one process.

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
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.platform import Limit
from models import ConversationPace

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


def wait_for(limits: Sequence[Limit], times: Sequence[float], now: float) -> float:
    """Seconds from `now` until one more send keeps every limit, given the earlier sends' `times` (oldest first)."""
    wait = 0.0
    for lim in limits:
        if len(times) >= lim.count:
            wait = max(wait, times[-lim.count] + lim.seconds - now)
    return max(wait, 0.0)


class SharedPacer:
    """The pacing of one platform's conversations, kept in the database and shared by every sender.

    A send is reserved before the post (`reserve`, under the conversation row's lock: FOR UPDATE on PostgreSQL,
    SQLite's one writer) and its time moved to when the platform answered (`confirm`), so the next reservation by
    any sender counts from the moment the previous post actually went. Times come from the outbox's clock (the
    system clock in production; one shared clock in tests). Sends stamped further in the future than the longest
    window are forgotten: they come from a clock that was set back (a demo, a replay), not from real sends.
    """

    def __init__(self, platform: str, limits: Sequence[Limit]) -> None:
        self.platform = platform
        self.limits = tuple(limits)
        self._keep = max((lim.count for lim in self.limits), default=0)
        self._horizon = max((lim.seconds for lim in self.limits), default=0.0)

    def _row(self, session: Session, conversation: str) -> ConversationPace:
        """The conversation's row, created if new, locked until the caller's transaction ends."""
        key = {"platform": self.platform, "conversation": conversation}
        dialect = session.get_bind().dialect.name
        if dialect in ("sqlite", "postgresql"):  # the insert also takes SQLite's write lock before we read
            insert = sqlite_insert if dialect == "sqlite" else pg_insert
            session.execute(insert(ConversationPace).values(**key, recent=[]).on_conflict_do_nothing())
        elif session.get(ConversationPace, key) is None:
            try:
                with session.begin_nested():
                    session.add(ConversationPace(**key, recent=[]))
            except IntegrityError:
                pass  # another sender created it
        return session.scalars(select(ConversationPace).filter_by(**key).with_for_update()
                               .execution_options(populate_existing=True)).one()

    def _recent(self, row: ConversationPace, now: float) -> list[float]:
        return [t for t in row.recent if now - self._horizon < t <= now + self._horizon][-self._keep:] \
            if self._keep else []

    def peek(self, session: Session, conversation: str, now: datetime) -> float:
        """Seconds until a send to `conversation` may be reserved, read without a lock (0: try `reserve`). Lets a
        sender hand back a paced row before doing any costlier work for it."""
        row = session.get(ConversationPace, {"platform": self.platform, "conversation": conversation},
                          populate_existing=True)
        if row is None:
            return 0.0
        at = now.timestamp()
        wait = wait_for(self.limits, self._recent(row, at), at)
        if row.not_before is not None:
            wait = max(wait, (row.not_before - now).total_seconds())
        return wait

    def reserve(self, session: Session, conversation: str, now: datetime) -> float:
        """Reserve one send to `conversation` at `now` and return 0, or return the seconds to wait first (then
        nothing is reserved)."""
        row = self._row(session, conversation)
        at = now.timestamp()
        times = self._recent(row, at)
        wait = wait_for(self.limits, times, at)
        if row.not_before is not None:
            wait = max(wait, (row.not_before - now).total_seconds())
        if wait > 0:
            return wait
        row.recent = [*times, at][-self._keep:] if self._keep else []
        return 0.0

    def confirm(self, session: Session, conversation: str, reserved: datetime, now: datetime) -> None:
        """The send reserved at `reserved` was answered at `now`: count it from then."""
        row = self._row(session, conversation)
        at, was = now.timestamp(), reserved.timestamp()
        times = list(row.recent)
        if was in times:
            times[times.index(was)] = max(at, was)
            row.recent = sorted(times)

    def hold(self, session: Session, conversation: str, seconds: float, now: datetime) -> None:
        """The platform asked every sender to leave `conversation` alone for `seconds` (a 429's Retry-After)."""
        row = self._row(session, conversation)
        until = now + timedelta(seconds=seconds)
        if row.not_before is None or row.not_before < until:
            row.not_before = until
