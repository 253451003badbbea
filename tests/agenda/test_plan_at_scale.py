"""The planner's shortcuts for big partnerships give what the plain computation gives, on a generated partnership of
medium size (a few hundred targets: big enough for every kind of slot, breaks and shared national partners, small
enough for a unit test), and the pause of the cyclic collector while a plan is built is invisible outside it.

No timing is asserted here: benchmarks/plan.py measures (issue 14)."""

from __future__ import annotations

import gc
import threading
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from commands.agenda.plan_json import hhmm, to_json
from models.gc_pause import builds_acyclic, gc_paused
from models.planning import (
    Break,
    DayPlan,
    MeetingSettings,
    PlanInput,
    _cost,
    layout,
    order_targets,
    plan,
    running_order,
    slot_minutes,
)
from models.relevance import (
    ActionInfo,
    AgencyInfo,
    CohortInfo,
    Directory,
    MemberInfo,
    Override,
    TargetInfo,
    section_relevance,
    target_slots,
)

COHORTS = ("ocg", "county", "fraud", "youth", "cyber")
AGENCIES = (("pol", ("ocg",), "statutory", True), ("la", ("benefits",), "statutory", True),
            ("dwp", ("benefits",), "national-regional", False), ("dvla", ("vehicles",), "national-regional", False),
            ("hmrc", ("tax",), "national-regional", False), ("prob", (), "statutory", False),
            ("health", ("vulnerable",), "health", False), ("fire", (), "emergency", False))
FLAGS = ("benefits", "vehicles", "tax", "vulnerable", "ocg")


