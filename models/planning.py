"""The agenda planner: one section per cohort, in order, laid out around the breaks, with the invitations.

The core (`plan`) is a pure function of a `PlanInput` of plain data, so ordering, layout and reordering
are tested from tables without a database. `plan_day` is the thin edge that reads the entities once and
calls it. Nothing here writes: a plan is a proposal until the coordinator publishes it.

Times are handled as minutes after local midnight while planning (the meeting's wall clock is what people
agree to) and turned into aware datetimes in the partnership's time zone at the end, so a BST date and a
GMT date both start at the configured local time and land on the right UTC instant.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import permutations
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.action import Action, ActionStatus
from models.meeting import Meeting, Section
from models.partnership import Agency, Cohort, Member, Partnership
from models.relevance import (
    ActionInfo,
    CohortInfo,
    Directory,
    SectionRelevance,
    TargetInfo,
    action_info,
    cohort_info,
    directory_of,
    privileged_members,
    section_relevance,
    target_info,
)
from models.target import Target, TargetStatus

# The "actions since last meeting" slot at the start of every section: feedback on what was done.
ACTIONS_SLOT_MINUTES = 5
# Up to this many sections, every order is tried (8! = 40,320); above it, a greedy insertion is used.
BRUTE_FORCE_LIMIT = 8

Span = tuple[int, int]  # (start, end) in minutes after local midnight


@dataclass(frozen=True)
class Break:
    at: str  # "HH:MM" local
    minutes: int


@dataclass(frozen=True)
class MeetingSettings:
    day_start: str = "09:30"
    breaks: tuple[Break, ...] = ()
    reorder_sections: bool = False
    timezone: str = "Europe/London"

    @classmethod
    def from_partnership(cls, meeting: Mapping[str, Any] | None, timezone: str) -> MeetingSettings:
        """Read the partnership's `meeting` mapping (already validated when the file was loaded)."""
        meeting = meeting or {}
        breaks = tuple(Break(str(b["at"]), int(b["minutes"])) for b in meeting.get("breaks") or [] if b.get("at"))
        return cls(str(meeting.get("day_start") or "09:30"), breaks, bool(meeting.get("reorder_sections")),
                   timezone or "Europe/London")


@dataclass(frozen=True)
class PlanInput:
    day: date
    settings: MeetingSettings
    directory: Directory
    cohorts: tuple[CohortInfo, ...]
    targets: tuple[TargetInfo, ...]
    actions: tuple[ActionInfo, ...] = ()
    last_discussed: Mapping[str, date] = field(default_factory=dict)
    privileged: frozenset[str] = frozenset()


