"""The agenda planner: one section per cohort, in order, laid out around the breaks, with the invitations.

The core (`plan`) is a pure function of a `PlanInput` of plain data, so ordering, layout and reordering
are tested from tables without a database. `plan_day` is the thin edge that reads the entities once and
calls it. Nothing here writes: a plan is a proposal until the coordinator publishes it.

Times are handled as minutes after local midnight while planning (the meeting's wall clock is what people
agree to) and turned into aware datetimes in the partnership's time zone at the end, so a BST date and a
GMT date both start at the configured local time and land on the right UTC instant.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import permutations
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.action import Action, ActionStatus
from models.agenda_override import AgendaOverride, OverrideKind
from models.entitlement_cache import RuleView
from models.gc_pause import builds_acyclic
from models.meeting import Meeting, Section
from models.partnership import Agency, Cohort, Member, Partnership
from models.relevance import (
    ActionInfo,
    CohortInfo,
    Directory,
    Override,
    SectionRelevance,
    TargetInfo,
    TargetRelevance,
    cohort_info,
    directory_of,
    narrowed,
    privileged_members,
    runs_the_day,
    section_relevance,
    target_info,
    target_relevance,
    target_slots,
)
from models.target import Target, TargetStatus

# Every slot starts and ends on this grid (minutes): people can be told "10:35", never "10:37".
GRID = 5
# Minutes between one section and the next: the room changes over (partnership setting).
DEFAULT_CHANGEOVER = 5
# Up to this many sections, every order is tried (6! = 720 layouts); above it, a greedy insertion is used.
BRUTE_FORCE_LIMIT = 6
NATIONAL_REGIONAL = "national-regional"

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
    changeover_minutes: int = DEFAULT_CHANGEOVER

    @classmethod
    def from_partnership(cls, meeting: Mapping[str, Any] | None, timezone: str) -> MeetingSettings:
        """Read the partnership's `meeting` mapping (already validated when the file was loaded)."""
        meeting = meeting or {}
        breaks = tuple(Break(str(b["at"]), int(b["minutes"])) for b in meeting.get("breaks") or [] if b.get("at"))
        changeover = meeting.get("changeover_minutes")
        return cls(str(meeting.get("day_start") or "09:30"), breaks, bool(meeting.get("reorder_sections")),
                   timezone or "Europe/London", DEFAULT_CHANGEOVER if changeover is None else int(changeover))


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
    overrides: tuple[Override, ...] = ()


