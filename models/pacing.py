"""How fast each conversation has been sent to, shared by every sender through the database.

One row per (platform, conversation): the instants of its latest sends (as many as the platform's largest limit
counts, within its longest window) and the platform's "not before" (a 429's Retry-After). Senders lock the row to
reserve a send, so N workers together keep a channel's rate (bot/pacing.py has the rule).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime


class ConversationPace(Base):
    __tablename__ = "conversation_pace"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    conversation: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Seconds since the epoch (the outbox's clock) of the latest sends, oldest first.
    recent: Mapped[list[float]] = mapped_column(JSON, default=list)
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime())
