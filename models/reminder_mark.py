"""Which reminder rounds have been sent. The unique key is what makes a round go out exactly once, however
many workers run it: the second writer of the same (action, round, due date) fails and rolls back.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TenantMixin, UTCDateTime


class ReminderMark(TenantMixin, Base):
    __tablename__ = "reminder_mark"
    __table_args__ = (UniqueConstraint("action_id", "round", "due"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("action.id", ondelete="CASCADE"), index=True)
    round: Mapped[str] = mapped_column(String(32))  # "before", "due", "overdue-2", "escalation", "ooo"
    due: Mapped[date]  # the due date the round was computed for: a new due date starts a new schedule
    at: Mapped[datetime] = mapped_column(UTCDateTime())