@dataclass(frozen=True)
class PlannedSection:
    cohort: str
    name: str
    start: datetime  # aware, partnership time zone
    end: datetime
    relevance: SectionRelevance

    @property
    def targets(self) -> tuple[str, ...]:
        return self.relevance.targets

    @property
    def members(self) -> tuple[str, ...]:
        return self.relevance.members

    @property
    def minutes(self) -> int:
        return int((self.end - self.start).total_seconds() // 60)


@dataclass(frozen=True)
class Stop:
    cohort: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class DayPlan:
    day: date
    timezone: str
    sections: tuple[PlannedSection, ...]
    itineraries: Mapping[str, tuple[Stop, ...]]
    waiting_before: int  # total waiting minutes in cohort order
    waiting_after: int  # total waiting minutes in the order chosen
    reordered: bool
    privileged: frozenset[str] = frozenset()
    layout_notes: tuple[str, ...] = ()

    @property
    def relevance(self) -> tuple[SectionRelevance, ...]:
        return tuple(s.relevance for s in self.sections)

    @property
    def notes(self) -> tuple[str, ...]:
        return self.layout_notes + tuple(n for s in self.sections for n in s.relevance.notes)


# ------------------------------------------------------------------------------------ pure parts


def minutes_of(hhmm: str) -> int:
    parsed = time.fromisoformat(hhmm)
    return parsed.hour * 60 + parsed.minute


def hhmm(minutes: int) -> str:
    return f"{minutes // 60 % 24:02d}:{minutes % 60:02d}"


def order_targets(targets: Iterable[TargetInfo], actions: Iterable[ActionInfo], day: date,
                  last_discussed: Mapping[str, date]) -> list[TargetInfo]:
    """Priority first; then targets with overdue open actions; then longest since discussed; then ref."""
    overdue = {a.target for a in actions if a.open and a.due is not None and a.due < day}
    return sorted(targets, key=lambda t: (t.priority, t.ref not in overdue,
                                          last_discussed.get(t.ref, date.min), t.ref))


def section_minutes(cohort: CohortInfo, targets: int) -> int:
    return cohort.minutes_per_target * targets + ACTIONS_SLOT_MINUTES


def layout(durations: Sequence[int], day_start: int, breaks: Sequence[Span]) -> list[Span]:
    """Place sections one after another from day_start; a section that would overlap a break starts after it."""
    spans: list[Span] = []
    cursor = day_start
    for d in durations:
        moved = True
        while moved:
            moved = False
            for b_start, b_end in breaks:
                if cursor < b_end and cursor + d > b_start:
                    cursor, moved = b_end, True
        spans.append((cursor, cursor + d))
        cursor += d
    return spans


def waiting_minutes(spans: Mapping[int, Span], attendance: Mapping[frozenset[int], int]) -> int:
    """Minutes people spend between their own sections, summed over everyone who attends several.

    `spans` maps section index to its span (sections not placed yet are ignored, for the greedy);
    `attendance` counts the people attending each set of sections.
    """
    total = 0
    for sections, people in attendance.items():
        mine = [spans[i] for i in sections if i in spans]
        if len(mine) < 2:
            continue
        busy = sum(end - start for start, end in mine)
        total += people * (max(end for _, end in mine) - min(start for start, _ in mine) - busy)
    return total


def _cost(order: Sequence[int], durations: Sequence[int], day_start: int, breaks: Sequence[Span],
          attendance: Mapping[frozenset[int], int]) -> int:
    placed = layout([durations[i] for i in order], day_start, breaks)
    return waiting_minutes(dict(zip(order, placed, strict=True)), attendance)


def best_order(durations: Sequence[int], day_start: int, breaks: Sequence[Span],
               attendance: Mapping[frozenset[int], int]) -> tuple[int, ...]:
    """The section order with the least total waiting; ties keep the cohort order (earliest permutation)."""
    n = len(durations)
    original = tuple(range(n))
    best, best_cost = original, _cost(original, durations, day_start, breaks, attendance)
    if n <= BRUTE_FORCE_LIMIT:
        candidates: Iterable[tuple[int, ...]] = permutations(range(n))
    else:  # greedy insertion: place each section where it adds the least waiting so far
        order: list[int] = []
        for i in range(n):
            # later positions first, so a tie keeps the cohort order
            options = [order[:k] + [i] + order[k:] for k in range(len(order), -1, -1)]
            order = min(options, key=lambda o: _cost(o, durations, day_start, breaks, attendance))
        candidates = [tuple(order)]
    for candidate in candidates:
        cost = _cost(candidate, durations, day_start, breaks, attendance)
        if cost < best_cost:
            best, best_cost = candidate, cost
    return best


def _at(day: date, minutes: int, tz: ZoneInfo) -> datetime:
    """Local wall-clock minutes after midnight -> aware datetime (aware arithmetic keeps the wall clock)."""
    return datetime.combine(day, time(0), tzinfo=tz) + timedelta(minutes=minutes)


def plan(inp: PlanInput) -> DayPlan:
    """The whole day from plain data: sections, times, invitations, itineraries and waiting figures."""
    tz = ZoneInfo(inp.settings.timezone)
    cohorts = sorted((c for c in inp.cohorts if c.active), key=lambda c: (c.order, c.key))
    drafts: list[tuple[CohortInfo, SectionRelevance, int]] = []
    for cohort in cohorts:
        mine = [t for t in inp.targets if t.active and t.cohort == cohort.key]
        if not mine:
            continue
        ordered = order_targets(mine, inp.actions, inp.day, inp.last_discussed)
        rel = section_relevance(inp.directory, cohort, ordered, inp.actions)
        drafts.append((cohort, rel, section_minutes(cohort, len(ordered))))

    day_start = minutes_of(inp.settings.day_start)
    breaks = sorted((minutes_of(b.at), minutes_of(b.at) + b.minutes) for b in inp.settings.breaks)
    durations = [d for _, _, d in drafts]
    attendance = Counter(
        frozenset(i for i, (_, rel, _) in enumerate(drafts) if member in rel.members)
        for member in {m for _, rel, _ in drafts for m in rel.members}
    )
    original = tuple(range(len(drafts)))
    before = _cost(original, durations, day_start, breaks, attendance)
    order = best_order(durations, day_start, breaks, attendance) if inp.settings.reorder_sections else original
    after = _cost(order, durations, day_start, breaks, attendance)

    spans = layout([durations[i] for i in order], day_start, breaks)
    sections: list[PlannedSection] = []
    notes: list[str] = []
    cursor = day_start
    for i, (start, end) in zip(order, spans, strict=True):
        cohort, rel, _ = drafts[i]
        if start > cursor:
            notes.append(f"{cohort.key}: starts at {hhmm(start)}, after a break, so that no break falls "
                         f"inside its {end - start} minutes")
        sections.append(PlannedSection(cohort.key, cohort.name, _at(inp.day, start, tz), _at(inp.day, end, tz), rel))
        cursor = end

    itineraries: dict[str, tuple[Stop, ...]] = {}
    for member in sorted({m for s in sections for m in s.members}):
        itineraries[member] = tuple(Stop(s.cohort, s.start, s.end) for s in sections if member in s.members)
    return DayPlan(inp.day, inp.settings.timezone, tuple(sections), itineraries, before, after,
                   order != original, inp.privileged, tuple(notes))


# ------------------------------------------------------------------------------ the edge: entities


def last_discussed(session: Session, partnership_id: int, day: date) -> dict[str, date]:
    """Each target ref -> the latest meeting before `day` whose section listed it."""
    rows = session.execute(
        select(Meeting.date, Section.target_refs).join(Section, Section.meeting_id == Meeting.id)
        .where(Meeting.partnership_id == partnership_id, Meeting.date < day)
    )
    latest: dict[str, date] = {}
    for when, refs in rows:
        for ref in refs or ():
            if ref not in latest or when > latest[ref]:
                latest[ref] = when
    return latest


@dataclass(frozen=True)
class RuleInput:
    """What the need-to-know rule reads, as plain data: the partnership's people, and cohorts with their
    targets and open actions (all of them, or one cohort's)."""

    directory: Directory
    cohorts: tuple[CohortInfo, ...]
    targets: tuple[TargetInfo, ...]
    actions: tuple[ActionInfo, ...]


def read_rule_input(session: Session, partnership: Partnership, *, cohort_id: int | None = None) -> RuleInput:
    """One reading of the database for the rule, shared by the day's plan and every showing and sending."""
    pid = partnership.id
    agencies = list(session.scalars(select(Agency).where(Agency.partnership_id == pid)))
    members = list(session.scalars(select(Member).where(Member.partnership_id == pid)))
    cohort_q = select(Cohort).where(Cohort.partnership_id == pid)
    target_q = select(Target).where(Target.partnership_id == pid)
    if cohort_id is not None:
        cohort_q, target_q = cohort_q.where(Cohort.id == cohort_id), target_q.where(Target.cohort_id == cohort_id)
    cohorts = list(session.scalars(cohort_q))
    targets = list(session.scalars(target_q))
    action_q = select(Action).where(Action.partnership_id == pid, Action.status == ActionStatus.OPEN)
    if cohort_id is not None:
        action_q = action_q.where(Action.target_id.in_([t.id for t in targets]))
    actions = list(session.scalars(action_q))
    member_keys = {m.id: m.key for m in members}
    cohort_keys = {c.id: c.key for c in cohorts}
    target_refs = {t.id: t.ref for t in targets}
    return RuleInput(
        directory=directory_of(partnership, agencies, members),
        cohorts=tuple(cohort_info(c) for c in cohorts),
        targets=tuple(target_info(t, cohort_keys, member_keys) for t in targets),
        actions=tuple(action_info(a, target_refs, member_keys) for a in actions),
    )


def cohort_relevance(session: Session, partnership: Partnership, cohort_id: int) -> SectionRelevance:
    """The rule applied now to one cohort's section: its active targets and their open actions, as the day's
    plan would apply it (same reading, same rule; the plan only adds order and times)."""
    inp = read_rule_input(session, partnership, cohort_id=cohort_id)
    (cohort,) = inp.cohorts
    return section_relevance(inp.directory, cohort, [t for t in inp.targets if t.active], inp.actions)


def plan_input(session: Session, partnership: Partnership, day: date) -> PlanInput:
    """Read everything the planner needs, once, into plain data."""
    inp = read_rule_input(session, partnership)
    return PlanInput(
        day=day,
        settings=MeetingSettings.from_partnership(partnership.meeting, partnership.timezone),
        directory=inp.directory,
        cohorts=inp.cohorts,
        targets=inp.targets,
        actions=inp.actions,
        last_discussed=last_discussed(session, partnership.id, day),
        privileged=privileged_members(inp.directory.members.values()),
    )


def plan_day(session: Session, partnership: Partnership, day: date) -> DayPlan:
    """The plan for one meeting day, read from the database; nothing is written."""
    return plan(plan_input(session, partnership, day))


def entitled_to(session: Session, partnership: Partnership, member_key: str, target_ref: str) -> bool:
    """Whether a member is entitled to a target now: the one rule, read from the partnership as it is at this
    moment. What the outbox asks again at delivery, for every message about a target."""
    member = session.scalar(select(Member).where(Member.partnership_id == partnership.id, Member.key == member_key))
    target = session.scalar(select(Target).where(Target.partnership_id == partnership.id, Target.ref == target_ref))
    if member is None or target is None or not member.active:
        return False
    from models.relevance import SectionsNow, is_entitled, runs_the_day  # noqa: PLC0415
    if runs_the_day(member):
        return True
    if target.status != TargetStatus.ACTIVE:
        return target.lead_id == member.id
    return is_entitled(member_key, target_ref, SectionsNow((cohort_relevance(session, partnership, target.cohort_id),)))
