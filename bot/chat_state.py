"""State the chat side keeps across requests, in the database (models/chat_state.py), so that any number of
`serve` replicas share it and a restart loses nothing: which inbound event ids were handled, and whose home
page has been drawn. Nothing here is kept per process except when this process last pruned.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from models import HomeView, SeenEvent

log = logging.getLogger("oneday.events")

# Slack retries an unanswered event three times, the last about five minutes after the first; an hour is ample.
RETENTION = timedelta(hours=1)
PRUNE_EVERY = timedelta(minutes=1)  # how often a process deletes ids older than the retention


class SeenEvents:
    """Event ids already handled, for every replica: the first `claim` of an id inserts its row and wins;
    a repeat (here or on any other replica) finds the row and is dropped. Ids older than `retention` are
    deleted, so the table stays bounded."""

    def __init__(self, factory: sessionmaker[Session], *, platform: str, clock: Callable[[], datetime],
                 retention: timedelta = RETENTION, prune_every: timedelta = PRUNE_EVERY) -> None:
        self.factory, self.platform, self.clock = factory, platform, clock
        self.retention, self.prune_every = retention, prune_every
        self._pruned_at: datetime | None = None

    def claim(self, event_id: str) -> bool:
        """True the first time an id is seen (the caller handles the event); False for a repeat."""
        now = self.clock()
        try:
            with self.factory() as session, session.begin():
                session.add(SeenEvent(platform=self.platform, event_id=event_id[:128], seen_at=now))
        except IntegrityError:  # already claimed, by this replica or another (PostgreSQL waits for its commit)
            return False
        finally:
            self._prune(now)
        return True

    def release(self, event_id: str) -> None:
        """Handling failed: let the platform's retry of this event through."""
        with self.factory() as session, session.begin():
            session.execute(delete(SeenEvent).where(SeenEvent.platform == self.platform,
                                                    SeenEvent.event_id == event_id[:128]))

    def _prune(self, now: datetime) -> None:
        if self._pruned_at is not None and now - self._pruned_at < self.prune_every and now >= self._pruned_at:
            return
        self._pruned_at = now
        try:  # on its own, after the claim: replicas pruning at once must never fail a claim
            with self.factory() as session, session.begin():
                session.execute(delete(SeenEvent).where(SeenEvent.seen_at < now - self.retention))
        except SQLAlchemyError:
            log.warning("could not delete old event ids; will try again", exc_info=True)


class HomeViews:
    """Whose home page has been published, for every replica: a change made through any replica redraws the
    page of someone who has one, and draws none for someone who never opened it."""

    def __init__(self, factory: sessionmaker[Session], *, platform: str, clock: Callable[[], datetime]) -> None:
        self.factory, self.platform, self.clock = factory, platform, clock

    def drawn(self, workspace: str, user: str) -> bool:
        with self.factory() as session:
            return session.scalar(select(HomeView.user_id).where(
                HomeView.platform == self.platform, HomeView.workspace_id == workspace,
                HomeView.user_id == user)) is not None

    def published(self, workspace: str, user: str) -> None:
        now = self.clock()
        with self.factory() as session, session.begin():
            view = session.get(HomeView, (self.platform, workspace, user))
            if view is not None:
                view.published_at = now
                return
            try:
                with session.begin_nested():  # another replica may draw it at the same moment
                    session.add(HomeView(platform=self.platform, workspace_id=workspace, user_id=user,
                                         published_at=now))
            except IntegrityError:
                pass
