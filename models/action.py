"""Actions on targets and the outcomes that close them."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, StoredEnum, TenantMixin, UTCDateTime
from models.partnership import Member
from models.sealed import SealedText
from models.target import Target


class ActionStatus(StrEnum):
    OPEN = "open"  # to do: reminded, chased, listed
    DONE = "done"  # closed with an outcome
    CANCELLED = "cancelled"  # closed with a reason


OUTCOME_CATEGORIES = (
    "arrest",
    "charge",
    "conviction",
    "eviction",
    "tenancy-warning",
    "benefit-sanction",
    "licence-review",
    "closure-order",
    "vehicle-seizure",
    "asset-recovery",
    "immigration-enforcement",
    "safeguarding-referral",
    "diversion",
    "support-offered",
    "intelligence-shared",
    "no-further-action",
    "not-possible-circumstances-changed",
    "not-done-by-agency",
)


class Action(TenantMixin, Base):
    """Something an owner will do about a target by a date. `number` is what people type (#12)."""

    __tablename__ = "action"
    __table_args__ = (
        UniqueConstraint("partnership_id", "number"),
        # The reminder round reads open actions by due date: this partial index makes its cost follow what is
        # due, not what is stored (benchmarks/: 20k -> 200k actions, 7.9x -> 1.1x on the round's query).
        Index("ix_action_open_due", "partnership_id", "due", sqlite_where=text(f"status = '{ActionStatus.OPEN}'"),
              postgresql_where=text(f"status = '{ActionStatus.OPEN}'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int]
    target_id: Mapped[int] = mapped_column(ForeignKey("target.id"), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("member.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    text: Mapped[str] = mapped_column(SealedText("action.text"))  # sealed at rest
    due: Mapped[date | None] = mapped_column(index=True)
    status: Mapped[ActionStatus] = mapped_column(StoredEnum(ActionStatus), default=ActionStatus.OPEN, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    target: Mapped[Target] = relationship()
    owner: Mapped[Member] = relationship(foreign_keys=[owner_id])
    created_by: Mapped[Member | None] = relationship(foreign_keys=[created_by_id])
    outcome: Mapped[Outcome | None] = relationship(back_populates="action", uselist=False)


class Outcome(TenantMixin, Base):
    __tablename__ = "outcome"

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("action.id", ondelete="CASCADE"), unique=True)
    text: Mapped[str] = mapped_column(SealedText("outcome.text"))  # sealed at rest
    category: Mapped[str] = mapped_column(String(48))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())

    action: Mapped[Action] = relationship(back_populates="outcome")
