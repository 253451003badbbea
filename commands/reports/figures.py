"""The partnership's figures over a period, depersonalised: counts by agency (its name), outcome category and month.

The CSP board and the analyst need to know whether the meeting works (are actions done, how long do they take,
what do they lead to, who comes) without learning anything about any target. So a `Figures` holds counts and
day figures keyed by agency names, outcome categories and months only: never a target reference, a member, or
any free text (action wording, notes, outcomes, decisions). Everything in it is safe to print, mail or post;
`commands/reports/render.py` turns it into CSV, HTML, PDF and a PNG chart.

Definitions (also in README.md, "Partnership figures"). The period is whole days `start`..`end` inclusive in the
partnership's time zone; `as_of` is the end of the period, or now if that is earlier.
- raised: actions created in the period, by the agency of the action's owner now.
- completed: actions closed with an outcome recorded in the period; cancelled: actions cancelled in the period.
- overdue: at `as_of`, actions with a due date before that day that were not yet closed (outcome or
  cancellation). An action without a due date is never overdue.
- time to outcome: calendar days (partnership time zone) from an action's creation to its outcome, for the
  outcomes recorded in the period: median and p90 (nearest rank).
- outcomes by category, and by group (`OUTCOME_GROUPS`: disruption, enforcement, prevention, other).
- attendance: for the sections of the meetings held in the period (published, dated in the period and not
  after today), each member invitation counts once for the member's agency: present, apologies, or no mark.
- ISP status: each active agency now: signed the current version, lapsed (signed an older one), or none.
- meetings held: published meetings dated in the period and not after today.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import (
    Action,
    ActionStatus,
    Agency,
    Attendance,
    AttendanceStatus,
    Invitation,
    Meeting,
    MeetingStatus,
    Member,
    Outcome,
    Partnership,
    Section,
)
from models.action import OUTCOME_CATEGORIES

# What each outcome category achieved, in the words the Home Office evaluation and CSP boards use:
# - disruption: a civil, regulatory or administrative power that makes offending harder without a prosecution;
# - enforcement: the criminal justice route (arrest, charge, conviction) and court-ordered sanctions;
# - prevention: steering a person away from offending or protecting the vulnerable;
# - other: no disruption, enforcement or prevention came of it (nothing found, not possible, not done), or
#   the action only moved information along.
OUTCOME_GROUPS: dict[str, str] = {
    "arrest": "enforcement",
    "charge": "enforcement",
    "conviction": "enforcement",
    "eviction": "enforcement",
    "asset-recovery": "enforcement",
    "immigration-enforcement": "enforcement",
    "tenancy-warning": "disruption",
    "benefit-sanction": "disruption",
    "licence-review": "disruption",
    "closure-order": "disruption",
    "vehicle-seizure": "disruption",
    "safeguarding-referral": "prevention",
    "diversion": "prevention",
    "support-offered": "prevention",
    "intelligence-shared": "other",
    "no-further-action": "other",
    "not-possible-circumstances-changed": "other",
    "not-done-by-agency": "other",
}
GROUPS = ("disruption", "enforcement", "prevention", "other")
ISP_STATUSES = ("signed current", "lapsed", "none")


def group_of(category: str) -> str:
    """A category stored before the list changed still counts, as `other`."""
    return OUTCOME_GROUPS.get(category, "other")


@dataclass(frozen=True)
class AgencyActions:
    agency: str
    raised: int
    completed: int
    cancelled: int
    overdue: int


@dataclass(frozen=True)
class AgencyAttendance:
    agency: str
    invited: int
    present: int
    apologies: int

    @property
    def no_mark(self) -> int:
        return self.invited - self.present - self.apologies


@dataclass(frozen=True)
class MonthFigures:
    month: str  # YYYY-MM, in the partnership's time zone
    raised: int
    completed: int


@dataclass(frozen=True)
class TimeToOutcome:
    outcomes: int
    median_days: float | None
    p90_days: int | None


@dataclass(frozen=True)
class Figures:
    """Counts only: agency names, outcome categories and groups, months. Nothing about any target or person."""

    partnership: str
    start: date
    end: date
    as_of: date
    meetings_held: int
    sections_held: int
    actions: tuple[AgencyActions, ...]
    months: tuple[MonthFigures, ...]
    time_to_outcome: TimeToOutcome
    outcomes_by_category: tuple[tuple[str, int], ...]  # every category, in OUTCOME_CATEGORIES' order
    outcomes_by_group: tuple[tuple[str, int], ...]  # every group, in GROUPS' order
    attendance: tuple[AgencyAttendance, ...]
    isp: tuple[tuple[str, str], ...]  # (agency, one of ISP_STATUSES)

    @property
    def totals(self) -> AgencyActions:
        return AgencyActions("All agencies", *(sum(getattr(a, f) for a in self.actions)
                                               for f in ("raised", "completed", "cancelled", "overdue")))

    @property
    def isp_counts(self) -> tuple[tuple[str, int], ...]:
        counts = Counter(status for _, status in self.isp)
        return tuple((s, counts[s]) for s in ISP_STATUSES)

    @property
    def period(self) -> str:
        return f"{self.start.isoformat()} to {self.end.isoformat()}"


_FIELDS = frozenset(f.name for f in fields(Figures))


def to_dict(f: Figures) -> dict[str, Any]:
    """The figures as JSON-ready data (dates as YYYY-MM-DD): how a queued chart carries them to the worker that
    draws it (commands/reports/delivery.py). Counts and labels only, like the figures themselves."""
    data = asdict(f)
    for day in ("start", "end", "as_of"):
        data[day] = getattr(f, day).isoformat()
    return data


def from_dict(data: dict[str, Any]) -> Figures:
    """The figures back from `to_dict` (after a JSON round trip). Strict: an unknown or missing field is an
    error (ValueError, TypeError, KeyError), so nothing else can ride along into a chart."""
    unknown = set(data) - _FIELDS
    if unknown:
        raise ValueError(f"not a figure: {', '.join(sorted(unknown))}")
    ttc = data["time_to_outcome"]
    return Figures(
        partnership=str(data["partnership"]), start=date.fromisoformat(data["start"]),
        end=date.fromisoformat(data["end"]), as_of=date.fromisoformat(data["as_of"]),
        meetings_held=int(data["meetings_held"]), sections_held=int(data["sections_held"]),
        actions=tuple(AgencyActions(**a) for a in data["actions"]),
        months=tuple(MonthFigures(**m) for m in data["months"]),
        time_to_outcome=TimeToOutcome(**ttc),
        outcomes_by_category=tuple((str(c), int(n)) for c, n in data["outcomes_by_category"]),
        outcomes_by_group=tuple((str(g), int(n)) for g, n in data["outcomes_by_group"]),
        attendance=tuple(AgencyAttendance(**a) for a in data["attendance"]),
        isp=tuple((str(a), str(s)) for a, s in data["isp"]))


class PeriodError(ValueError):
    """The period is unusable (from after to)."""


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


def p90(values: list[int]) -> int | None:
    """Nearest rank: the smallest value with at least 90% of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(0.9 * len(ordered))) - 1]


