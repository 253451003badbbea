"""Targets: nominals and organised crime groups, known in chat only by their reference."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, StoredEnum, TenantMixin
from models.partnership import Cohort, Member
from models.sealed import SealedJSON, SealedText

KINDS = ("individual", "group")

# Structured target details, the categories DPA 2018 s.38 asks a controller to keep apart: who the person is
# (names, aliases, date of birth), where and what (addresses, vehicles, business interests), who with
# (associates), why they are known and whether that is a fact or an assessment (s.38(2)), which category of data
# subject they are (s.38(3): suspect, convicted, victim, witness, at risk) and the warning markers staff need for
# their safety. Field -> how it is shown; LIST_FACTS hold several values. Stored sealed, in TargetDetails.facts.
FACTS: dict[str, str] = {
    "names": "Name(s)",
    "aliases": "Aliases",
    "date_of_birth": "Date of birth",
    "subject_status": "Status",
    "addresses": "Addresses",
    "vehicles": "Vehicles",
    "associates": "Associates",
    "business_interests": "Business interests",
    "why_known": "Why known",
    "basis": "Fact or assessment",
    "warnings": "Staff-safety warnings",
}
LIST_FACTS = ("names", "aliases", "addresses", "vehicles", "associates", "business_interests", "warnings")
SUBJECT_STATUSES = ("suspect", "convicted", "victim", "witness", "at-risk")
BASES = ("fact", "assessment")


def fact_lines(facts: dict[str, Any]) -> list[str]:
    """The structured details as "Label: value" lines, in FACTS order, warnings first (a reader must not miss
    them); empty fields left out."""
    order = ["warnings", *[f for f in FACTS if f != "warnings"]]
    lines = []
    for name in order:
        value = facts.get(name)
        if not value:
            continue
        shown = "; ".join(value) if isinstance(value, list) else str(value)
        lines.append(f"{'WARNING - ' if name == 'warnings' else ''}{FACTS[name]}: {shown}")
    return lines


class TargetStatus(StrEnum):
    ACTIVE = "active"  # on the agenda, in its cohort's section
    CLOSED = "closed"  # off the agenda (e.g. removed from the partnership file); its history stays


class PartnerView(StrEnum):
    """What partners outside the core agencies see of a target in the pack, as its lead officer sets it.

    The lead officer, those who run the day and members of core agencies always see the full details."""

    FULL = "full"  # the details
    SUMMARY = "summary"  # the partner summary the lead wrote instead of the details
    ASK = "ask"  # the reference, what is asked of partners and the lead officer: no details at all


class Target(TenantMixin, Base):
    """What may travel in chat: the reference, cohort, lead, flags and priority. Never the details."""

    __tablename__ = "target"
    __table_args__ = (UniqueConstraint("partnership_id", "ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id"), index=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("member.id"), index=True)
    flags: Mapped[list[str]] = mapped_column(default=list)
    priority: Mapped[int] = mapped_column(default=2)
    status: Mapped[TargetStatus] = mapped_column(StoredEnum(TargetStatus), default=TargetStatus.ACTIVE)
    review: Mapped[date | None]
    partner_view: Mapped[PartnerView] = mapped_column(StoredEnum(PartnerView), default=PartnerView.FULL)

    cohort: Mapped[Cohort] = relationship()
    lead: Mapped[Member] = relationship()
    details: Mapped[TargetDetails | None] = relationship(
        back_populates="target", cascade="all, delete-orphan", uselist=False
    )


class TargetDetails(TenantMixin, Base):
    """Personal details, kept in their own table so nothing that lists targets loads them by accident.

    Only code that has checked entitlement and records a consultation reads this.
    """

    __tablename__ = "target_details"

    id: Mapped[int] = mapped_column(primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("target.id", ondelete="CASCADE"), unique=True)
    # Sealed at rest (models/sealed.py): the raw database shows none of it.
    summary: Mapped[str] = mapped_column(SealedText("target_details.summary"), default="")
    # shown instead of `summary` (PartnerView.SUMMARY)
    partner_summary: Mapped[str] = mapped_column(SealedText("target_details.partner_summary"), default="")
    ask: Mapped[str] = mapped_column(SealedText("target_details.ask"), default="")  # asked of partners (ASK)
    # The DPA 2018 s.38 categories (`FACTS` above): field -> text or list of texts; dates as YYYY-MM-DD.
    facts: Mapped[dict[str, Any]] = mapped_column(SealedJSON("target_details.facts"), default=dict)

    target: Mapped[Target] = relationship(back_populates="details")
