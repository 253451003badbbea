"""The partnership itself: agencies, their members, and the cohorts (sections of the day)."""

from __future__ import annotations

import secrets
from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, TenantMixin, UTCDateTime


def new_rule_version() -> int:
    """A fresh, random version token for the need-to-know rule's input (see models/entitlement_cache.py: random
    rather than a counter, so a rolled-back transaction or another database can never reuse a version)."""
    return secrets.randbits(62)


CATEGORIES = ("statutory", "local-authority", "non-statutory", "national-regional")
ROLES = ("coordinator", "chair", "lead", "partner", "analyst")
HANDLING = ("OFFICIAL", "OFFICIAL-SENSITIVE")


class Partnership(Base):
    """A Community Safety Partnership: the tenant. Nothing crosses from one to another."""

    __tablename__ = "partnership"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/London")
    isp_version: Mapped[str] = mapped_column(String(32))
    # Meeting and reminder settings, as the partnership file states them (validated on load).
    meeting: Mapped[dict[str, Any]] = mapped_column(default=dict)
    reminders: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Retention and review periods (partnership file `retention:`; models/retention.py reads them).
    retention: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Changes whenever anything the need-to-know rule reads for every target changes (agencies, members, cohorts,
    # overrides, this row...): the key of the cached answers (models/entitlement_cache.py). Set by a flush hook.
    rule_version: Mapped[int] = mapped_column(BigInteger, default=new_rule_version, server_default="0")

    agencies: Mapped[list[Agency]] = relationship(back_populates="partnership", order_by="Agency.key")
    members: Mapped[list[Member]] = relationship(back_populates="partnership", order_by="Member.key")
    cohorts: Mapped[list[Cohort]] = relationship(back_populates="partnership", order_by="Cohort.order")


class Agency(TenantMixin, Base):
    """A partner organisation and what it can bring to the table."""

    __tablename__ = "agency"
    __table_args__ = (UniqueConstraint("partnership_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(32))
    flags: Mapped[list[str]] = mapped_column(default=list)
    powers: Mapped[list[str]] = mapped_column(default=list)
    information: Mapped[list[str]] = mapped_column(default=list)
    isp_signed: Mapped[str | None] = mapped_column(String(32))
    core: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)

    partnership: Mapped[Partnership] = relationship(back_populates="agencies")
    members: Mapped[list[Member]] = relationship(back_populates="agency", order_by="Member.key")

    def has_signed(self, isp_version: str) -> bool:
        return self.isp_signed == isp_version


class Member(TenantMixin, Base):
    """A person who represents an agency. Chat identities live apart, one per platform."""

    __tablename__ = "member"
    __table_args__ = (UniqueConstraint("partnership_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    roles: Mapped[list[str]] = mapped_column(default=list)
    cohorts: Mapped[list[str]] = mapped_column(default=list)
    spoc: Mapped[bool] = mapped_column(default=False)
    out_of_office_until: Mapped[date | None]
    active: Mapped[bool] = mapped_column(default=True)

    partnership: Mapped[Partnership] = relationship(back_populates="members")
    agency: Mapped[Agency] = relationship(back_populates="members")
    identities: Mapped[list[ChatIdentity]] = relationship(
        back_populates="member", cascade="all, delete-orphan", order_by="ChatIdentity.platform"
    )

    def has_role(self, *roles: str) -> bool:
        return any(r in self.roles for r in roles)

    def identity(self, platform: str) -> str | None:
        for ident in self.identities:
            if ident.platform == platform:
                return ident.user_id
        return None


class ChatIdentity(TenantMixin, Base):
    """A member's user id on one chat platform (Slack now, Teams later)."""

    __tablename__ = "chat_identity"
    __table_args__ = (
        UniqueConstraint("partnership_id", "platform", "user_id"),
        UniqueConstraint("member_id", "platform"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(64))

    member: Mapped[Member] = relationship(back_populates="identities")


class Cohort(TenantMixin, Base):
    """An offender group: one section of the day."""

    __tablename__ = "cohort"
    __table_args__ = (UniqueConstraint("partnership_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    order: Mapped[int] = mapped_column(default=0)
    agencies: Mapped[list[str]] = mapped_column(default=list)
    minutes_per_target: Mapped[int] = mapped_column(default=10)
    handling: Mapped[str] = mapped_column(String(32), default="OFFICIAL-SENSITIVE")
    personal_data: Mapped[bool] = mapped_column(default=True)
    confidentiality: Mapped[str] = mapped_column(String(2000), default="")
    active: Mapped[bool] = mapped_column(default=True)
    # Changes whenever one of this cohort's targets or their actions changes: the key of its cached section
    # (models/entitlement_cache.py), so an action recorded in one section leaves the others' answers warm.
    rule_version: Mapped[int] = mapped_column(BigInteger, default=new_rule_version, server_default="0")

    partnership: Mapped[Partnership] = relationship(back_populates="cohorts")