def compute(session: Session, partnership: Partnership, start: date, end: date, *, now: datetime) -> Figures:
    """The figures for `start`..`end` (inclusive days, the partnership's time zone) as known at `now`."""
    if start > end:
        raise PeriodError(f"the period starts ({start.isoformat()}) after it ends ({end.isoformat()})")
    zone = ZoneInfo(partnership.timezone)
    lo, hi = _midnight(start, zone), _midnight(end + timedelta(days=1), zone)
    as_of = min(hi, now)
    as_of_day = as_of.astimezone(zone).date()
    today = now.astimezone(zone).date()
    pid = partnership.id

    def local_day(at: datetime) -> date:
        return at.astimezone(zone).date()

    rows = session.execute(
        select(Agency.name, Action.created_at, Action.due, Action.status, Action.updated_at,
               Outcome.recorded_at, Outcome.category)
        .join(Member, Action.owner_id == Member.id).join(Agency, Member.agency_id == Agency.id)
        .outerjoin(Outcome, Outcome.action_id == Action.id)
        .where(Action.partnership_id == pid, Action.created_at < hi)).all()
    by_agency: dict[str, Counter[str]] = defaultdict(Counter)
    by_month: dict[str, Counter[str]] = defaultdict(Counter)
    days: list[int] = []
    categories: Counter[str] = Counter()
    for agency, created, due, status, updated, recorded, category in rows:
        counts = by_agency[agency]
        if created >= lo:
            counts["raised"] += 1
            by_month[local_day(created).isoformat()[:7]]["raised"] += 1
        if recorded is not None and lo <= recorded < hi:
            counts["completed"] += 1
            by_month[local_day(recorded).isoformat()[:7]]["completed"] += 1
            days.append((local_day(recorded) - local_day(created)).days)
            categories[category] += 1
        if status == ActionStatus.CANCELLED and lo <= updated < hi:
            counts["cancelled"] += 1
        closed = (recorded is not None and recorded < as_of) or (status == ActionStatus.CANCELLED and updated < as_of)
        if due is not None and due < as_of_day and created < as_of and not closed:
            counts["overdue"] += 1
    actions = tuple(AgencyActions(name, c["raised"], c["completed"], c["cancelled"], c["overdue"])
                    for name, c in sorted(by_agency.items()) if any(c.values()))
    months = tuple(MonthFigures(m, c["raised"], c["completed"]) for m, c in sorted(by_month.items()))
    groups: Counter[str] = Counter()
    for category, n in categories.items():
        groups[group_of(category)] += n
    known = [(c, categories[c]) for c in OUTCOME_CATEGORIES]
    known += sorted((c, n) for c, n in categories.items() if c not in OUTCOME_GROUPS)

    held = session.scalars(select(Meeting.id).where(
        Meeting.partnership_id == pid, Meeting.status == MeetingStatus.PUBLISHED, Meeting.date >= start,
        Meeting.date <= min(end, today))).all()
    attendance, sections = _attendance(session, held)
    isp = tuple((a.name, _isp_status(a, partnership.isp_version)) for a in sorted(
        session.scalars(select(Agency).where(Agency.partnership_id == pid, Agency.active.is_(True))),
        key=lambda a: a.name))
    return Figures(
        partnership=partnership.name, start=start, end=end, as_of=as_of_day, meetings_held=len(held),
        sections_held=sections, actions=actions, months=months,
        time_to_outcome=TimeToOutcome(len(days), statistics.median(days) if days else None, p90(days)),
        outcomes_by_category=tuple(known), outcomes_by_group=tuple((g, groups[g]) for g in GROUPS),
        attendance=attendance, isp=isp)


