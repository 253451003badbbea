"""Onward disclosure (MAPPA-style): a member asks to share one target's pack with someone outside its slot; a
chair decides; the recipient sees it once.

The request is the record of the whole exchange: who asked, for whom, why, who decided and when, and when the
recipient saw it. The processing log holds the same facts as events (collection of the request, the decision,
the disclosure); this row is what the buttons act on, so each step happens once.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, StoredEnum, TenantMixin, UTCDateTime
from models.partnership import Member
from models.sealed import SealedText
from models.target import Target


class OnwardStatus(StrEnum):
    PENDING = "pending"  # waiting for a chair
    APPROVED = "approved"  # the recipient may open it, once
    REFUSED = "refused"  # final
    SHOWN = "shown"  # the recipient opened it: final, it cannot be opened again


class OnwardRequest(TenantMixin, Base):
    __tablename__ = "onward_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("target.id", ondelete="CASCADE"), index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    recipient_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    reason: Mapped[str] = mapped_column(SealedText("onward_request.reason"))  # sealed at rest
    status: Mapped[OnwardStatus] = mapped_column(StoredEnum(OnwardStatus), default=OnwardStatus.PENDING)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    decision_note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    shown_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    target: Mapped[Target] = relationship()
    requested_by: Mapped[Member] = relationship(foreign_keys=[requested_by_id])
    recipient: Mapped[Member] = relationship(foreign_keys=[recipient_id])
    decided_by: Mapped[Member | None] = relationship(foreign_keys=[decided_by_id])
