"""A meeting day, its sections (one per cohort), and who was invited to each and why."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, StoredEnum, TenantMixin, UTCDateTime
from models.partnership import Agency, Cohort, Member


class MeetingStatus(StrEnum):
    PLANNED = "planned"  # saved, nothing sent
    PUBLISHED = "published"  # sections, pointers and itineraries sent


class Meeting(TenantMixin, Base):
    __tablename__ = "meeting"
    __table_args__ = (UniqueConstraint("partnership_id", "date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    date: Mapped[date]
    status: Mapped[MeetingStatus] = mapped_column(StoredEnum(MeetingStatus), default=MeetingStatus.PLANNED)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    sections: Mapped[list[Section]] = relationship(
        back_populates="meeting", cascade="all, delete-orphan", order_by="Section.position"
    )


class Section(TenantMixin, Base):
    """One cohort's slot in the day. `space_ref` is the chat space made for it (platform-neutral id)."""

    __tablename__ = "section"
    __table_args__ = (UniqueConstraint("meeting_id", "cohort_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), index=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id"), index=True)
    position: Mapped[int]
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    target_refs: Mapped[list[str]] = mapped_column(default=list)
    space_ref: Mapped[str | None] = mapped_column(String(64))

    meeting: Mapped[Meeting] = relationship(back_populates="sections")
    cohort: Mapped[Cohort] = relationship()
    invitations: Mapped[list[Invitation]] = relationship(
        back_populates="section", cascade="all, delete-orphan"
    )


class Invitation(TenantMixin, Base):
    """An agency or a member invited to a section (or excluded from it), with every reason recorded."""

    __tablename__ = "invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("section.id", ondelete="CASCADE"), index=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    reasons: Mapped[list[str]] = mapped_column(default=list)
    excluded: Mapped[bool] = mapped_column(default=False)
    exclusion_reason: Mapped[str | None] = mapped_column(String(64))
    confidentiality_accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    section: Mapped[Section] = relationship(back_populates="invitations")
    agency: Mapped[Agency | None] = relationship()
    member: Mapped[Member | None] = relationship()
