"""A coordinator's decisions that change the rule's answer for one target or one meeting, each with its reason.

- `add` / `drop`: an agency is added to, or dropped from, one target (every meeting, until cleared) or every
  target of one meeting (`day`). A drop never removes the lead officer or an action owner, who are entitled in
  person; an add still respects the ISP (an agency without the current ISP stays excluded).
- `skip`: a target does not come up at one meeting (`day`); the default is every active target.
Each is shown in the plan (the reasons `added:` and `dropped:`), logged when made, and cleared by the coordinator.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, StoredEnum, TenantMixin, UTCDateTime
from models.partnership import Agency, Member
from models.target import Target


class OverrideKind(StrEnum):
    ADD = "add"
    DROP = "drop"
    SKIP = "skip"


class AgendaOverride(TenantMixin, Base):
    __tablename__ = "agenda_override"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[OverrideKind] = mapped_column(StoredEnum(OverrideKind))
    day: Mapped[date | None] = mapped_column(index=True)  # one meeting; None: every meeting (a target's)
    target_id: Mapped[int | None] = mapped_column(ForeignKey("target.id", ondelete="CASCADE"), index=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(200))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    target: Mapped[Target | None] = relationship()
    agency: Mapped[Agency | None] = relationship()
    created_by: Mapped[Member | None] = relationship()