def partnership(n_targets: int, *, reorder: bool) -> PlanInput:
    """Agencies (one without the current ISP), members attending cohorts (an analyst, a chair, SPOCs, an inactive
    one), targets with mixed flags and priorities, open actions with due dates around the day, overrides."""
    agencies = [AgencyInfo(key, flags, "v2" if key != "fire" else "v1", True, category, core)
                for key, flags, category, core in AGENCIES]
    members = [MemberInfo(f"{a.key}.{i}", a.key, tuple(c for j, c in enumerate(COHORTS) if (i + j) % 3 == 0),
                          spoc=i == 0, active=i != 3, roles=("analyst",) if (a.key, i) == ("la", 2) else ())
               for a in agencies for i in range(5)]
    members.append(MemberInfo("chair", "pol", (), roles=("chair",)))
    directory = Directory.of("v2", agencies, members)
    cohorts = tuple(CohortInfo(key, ("pol", "la") if i % 2 else ("pol",), order=i, minutes_per_target=(7, 10, 5)[i % 3],
                               name=key.title()) for i, key in enumerate(COHORTS))
    leads = [m.key for m in members if m.agency in ("pol", "la", "prob")]
    targets = tuple(TargetInfo(f"T-{i:04d}", COHORTS[i % len(COHORTS)], leads[i % len(leads)],
                               tuple(FLAGS[j] for j in range(len(FLAGS)) if (i >> j) % 3 == 0), 1 + i % 3,
                               active=i % 17 != 0) for i in range(n_targets))
    day = date(2026, 3, 31)  # the first Tuesday of British Summer Time
    actions = tuple(ActionInfo(n, f"T-{(n * 7) % n_targets:04d}", members[(n * 5) % len(members)].key,
                               due=day + timedelta(days=n % 21 - 10)) for n in range(1, n_targets // 4 + 1))
    overrides = (Override("hmrc", True, "VAT fraud", "T-0003"), Override("dwp", False, "not needed", None),
                 Override("health", True, "safeguarding", None))
    settings = MeetingSettings("09:30", (Break("11:00", 15), Break("13:00", 45)), reorder, "Europe/London")
    return PlanInput(day, settings, directory, cohorts, targets, actions,
                     {f"T-{i:04d}": day - timedelta(days=7 * (i % 9 + 1)) for i in range(0, n_targets, 4)},
                     frozenset({"chair"}), overrides)


@pytest.mark.parametrize("reorder", [False, True])
def test_figures_are_the_plain_computation_on_a_medium_partnership(reorder: bool) -> None:
    inp = partnership(400, reorder=reorder)
    p = plan(inp)
    assert sum(len(s.slots) for s in p.sections) == sum(1 for t in inp.targets if t.active)
    # minutes members spend at their own slots, summed member by member over their itineraries (as it was written)
    assert p.member_minutes_slots == sum(slot.minutes for stops in p.itineraries.values() for stop in stops
                                         for slot in stop.slots)
    assert p.member_minutes_slots > 0
    # waiting in the order chosen, computed afresh from the plan's own sections (not taken over from `before`)
    by_cohort = {c.key: c for c in inp.cohorts}
    durations = [[slot_minutes(by_cohort[s.cohort])] * len(s.slots) for s in p.sections]
    attendance: dict[str, list[tuple[int, int]]] = {}
    for i, s in enumerate(p.sections):
        for j, planned in enumerate(s.slots):
            for m in planned.members:
                attendance.setdefault(m, []).append((i, j))
    order = tuple(range(len(p.sections)))
    assert p.waiting_after == _cost(order, durations, 9 * 60 + 30, [(660, 675), (780, 825)], attendance, 5)
    assert p.reordered or p.waiting_after == p.waiting_before
    starts = layout(durations, 9 * 60 + 30, [(660, 675), (780, 825)])
    assert [hhmm(s.slots[0].start) for s in p.sections] == [f"{a // 60 % 24:02d}:{a % 60:02d}" for (a, _), *_ in starts]


def test_sections_are_the_rule_applied_as_it_was_on_a_medium_partnership() -> None:
    """Each section as the planner built it before it computed the slots once and the union once: the rule on the
    priority order, then again on the running order with the slots already known."""
    inp = partnership(400, reorder=False)
    p = plan(inp)
    expected, regrouped = [], 0
    for cohort in sorted(inp.cohorts, key=lambda c: (c.order, c.key)):
        mine = [t for t in inp.targets if t.active and t.cohort == cohort.key]
        ordered = order_targets(mine, inp.actions, inp.day, inp.last_discussed)
        first = section_relevance(inp.directory, cohort, ordered, inp.actions, inp.overrides)
        by_ref = {s.ref: s for s in first.slots}
        running = running_order(ordered, by_ref, inp.directory)
        regrouped += running != ordered
        expected.append(first if running == ordered else
                        section_relevance(inp.directory, cohort, running, inp.actions, inp.overrides, known=by_ref))
    assert [s.relevance for s in p.sections] == expected
    assert regrouped  # the case brings national partners' slots together somewhere
    assert any(len(s.slots) > 1 and s.relevance.excluded for s in p.sections)  # the case has exclusions
    assert any(e.reason.startswith("dropped") for s in p.sections for e in s.relevance.excluded)


def test_target_slots_are_the_sections_slots() -> None:
    inp = partnership(200, reorder=False)
    for cohort in inp.cohorts:
        mine = [t for t in inp.targets if t.cohort == cohort.key]
        rel = section_relevance(inp.directory, cohort, mine, inp.actions, inp.overrides)
        slots = target_slots(inp.directory, cohort, mine, inp.actions, inp.overrides)
        assert tuple(slots.values()) == rel.slots
        backwards = mine[::-1]
        assert (section_relevance(inp.directory, cohort, backwards, inp.actions, inp.overrides, known=slots)
                == section_relevance(inp.directory, cohort, backwards, inp.actions, inp.overrides))
        half = dict(list(slots.items())[::2])  # some known, the others computed
        assert (section_relevance(inp.directory, cohort, backwards, inp.actions, inp.overrides, known=half)
                == section_relevance(inp.directory, cohort, backwards, inp.actions, inp.overrides))


def _times(value: object) -> list[str]:
    """Every "start" and "end" in a JSON plan, in order."""
    if isinstance(value, dict):
        return [v for k, v in value.items() if k in ("start", "end")] + [t for v in value.values() for t in _times(v)]
    if isinstance(value, list):
        return [t for v in value for t in _times(v)]
    return []


def _strftime_times(p: DayPlan) -> list[str]:
    """The same times as the JSON plan's, written by strftime (as it was)."""
    def hm(when: datetime) -> str:
        return when.strftime("%H:%M")
    out = []
    for s in p.sections:
        out += [hm(s.start), hm(s.end)]
        for slot in s.slots:
            out += [hm(slot.start), hm(slot.end)]
    for stops in p.itineraries.values():
        for stop in stops:
            out += [hm(stop.start), hm(stop.end)]
    return out


def test_json_times_are_strftimes_on_a_medium_partnership() -> None:
    p = plan(partnership(400, reorder=True))
    assert _times(to_json(p)) == _strftime_times(p)


@pytest.mark.parametrize("day", [date(2026, 3, 29), date(2026, 10, 25), date(2026, 12, 8)])
def test_hhmm_is_strftime_across_the_clock_changes(day: date) -> None:
    tz = ZoneInfo("Europe/London")
    start = datetime.combine(day, datetime.min.time(), tzinfo=tz)
    for minutes in range(0, 48 * 60, 5):
        when = start + timedelta(minutes=minutes)
        assert hhmm(when) == when.strftime("%H:%M")
        assert hhmm(when.timetz()) == when.timetz().strftime("%H:%M")


# ----------------------------------------------------------------------- the collector's pause


def test_the_collector_is_paused_inside_and_restored_after() -> None:
    assert gc.isenabled()
    seen: list[bool] = []

    @builds_acyclic
    def build() -> int:
        seen.append(gc.isenabled())
        with gc_paused():  # nested: still paused, and not resumed by the inner end
            seen.append(gc.isenabled())
        seen.append(gc.isenabled())
        return 42

    assert build() == 42
    assert seen == [False, False, False]
    assert gc.isenabled()


def test_the_collector_is_restored_after_an_error() -> None:
    @builds_acyclic
    def fail() -> None:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        fail()
    assert gc.isenabled()


def test_a_disabled_collector_stays_disabled() -> None:
    gc.disable()
    try:
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_pauses_in_two_threads_resume_the_collector_only_when_both_end() -> None:
    inside, release = threading.Event(), threading.Event()

    def other() -> None:
        with gc_paused():
            inside.set()
            release.wait(5)

    thread = threading.Thread(target=other)
    with gc_paused():
        thread.start()
        assert inside.wait(5)
    assert not gc.isenabled()  # the other thread's pause is still going on
    release.set()
    thread.join(5)
    assert gc.isenabled()


def test_planning_leaves_the_collector_on() -> None:
    p = plan(partnership(50, reorder=False))
    to_json(p)
    assert gc.isenabled()
