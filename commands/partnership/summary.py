"""A depersonalised summary of a partnership: counts only, safe for anyone and any terminal."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Agency, Cohort, Member, Partnership, Target, TargetStatus


@dataclass(frozen=True)
class CohortLine:
    key: str
    name: str
    handling: str
    targets: int
    always_invited: list[str]


@dataclass(frozen=True)
class Summary:
    name: str
    isp_version: str
    agencies_by_category: dict[str, int]
    agencies_without_current_isp: list[str]
    members: int
    members_without_chat_identity: list[str]
    cohorts: list[CohortLine]
    targets: int


def summarise(session: Session, p: Partnership) -> Summary:
    agencies = session.scalars(select(Agency).where(Agency.partnership_id == p.id, Agency.active.is_(True))
                               .order_by(Agency.key)).all()
    members = session.scalars(select(Member).where(Member.partnership_id == p.id, Member.active.is_(True))
                              .order_by(Member.key)).all()
    cohorts = session.scalars(select(Cohort).where(Cohort.partnership_id == p.id, Cohort.active.is_(True))
                              .order_by(Cohort.order)).all()
    targets = session.scalars(select(Target).where(Target.partnership_id == p.id,
                                                   Target.status == TargetStatus.ACTIVE)).all()
    per_cohort = Counter(t.cohort_id for t in targets)
    return Summary(
        name=p.name,
        isp_version=p.isp_version,
        agencies_by_category=dict(Counter(a.category for a in agencies)),
        agencies_without_current_isp=[a.key for a in agencies if not a.has_signed(p.isp_version)],
        members=len(members),
        members_without_chat_identity=[m.key for m in members if not m.identities],
        cohorts=[CohortLine(c.key, c.name, c.handling, per_cohort[c.id], list(c.agencies)) for c in cohorts],
        targets=len(targets),
    )