def _isp_status(agency: Agency, current: str) -> str:
    if agency.isp_signed is None or not agency.isp_signed.strip():
        return "none"
    return "signed current" if agency.has_signed(current) else "lapsed"


def _attendance(session: Session, meeting_ids: Iterable[int]) -> tuple[tuple[AgencyAttendance, ...], int]:
    """Per agency: member invitations to the held meetings' sections, and how many were marked present or sent
    apologies (the latest mark stands: one Attendance row per member per section)."""
    ids = list(meeting_ids)
    if not ids:
        return (), 0
    sections = session.scalars(select(Section.id).where(Section.meeting_id.in_(ids))).all()
    invited = session.execute(
        select(Invitation.section_id, Invitation.member_id, Agency.name)
        .join(Member, Invitation.member_id == Member.id).join(Agency, Member.agency_id == Agency.id)
        .where(Invitation.section_id.in_(sections), Invitation.excluded.is_(False))).all()
    marks: dict[tuple[int, int | None], AttendanceStatus] = {(s, m): status for s, m, status in session.execute(
        select(Attendance.section_id, Attendance.member_id, Attendance.status)
        .where(Attendance.section_id.in_(sections)))}
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for section_id, member_id, agency in set(invited):
        c = counts[agency]
        c["invited"] += 1
        status = marks.get((section_id, member_id))
        if status == AttendanceStatus.PRESENT:
            c["present"] += 1
        elif status == AttendanceStatus.APOLOGIES:
            c["apologies"] += 1
    rows = tuple(AgencyAttendance(name, c["invited"], c["present"], c["apologies"]) for name, c in sorted(counts.items()))
    return rows, len(sections)
