"""`agenda plan`: the proposed day as the JSON contract in PRODUCT.md ("Agenda plan as JSON").

The section objects carry exactly the contract's keys; anything extra (waiting figures, notes for the
coordinator, itineraries) sits at the top level so scripts that read the contract never see a change.
Planning is read-only: the plan is not saved until it is published.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from commands.core.errors import UsageError
from models.gc_pause import builds_acyclic
from models.partnership import Partnership
from models.planning import DayPlan, plan_day

DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
EXAMPLE = "oneday agenda plan --date 2026-12-03 --json"


def parse_date(text: str) -> date:
    """YYYY-MM-DD, strictly: a meeting date read wrongly would plan the wrong day."""
    text = (text or "").strip()
    try:
        if not DATE_RE.match(text):
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"'{text}' is not a date; write it as YYYY-MM-DD", example=EXAMPLE) from None


def hhmm(when: Any) -> str:
    """`when.strftime("%H:%M")`, without strftime's cost (a plan of 6,000 targets prints ~37,000 times)."""
    return f"{when.hour:02d}:{when.minute:02d}"


@builds_acyclic
def to_json(day_plan: DayPlan) -> dict[str, Any]:
    """A DayPlan as the contract's JSON (local HH:MM times) plus top-level extras."""
    return {
        "date": day_plan.day.isoformat(),
        "sections": [
            {
                "cohort": s.cohort,
                "start": hhmm(s.start),
                "end": hhmm(s.end),
                "targets": list(s.targets),
                "agencies": [{"key": a.key, "reasons": list(a.reasons)} for a in s.relevance.agencies],
                "excluded": [{"key": e.key, "reason": e.reason} for e in s.relevance.excluded],
                "members": list(s.members),
                "slots": [
                    {"target": slot.target, "start": hhmm(slot.start), "end": hhmm(slot.end),
                     "agencies": [{"key": a.key, "reasons": list(a.reasons)} for a in slot.relevance.agencies],
                     "members": list(slot.members)}
                    for slot in s.slots
                ],
            }
            for s in day_plan.sections
        ],
        "timezone": day_plan.timezone,
        "waiting_minutes": {"before": day_plan.waiting_before, "after": day_plan.waiting_after},
        "reordered": day_plan.reordered,
        "member_minutes": {"in_slots": day_plan.member_minutes_slots,
                           "whole_sections": day_plan.member_minutes_sections},
        "agency_target_pairs": {"invited": day_plan.pairs_invited, "all": day_plan.pairs_possible},
        "notes": list(day_plan.notes),
        "itineraries": {
            member: [{"cohort": stop.cohort, "start": hhmm(stop.start), "end": hhmm(stop.end),
                      "slots": [slot.target for slot in stop.slots]} for stop in stops]
            for member, stops in day_plan.itineraries.items()
        },
    }


def plan(session: Session, partnership: Partnership, day: date) -> dict[str, Any]:
    """The proposed agenda for `day`, as JSON-ready data. No side effects."""
    return to_json(plan_day(session, partnership, day))
