"""The meeting's own record: what the partners decided about each target, and what they brought to the table.

- `TargetDiscussion`: one per target per section of a meeting, its status at the meeting (discussed, no update,
  deferred, escalated, closed) and who set it.
- `Decision`: what was decided about a target at a meeting, with who recorded it. Rows are only ever added, like
  an action's notes: the minutes are built from them.
- `PartnerInformation`: information a partner brought for a target through `/inform` (the evaluation's "filling
  these gaps through information provided by those around the table"): it goes to the lead officer and into the
  next pack for those entitled, never to a channel.

Everything here is about one target: it is shown only to those entitled to that target (commands/core/access.py).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, StoredEnum, TenantMixin, UTCDateTime
from models.meeting import Section
from models.partnership import Member
from models.sealed import SealedText
from models.target import Target


class DiscussionStatus(StrEnum):
    DISCUSSED = "discussed"
    NO_UPDATE = "no-update"
    DEFERRED = "deferred"  # to a later meeting
    ESCALATED = "escalated"  # e.g. to tasking, MAPPA or the ROCU
    CLOSED = "closed"  # the partnership is done with the target


class TargetDiscussion(TenantMixin, Base):
    __tablename__ = "target_discussion"
    __table_args__ = (UniqueConstraint("section_id", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("section.id", ondelete="CASCADE"), index=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("target.id", ondelete="CASCADE"), index=True)
    status: Mapped[DiscussionStatus] = mapped_column(StoredEnum(DiscussionStatus))
    set_by_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())

    section: Mapped[Section] = relationship()
    target: Mapped[Target] = relationship()
    set_by: Mapped[Member] = relationship()


class Decision(TenantMixin, Base):
    __tablename__ = "decision"

    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("section.id", ondelete="CASCADE"), index=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("target.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(SealedText("decision.text"))  # sealed at rest
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())

    section: Mapped[Section] = relationship()
    target: Mapped[Target] = relationship()
    recorded_by: Mapped[Member] = relationship()


class PartnerInformation(TenantMixin, Base):
    __tablename__ = "partner_information"

    id: Mapped[int] = mapped_column(primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("target.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(SealedText("partner_information.text"))  # sealed at rest
    from_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)

    target: Mapped[Target] = relationship()
    from_member: Mapped[Member] = relationship()


class AttendanceStatus(StrEnum):
    PRESENT = "present"
    APOLOGIES = "apologies"  # sent ahead of time; a substitute may be named


class Attendance(TenantMixin, Base):
    """Whether a member invited to a section came (or sent apologies, perhaps with a substitute from their agency).
    One row per member per section; the latest mark stands."""

    __tablename__ = "attendance"
    __table_args__ = (UniqueConstraint("section_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("section.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), index=True)
    status: Mapped[AttendanceStatus] = mapped_column(StoredEnum(AttendanceStatus))
    substitute_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    marked_by_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())

    section: Mapped[Section] = relationship()
    member: Mapped[Member] = relationship(foreign_keys=[member_id])
    substitute: Mapped[Member | None] = relationship(foreign_keys=[substitute_id])
    marked_by: Mapped[Member] = relationship(foreign_keys=[marked_by_id])


class Minutes(TenantMixin, Base):
    """A section's minutes: built from the record (attendance, statuses, decisions, actions) when they are shown or
    released; the chair adds a note for everyone in the section and releases them. One row per section."""

    __tablename__ = "minutes"
    __table_args__ = (UniqueConstraint("section_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("section.id", ondelete="CASCADE"))
    note: Mapped[str] = mapped_column(SealedText("minutes.note"), default="")  # sealed at rest
    edited_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    released_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    section: Mapped[Section] = relationship()
