"""The handling marking an export carries (UK Government Security Classifications).

Markings live on cohorts in the partnership file (`handling:`). An export about one target carries its cohort's
marking; one that may span the partnership carries the highest marking of its cohorts (OFFICIAL-SENSITIVE when it
has none yet, the safe default the partnership file itself uses).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.partnership import HANDLING, Cohort, Partnership
from models.target import Target

DEFAULT = "OFFICIAL-SENSITIVE"


def partnership_marking(session: Session, partnership: Partnership) -> str:
    found = set(session.scalars(select(Cohort.handling).where(Cohort.partnership_id == partnership.id)))
    if not found:
        return DEFAULT
    return max(found, key=lambda h: HANDLING.index(h) if h in HANDLING else len(HANDLING))


def target_marking(target: Target) -> str:
    return target.cohort.handling or DEFAULT