@dataclass(frozen=True)
class PlannedSlot:
    """One target's turn in its section: when, and who is entitled to be there (and why)."""

    target: str
    start: datetime  # aware, partnership time zone
    end: datetime
    relevance: TargetRelevance

    @property
    def members(self) -> tuple[str, ...]:
        return self.relevance.members

    @property
    def minutes(self) -> int:
        return int((self.end - self.start).total_seconds() // 60)


@dataclass(frozen=True)
class PlannedSection:
    cohort: str
    name: str
    start: datetime  # aware, partnership time zone
    end: datetime
    relevance: SectionRelevance
    slots: tuple[PlannedSlot, ...] = ()

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
    """A member's time in one section: from their first slot to their last, and those slots."""

    cohort: str
    start: datetime
    end: datetime
    slots: tuple[PlannedSlot, ...] = ()


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
    member_minutes_slots: int = 0  # minutes members spend in the room at their own slots
    member_minutes_sections: int = 0  # what it would be if each sat through every section they are in
    pairs_invited: int = 0  # (agency, target) pairs the rule invites
    pairs_possible: int = 0  # active agencies x targets on the agenda

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


def on_grid(minutes: int) -> int:
    """Rounded up to the 5-minute grid."""
    return -(-minutes // GRID) * GRID


def order_targets(targets: Iterable[TargetInfo], actions: Iterable[ActionInfo], day: date,
                  last_discussed: Mapping[str, date]) -> list[TargetInfo]:
    """Priority first; then targets with overdue open actions; then longest since discussed; then ref."""
    overdue = {a.target for a in actions if a.open and a.due is not None and a.due < day}
    return sorted(targets, key=lambda t: (t.priority, t.ref not in overdue,
                                          last_discussed.get(t.ref, date.min), t.ref))


def running_order(ordered: Sequence[TargetInfo], slots: Mapping[str, TargetRelevance],
                  directory: Directory) -> list[TargetInfo]:
    """The section's running order: the priority order of `ordered`, except that targets needing the same
    national or regional partners are brought together where the first of them falls, so each such partner
    comes for one run of slots, speaks to their targets and leaves."""
    def regional(t: TargetInfo) -> tuple[str, ...]:
        return tuple(sorted(a.key for a in slots[t.ref].agencies
                            if directory.agencies[a.key].category == NATIONAL_REGIONAL
                            and not directory.agencies[a.key].core))
    keys = [regional(t) for t in ordered]  # once per target
    groups: dict[tuple[str, ...], list[TargetInfo]] = {}
    for t, key in zip(ordered, keys, strict=True):
        groups.setdefault(key, []).append(t)
    result: list[TargetInfo] = []
    placed: set[tuple[str, ...]] = set()
    for t, key in zip(ordered, keys, strict=True):
        if not key:
            result.append(t)
        elif key not in placed:
            placed.add(key)
            result.extend(groups[key])
    return result


def slot_minutes(cohort: CohortInfo) -> int:
    """A target's slot: the cohort's minutes per target, on the grid (at least one grid step)."""
    return max(GRID, on_grid(cohort.minutes_per_target))


def section_minutes(cohort: CohortInfo, targets: int) -> int:
    return slot_minutes(cohort) * targets


def _clear_of_breaks(cursor: int, length: int, breaks: Sequence[Span]) -> int:
    """The first start at or after `cursor` where `length` minutes overlap no break (on the grid)."""
    moved = True
    while moved:
        moved = False
        for b_start, b_end in breaks:
            if cursor < b_end and cursor + length > b_start:
                cursor, moved = on_grid(b_end), True
    return cursor


def layout(sections: Sequence[Sequence[int]], day_start: int, breaks: Sequence[Span],
           changeover: int = DEFAULT_CHANGEOVER) -> list[list[Span]]:
    """Place each section's slots one after another from day_start, with a changeover between sections; a
    slot that would overlap a break starts after it (a section may span a break, a slot never does)."""
    placed: list[list[Span]] = []
    cursor = on_grid(day_start)
    for i, durations in enumerate(sections):
        if i and durations:
            cursor = on_grid(cursor + changeover)
        spans: list[Span] = []
        for d in durations:
            cursor = _clear_of_breaks(cursor, d, breaks)
            spans.append((cursor, cursor + d))
            cursor += d
        placed.append(spans)
    return placed


Attendance = Mapping[str, Sequence[tuple[int, int]]]  # member -> (section index, slot index) they attend


def waiting_minutes(spans: Mapping[int, Sequence[Span]], attendance: Attendance) -> int:
    """Minutes people spend between their own slots (from their first to their last), summed over everyone.

    `spans` maps section index to its slots' spans (sections not placed yet are ignored, for the greedy).
    """
    total = 0
    for slots in attendance.values():
        mine = [spans[i][j] for i, j in slots if i in spans]
        if len(mine) < 2:
            continue
        busy = sum(end - start for start, end in mine)
        total += max(end for _, end in mine) - min(start for start, _ in mine) - busy
    return total


def _cost(order: Sequence[int], durations: Sequence[Sequence[int]], day_start: int, breaks: Sequence[Span],
          attendance: Attendance, changeover: int) -> int:
    placed = layout([durations[i] for i in order], day_start, breaks, changeover)
    return waiting_minutes(dict(zip(order, placed, strict=True)), attendance)


def best_order(durations: Sequence[Sequence[int]], day_start: int, breaks: Sequence[Span],
               attendance: Attendance, changeover: int = DEFAULT_CHANGEOVER) -> tuple[int, ...]:
    """The section order with the least total waiting; ties keep the cohort order (earliest permutation)."""
    n = len(durations)
    original = tuple(range(n))

    def cost(order: Sequence[int]) -> int:
        return _cost(order, durations, day_start, breaks, attendance, changeover)

    best, best_cost = original, cost(original)
    if n <= BRUTE_FORCE_LIMIT:
        candidates: Iterable[tuple[int, ...]] = permutations(range(n))
    else:  # greedy insertion: place each section where it adds the least waiting so far
        order: list[int] = []
        for i in range(n):
            # later positions first, so a tie keeps the cohort order
            options = [order[:k] + [i] + order[k:] for k in range(len(order), -1, -1)]
            order = min(options, key=cost)
        candidates = [tuple(order)]
    for candidate in candidates:
        c = cost(candidate)
        if c < best_cost:
            best, best_cost = candidate, c
    return best


def _at(day: date, minutes: int, tz: ZoneInfo) -> datetime:
    """Local wall-clock minutes after midnight -> aware datetime (aware arithmetic keeps the wall clock)."""
    return datetime.combine(day, time(0), tzinfo=tz) + timedelta(minutes=minutes)


@builds_acyclic
def plan(inp: PlanInput) -> DayPlan:
    """The whole day from plain data: sections as running orders of target slots, times, who is entitled to
    each slot, itineraries, and the figures (waiting, member-minutes, agency-target pairs)."""
    tz = ZoneInfo(inp.settings.timezone)
    cohorts = sorted((c for c in inp.cohorts if c.active), key=lambda c: (c.order, c.key))
    drafts: list[tuple[CohortInfo, SectionRelevance]] = []
    for cohort in cohorts:
        mine = [t for t in inp.targets if t.active and t.cohort == cohort.key]
        if not mine:
            continue
        ordered = order_targets(mine, inp.actions, inp.day, inp.last_discussed)
        # the slots first (the rule for each target), then the section's union once, in the running order
        by_ref = target_slots(inp.directory, cohort, ordered, inp.actions, inp.overrides)
        running = running_order(ordered, by_ref, inp.directory)
        drafts.append((cohort, section_relevance(inp.directory, cohort, running, inp.actions, inp.overrides,
                                                 known=by_ref)))

    day_start = minutes_of(inp.settings.day_start)
    breaks = sorted((minutes_of(b.at), minutes_of(b.at) + b.minutes) for b in inp.settings.breaks)
    changeover = inp.settings.changeover_minutes
    durations = [[slot_minutes(c)] * len(rel.slots) for c, rel in drafts]
    attendance: dict[str, list[tuple[int, int]]] = {}
    for i, (_, rel) in enumerate(drafts):
        for j, slot in enumerate(rel.slots):
            for m in slot.members:
                attendance.setdefault(m, []).append((i, j))
    original = tuple(range(len(drafts)))
    before = _cost(original, durations, day_start, breaks, attendance, changeover)
    order = (best_order(durations, day_start, breaks, attendance, changeover) if inp.settings.reorder_sections
             else original)
    # the same order gives the same waiting (a pure function of it): not computed twice
    after = before if order == original else _cost(order, durations, day_start, breaks, attendance, changeover)

    placed = layout([durations[i] for i in order], day_start, breaks, changeover)
    sections: list[PlannedSection] = []
    notes: list[str] = []
    for i, spans in zip(order, placed, strict=True):
        cohort, rel = drafts[i]
        slots = tuple(PlannedSlot(s.ref, _at(inp.day, a, tz), _at(inp.day, b, tz), s)
                      for s, (a, b) in zip(rel.slots, spans, strict=True))
        for prev, nxt in zip(spans, spans[1:], strict=False):
            if nxt[0] > prev[1]:
                notes.append(f"{cohort.key}: a break falls between {hhmm(prev[1])} and {hhmm(nxt[0])}")
        sections.append(PlannedSection(cohort.key, cohort.name, slots[0].start, slots[-1].end, rel, slots))

    # each member's slots per section, in one pass over the slots (not members x slots)
    theirs: dict[str, dict[int, list[PlannedSlot]]] = {}
    for i, s in enumerate(sections):
        for planned in s.slots:
            for m in dict.fromkeys(planned.members):
                theirs.setdefault(m, {}).setdefault(i, []).append(planned)
    itineraries: dict[str, tuple[Stop, ...]] = {}
    for member in sorted(attendance):
        by_section = theirs.get(member, {})
        itineraries[member] = tuple(Stop(s.cohort, at[0].start, at[-1].end, tuple(at))
                                    for i, s in enumerate(sections) if (at := by_section.get(i)))
    # each member's stops hold each of their slots once (slot.members has no repeats): the minutes members spend at
    # their own slots are each slot's minutes times its members, summed per slot rather than per member and slot
    in_slots = sum(slot.minutes * len(slot.members) for s in sections for slot in s.slots)
    whole = sum(s.minutes for s in sections for _ in s.members)
    active_agencies = sum(1 for a in inp.directory.agencies.values() if a.active)
    slot_count = sum(len(s.slots) for s in sections)
    invited = sum(len(slot.relevance.agencies) for s in sections for slot in s.slots)
    return DayPlan(inp.day, inp.settings.timezone, tuple(sections), itineraries, before, after,
                   order != original, inp.privileged, tuple(notes), in_slots, whole, invited,
                   active_agencies * slot_count)


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
    """What the need-to-know rule reads, as plain data: the partnership's people, cohorts with their targets and
    open actions (all of them, or one cohort's), and the coordinator's overrides that apply."""

    directory: Directory
    cohorts: tuple[CohortInfo, ...]
    targets: tuple[TargetInfo, ...]
    actions: tuple[ActionInfo, ...]
    overrides: tuple[Override, ...] = ()
    skipped: frozenset[str] = frozenset()  # target refs that do not come up at the meeting planned


def read_overrides(session: Session, partnership: Partnership, *, day: date | None = None,
                   today: date | None = None) -> tuple[tuple[Override, ...], frozenset[str]]:
    """The coordinator's overrides that apply, and the targets skipped. A target's own add/drop applies always;
    a meeting's applies when planning that `day`, or, asked `today` (a showing or sending now), while that
    meeting is still to come or is today. Skips count only for the `day` planned."""
    rows = list(session.scalars(select(AgendaOverride).where(AgendaOverride.partnership_id == partnership.id)
                                .order_by(AgendaOverride.id)))
    overrides: list[Override] = []
    skipped: set[str] = set()
    for o in rows:
        ref = o.target.ref if o.target is not None else None
        if o.kind == OverrideKind.SKIP:
            if day is not None and o.day == day and ref:
                skipped.add(ref)
            continue
        applies = o.day is None or (day is not None and o.day == day) or (
            day is None and today is not None and o.day >= today)
        if applies and o.agency is not None:
            overrides.append(Override(o.agency.key, o.kind == OverrideKind.ADD, o.reason, ref))
    return tuple(overrides), frozenset(skipped)


@dataclass(frozen=True)
class People:
    """The part of the rule's input that every section shares: who exists, and the overrides that apply.
    Read once per request and reused for each section it asks about."""

    directory: Directory
    overrides: tuple[Override, ...] = ()
    skipped: frozenset[str] = frozenset()


def read_people(session: Session, partnership: Partnership, *, day: date | None = None,
                today: date | None = None) -> People:
    agencies = list(session.scalars(select(Agency).where(Agency.partnership_id == partnership.id)))
    members = list(session.scalars(select(Member).where(Member.partnership_id == partnership.id)))
    overrides, skipped = read_overrides(session, partnership, day=day, today=today)
    return People(directory_of(partnership, agencies, members), overrides, skipped)


def read_rule_input(session: Session, partnership: Partnership, *, cohort_id: int | None = None,
                    day: date | None = None, today: date | None = None, people: People | None = None) -> RuleInput:
    """One reading of the database for the rule, shared by the day's plan and every showing and sending.
    `people`, when the caller has already read them, are not read again."""
    pid = partnership.id
    people = people or read_people(session, partnership, day=day, today=today)
    cohort_q = select(Cohort).where(Cohort.partnership_id == pid)
    target_q = select(Target).where(Target.partnership_id == pid)
    if cohort_id is not None:
        cohort_q, target_q = cohort_q.where(Cohort.id == cohort_id), target_q.where(Target.cohort_id == cohort_id)
    cohorts = list(session.scalars(cohort_q))
    targets = list(session.scalars(target_q))
    action_q = select(Action.number, Action.target_id, Action.owner_id, Action.status, Action.due).where(
        Action.partnership_id == pid, Action.status == ActionStatus.OPEN)
    if cohort_id is not None:
        action_q = action_q.where(Action.target_id.in_([t.id for t in targets]))
    member_keys = dict(session.execute(select(Member.id, Member.key).where(Member.partnership_id == pid)).all())
    cohort_keys = {c.id: c.key for c in cohorts}
    target_refs = {t.id: t.ref for t in targets}
    actions = tuple(ActionInfo(n, target_refs.get(t, ""), member_keys.get(o, ""), st, due)
                    for n, t, o, st, due in session.execute(action_q).all())
    return RuleInput(
        directory=people.directory,
        cohorts=tuple(cohort_info(c) for c in cohorts),
        targets=tuple(target_info(t, cohort_keys, member_keys) for t in targets),
        actions=actions,
        overrides=people.overrides,
        skipped=people.skipped,
    )


def cohort_relevance(session: Session, partnership: Partnership, cohort_id: int, *,
                     today: date | None = None, people: People | None = None) -> SectionRelevance:
    """The rule applied now to one cohort's section: its active targets and their open actions, as the day's
    plan would apply it (same reading, same rule; the plan only adds order and times). `today` brings in the
    overrides of meetings still to come."""
    inp = read_rule_input(session, partnership, cohort_id=cohort_id, today=today, people=people)
    (cohort,) = inp.cohorts
    return section_relevance(inp.directory, cohort, [t for t in inp.targets if t.active], inp.actions,
                             inp.overrides)


@dataclass(frozen=True)
class RuleBase:
    """`People` plus what turns a target or an action row into the rule's plain data (cohorts by id, member keys by
    id): everything a showing needs besides the target's own row and its open actions. Read once per version of
    the partnership (models/entitlement_cache.py), not once per request."""

    people: People
    cohorts: Mapping[int, CohortInfo]
    member_keys: Mapping[int, str]

    @property
    def cohort_keys(self) -> dict[int, str]:
        return {i: c.key for i, c in self.cohorts.items()}


def read_rule_base(session: Session, partnership: Partnership, *, today: date | None = None) -> RuleBase:
    agencies = list(session.scalars(select(Agency).where(Agency.partnership_id == partnership.id)))
    members = list(session.scalars(select(Member).where(Member.partnership_id == partnership.id)))
    overrides, skipped = read_overrides(session, partnership, today=today)
    cohorts = session.scalars(select(Cohort).where(Cohort.partnership_id == partnership.id))
    return RuleBase(People(directory_of(partnership, agencies, members), overrides, skipped),
                    {c.id: cohort_info(c) for c in cohorts}, {m.id: m.key for m in members})


def _open_actions_of(session: Session, partnership: Partnership, base: RuleBase,
                     target_refs: Mapping[int, str]) -> tuple[ActionInfo, ...]:
    """The open actions on these targets (ids -> refs), as the rule's plain data (the same reading as
    `read_rule_input`'s, restricted to the targets asked about). The query filters on the targets alone and the
    status is checked here: with a filter on the partnership or the status too, SQLite's planner picks the
    partial index of open actions by (partnership, due) or the status index and reads every open action of the
    partnership (~12 ms at 6,500) instead of the targets' own rows through ix_action_target_id (the targets are
    the partnership's; closed actions of a target are its history, a few rows)."""
    q = select(Action.number, Action.target_id, Action.owner_id, Action.status, Action.due).where(
        Action.target_id.in_(list(target_refs)))
    return tuple(ActionInfo(n, target_refs.get(t, ""), base.member_keys.get(o, ""), st, due)
                 for n, t, o, st, due in session.execute(q).all() if st == ActionStatus.OPEN)


def slot_relevance(session: Session, partnership: Partnership, base: RuleBase, target: Target) -> TargetRelevance:
    """The rule for one target now: its slot exactly as `cohort_relevance` gives it (the slot of a target reads
    only the people, its cohort, its own row and its own open actions), without reading the rest of its section.
    What a showing of one target asks; the section is only needed when a question is about the whole section."""
    info = target_info(target, base.cohort_keys, base.member_keys)
    cohort = base.cohorts.get(target.cohort_id) or CohortInfo(info.cohort)
    actions = _open_actions_of(session, partnership, base, {target.id: target.ref})
    return target_relevance(base.people.directory, cohort, info, actions, base.people.overrides)


def missing_slot(session: Session, partnership: Partnership, base: RuleBase, cohort_id: int,
                 ref: str) -> TargetRelevance:
    """The same work as `slot_relevance` for a reference that does not exist (an action query that finds nothing,
    the rule applied to an empty slot), so that a refusal costs the same whether or not the reference exists."""
    cohort = base.cohorts.get(cohort_id) or CohortInfo("")
    actions = _open_actions_of(session, partnership, base, {-1: ref})
    return target_relevance(base.people.directory, cohort, TargetInfo(ref, cohort.key, ""), actions,
                            base.people.overrides)


def section_of(session: Session, partnership: Partnership, base: RuleBase, cohort_id: int) -> SectionRelevance:
    """`cohort_relevance` on a `RuleBase` already read: the cohort's active targets and their open actions."""
    targets = list(session.scalars(select(Target).where(Target.partnership_id == partnership.id,
                                                        Target.cohort_id == cohort_id)))
    infos = [target_info(t, base.cohort_keys, base.member_keys) for t in targets]
    actions = _open_actions_of(session, partnership, base, {t.id: t.ref for t in targets})
    cohort = base.cohorts.get(cohort_id) or CohortInfo("")
    return section_relevance(base.people.directory, cohort, [t for t in infos if t.active], actions,
                             base.people.overrides)


@builds_acyclic
def plan_input(session: Session, partnership: Partnership, day: date) -> PlanInput:
    """Read everything the planner needs, once, into plain data."""
    inp = read_rule_input(session, partnership, day=day)
    return PlanInput(
        day=day,
        settings=MeetingSettings.from_partnership(partnership.meeting, partnership.timezone),
        directory=inp.directory,
        cohorts=inp.cohorts,
        targets=tuple(t for t in inp.targets if t.ref not in inp.skipped),
        actions=inp.actions,
        last_discussed=last_discussed(session, partnership.id, day),
        privileged=privileged_members(inp.directory.members.values()),
        overrides=inp.overrides,
    )


def plan_day(session: Session, partnership: Partnership, day: date) -> DayPlan:
    """The plan for one meeting day, read from the database; nothing is written. Cached per version of the
    partnership and of each cohort (models/entitlement_cache.py): the same input gives the same plan."""
    plan_of: DayPlan = rule_view(session, partnership, None).plan(
        day, lambda: plan(plan_input(session, partnership, day)))
    return plan_of


def entitled_to(session: Session, partnership: Partnership, member_key: str, target_ref: str, *,
                now: datetime | None = None) -> bool:
    """Whether a member is entitled to a target now: the one rule, read from the partnership as it is at this
    moment (`now`, the job's clock, brings in the overrides of meetings still to come)."""
    return not not_entitled(session, partnership, member_key, (target_ref,), now=now)


def not_entitled(session: Session, partnership: Partnership, member_key: str, refs: Sequence[str], *,
                 now: datetime | None = None) -> list[str]:
    """The references among `refs` the member is not entitled to now (unknown ones included): what the outbox
    asks again at delivery, for every message about targets. Each cohort's section is computed once."""
    member = session.scalar(select(Member).where(Member.partnership_id == partnership.id, Member.key == member_key))
    if member is None or not member.active:
        return list(refs)
    if runs_the_day(member):
        known = set(session.scalars(select(Target.ref).where(Target.partnership_id == partnership.id,
                                                             Target.ref.in_(list(refs)))))
        return [r for r in refs if r not in known]
    targets = {t.ref: t for t in session.scalars(select(Target).where(Target.partnership_id == partnership.id,
                                                                      Target.ref.in_(list(refs))))}
    today = now.astimezone(ZoneInfo(partnership.timezone or "Europe/London")).date() if now else None
    view = rule_view(session, partnership, today)
    refused = []
    for ref in refs:
        target = targets.get(ref)
        if target is None:
            refused.append(ref)
            continue
        if target.status != TargetStatus.ACTIVE:
            if not (target.lead_id == member.id and not narrowed(member)):
                refused.append(ref)
            continue
        slot = target_slot(view, target)
        if slot is None or member_key not in slot.members:
            refused.append(ref)
    return refused


# ------------------------------------------------------------------ the rule now, cached per version


def rule_view(session: Session, partnership: Partnership, today: date | None) -> RuleView:
    """A view of the rule for one request or one delivery (models/entitlement_cache.py)."""
    return RuleView(session, partnership, today)


def rule_base(view: RuleView) -> RuleBase:
    base: RuleBase = view.base(lambda: read_rule_base(view.session, view.partnership, today=view.today))
    return base


def section_now(view: RuleView, cohort_id: int) -> SectionRelevance:
    """`cohort_relevance` now, through the cache: the same reading and the same rule as the day's plan."""
    return view.section(cohort_id, lambda: section_of(view.session, view.partnership, rule_base(view), cohort_id))


def target_slot(view: RuleView, target: Target) -> TargetRelevance | None:
    """The target's slot as `cohort_relevance` gives it now (its section's `slot(ref)`; None if it is not on the
    section, e.g. closed), through the cache."""
    return view.slot(target.cohort_id, target.ref,
                     lambda: slot_relevance(view.session, view.partnership, rule_base(view), target),
                     lambda: section_of(view.session, view.partnership, rule_base(view), target.cohort_id))


def missing_target_slot(view: RuleView, cohort_id: int, ref: str) -> None:
    """`target_slot`'s work for a reference that does not exist, on the cohort chosen for it: no timing oracle."""
    view.slot(cohort_id, ref, lambda: missing_slot(view.session, view.partnership, rule_base(view), cohort_id, ref),
              lambda: section_of(view.session, view.partnership, rule_base(view), cohort_id))
