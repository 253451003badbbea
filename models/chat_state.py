"""What the chat side needs remembered across processes, kept in the database so that any number of `serve`
replicas behave as one (nothing per process):

- `SeenEvent`: an inbound event id already handled. Slack retries an event it thinks went unanswered, with the
  same `event_id`, and the retry may reach another replica; the unique row is what drops it there too. Rows
  are kept for a bounded time (bot/events.py), longer than any platform retries.
- `HomeView`: whose personal page (Slack's App Home) has been drawn, so a change made anywhere redraws it.

Keyed by the platform's own ids: an event or a viewer is known before (or without) a partnership.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime


class SeenEvent(Base):
    __tablename__ = "seen_event"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)  # pruned by age


class HomeView(Base):
    __tablename__ = "home_view"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime())
