"""An action's history: progress notes and every change (reassign, new due date, cancel) with its reason.

Kept apart from the audit log: the audit log says who processed what and why; this is the action's own
story, shown to people entitled to the target. Rows are only ever added.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.action import Action
from models.base import Base, TenantMixin, UTCDateTime
from models.partnership import Member
from models.sealed import SealedText


class ActionNote(TenantMixin, Base):
    __tablename__ = "action_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("action.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(SealedText("action_note.text"))  # sealed at rest
    author_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())

    action: Mapped[Action] = relationship()
    author: Mapped[Member | None] = relationship()
