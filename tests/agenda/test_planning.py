"""The planner's pure core: target order, running order of 5-minute slots around breaks, time zones, reordering
for fatigue, and the figures (member-minutes in the room, agency-target pairs)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.planning import (
    BRUTE_FORCE_LIMIT,
    GRID,
    Break,
    MeetingSettings,
    PlanInput,
    best_order,
    layout,
    order_targets,
    plan,
    running_order,
    section_minutes,
    slot_minutes,
    waiting_minutes,
)
from models.relevance import (
    ActionInfo,
    AgencyInfo,
    AgencyInvite,
    CohortInfo,
    Directory,
    MemberInfo,
    TargetInfo,
    TargetRelevance,
)

DAY = date(2026, 12, 3)


def target(ref: str, priority: int = 2, cohort: str = "a", lead: str = "la") -> TargetInfo:
    return TargetInfo(ref, cohort, lead, (), priority)


ORDER_CASES = [
    pytest.param([target("B", 2), target("A", 1), target("C", 3)], [], {}, ["A", "B", "C"], id="priority"),
    pytest.param([target("B"), target("A")], [], {}, ["A", "B"], id="ref-for-stability"),
    pytest.param([target("A"), target("B"), target("C", 1)],
                 [ActionInfo(1, "B", "x", "open", date(2026, 12, 2))], {}, ["C", "B", "A"],
                 id="overdue-first-within-priority"),
    pytest.param([target("A"), target("B")], [ActionInfo(1, "B", "x", "open", DAY)], {}, ["A", "B"],
                 id="due-on-the-day-is-not-overdue"),
    pytest.param([target("A"), target("B")], [ActionInfo(1, "B", "x", "done", date(2026, 1, 1))], {},
                 ["A", "B"], id="done-action-is-not-overdue"),
    pytest.param([target("A"), target("B")], [ActionInfo(1, "B", "x", "open", None)], {}, ["A", "B"],
                 id="no-due-date-is-not-overdue"),
    pytest.param([target("A"), target("B"), target("C")], [],
                 {"A": date(2026, 11, 19), "B": date(2026, 10, 22)}, ["C", "B", "A"],
                 id="never-discussed-then-longest-since"),
    pytest.param([target("A"), target("B", 1)], [ActionInfo(1, "A", "x", "open", date(2026, 1, 1))],
                 {"B": date(2026, 11, 19)}, ["B", "A"], id="priority-beats-overdue-and-history"),
    pytest.param([target("A"), target("B")], [ActionInfo(1, "A", "x", "open", date(2026, 1, 1))],
                 {"A": date(2026, 11, 19)}, ["A", "B"], id="overdue-beats-history"),
]


@pytest.mark.parametrize(("targets", "actions", "history", "expected"), ORDER_CASES)
def test_order_targets(targets: list[TargetInfo], actions: list[ActionInfo], history: dict[str, date],
                       expected: list[str]) -> None:
    assert [t.ref for t in order_targets(targets, actions, DAY, history)] == expected


@pytest.mark.parametrize(("minutes", "slot"), [(7, 10), (10, 10), (1, 5), (12, 15), (0, 5)])
def test_slots_are_on_the_five_minute_grid(minutes: int, slot: int) -> None:
    assert GRID == 5
    assert slot_minutes(CohortInfo("a", minutes_per_target=minutes)) == slot
    assert section_minutes(CohortInfo("a", minutes_per_target=minutes), 3) == 3 * slot


H = 60
LAYOUT_CASES = [
    pytest.param([[10, 10], [10]], 9 * H, [], 5, [[(540, 550), (550, 560)], [(565, 575)]], id="changeover"),
    pytest.param([[10], [10]], 9 * H, [], 0, [[(540, 550)], [(550, 560)]], id="no-changeover"),
    pytest.param([[10, 10, 10]], 9 * H, [(560, 575)], 5, [[(540, 550), (550, 560), (575, 585)]],
                 id="a-section-spans-a-break-between-slots"),
    pytest.param([[10, 10]], 9 * H, [(555, 565)], 5, [[(540, 550), (565, 575)]], id="a-slot-never-straddles"),
    pytest.param([[10]], 9 * H + 2, [], 5, [[(545, 555)]], id="day-start-rounded-up-to-the-grid"),
    pytest.param([[10]], 9 * H, [(540, 557)], 5, [[(560, 570)]], id="after-a-break-back-on-the-grid"),
    pytest.param([[10], []], 9 * H, [], 5, [[(540, 550)], []], id="empty-section"),
]


@pytest.mark.parametrize(("durations", "start", "breaks", "changeover", "expected"), LAYOUT_CASES)
def test_layout(durations: list[list[int]], start: int, breaks: list[tuple[int, int]], changeover: int,
                expected: list[list[tuple[int, int]]]) -> None:
    assert layout(durations, start, breaks, changeover) == expected


@given(
    sections=st.lists(st.lists(st.sampled_from([5, 10, 15, 20]), min_size=1, max_size=6), min_size=1, max_size=6),
    start=st.integers(6 * H, 11 * H),
    breaks=st.lists(st.tuples(st.integers(6 * H, 18 * H), st.integers(1, 90)), max_size=4),
)
def test_no_slot_ever_straddles_a_break_and_all_are_on_the_grid(
        sections: list[list[int]], start: int, breaks: list[tuple[int, int]]) -> None:
    placed = layout(sections, start, [(b, b + m) for b, m in sorted(breaks)])
    flat = [span for spans in placed for span in spans]
    assert [[e - s for s, e in spans] for spans in placed] == sections
    assert flat[0][0] >= start
    for (_, end), (nxt, _) in zip(flat, flat[1:], strict=False):
        assert nxt >= end
    for s, e in flat:
        assert s % GRID == 0 and e % GRID == 0
        for b, m in breaks:
            assert e <= b or s >= b + m, f"slot {s}-{e} overlaps break {b}-{b + m}"


def slot(ref: str, *agencies: str) -> TargetRelevance:
    return TargetRelevance(ref, "s", "l", tuple(AgencyInvite(a, ("x",)) for a in agencies), (), ())


def test_running_order_brings_each_national_partners_slots_together() -> None:
    directory = Directory.of("v1", [AgencyInfo("pol", (), "v1", category="statutory", core=True),
                                    AgencyInfo("dwp", (), "v1", category="national-regional"),
                                    AgencyInfo("dvla", (), "v1", category="national-regional")], [])
    ordered = [target(r) for r in ("T1", "T2", "T3", "T4", "T5", "T6")]
    slots = {"T1": slot("T1", "pol"), "T2": slot("T2", "pol", "dwp"), "T3": slot("T3", "dvla"),
             "T4": slot("T4", "pol", "dwp"), "T5": slot("T5"), "T6": slot("T6", "dvla")}
    assert [t.ref for t in running_order(ordered, slots, directory)] == ["T1", "T2", "T4", "T3", "T6", "T5"]


# ------------------------------------------------------------------------------ whole-day plans

DIRECTORY = Directory.of(
    "v1",
    [AgencyInfo("pol", (), "v1")],
    [MemberInfo("la", "pol", ("a",)), MemberInfo("lb", "pol", ("b",)), MemberInfo("lc", "pol", ("c",)),
     MemberInfo("x", "pol", ("a", "c")), MemberInfo("boss", "pol", (), roles=("chair",))],
)


def day_input(day: date = DAY, *, reorder: bool = False, breaks: tuple[Break, ...] = (),
              cohorts: tuple[CohortInfo, ...] | None = None, targets: tuple[TargetInfo, ...] | None = None,
              day_start: str = "09:00", directory: Directory = DIRECTORY) -> PlanInput:
    """Three sections a (one 10-minute slot), b (two), c (one); x attends a and c, so waits through b."""
    cohorts = cohorts or (CohortInfo("a", order=1), CohortInfo("b", order=2), CohortInfo("c", order=3))
    targets = targets or (target("A1", cohort="a", lead="la"), target("B1", cohort="b", lead="lb"),
                          target("B2", cohort="b", lead="lb"), target("C1", cohort="c", lead="lc"))
    return PlanInput(day, MeetingSettings(day_start, breaks, reorder, "Europe/London"), directory,
                     cohorts, targets, privileged=frozenset({"boss"}))


def hm(dt: datetime) -> str:
    return dt.strftime("%H:%M")


def test_sections_are_running_orders_of_slots_with_times_and_members() -> None:
    p = plan(day_input())
    assert [(s.cohort, hm(s.start), hm(s.end)) for s in p.sections] == [
        ("a", "09:00", "09:10"), ("b", "09:15", "09:35"), ("c", "09:40", "09:50")]
    assert [[(sl.target, hm(sl.start), hm(sl.end)) for sl in s.slots] for s in p.sections] == [
        [("A1", "09:00", "09:10")], [("B1", "09:15", "09:25"), ("B2", "09:25", "09:35")], [("C1", "09:40", "09:50")]]
    assert [s.members for s in p.sections] == [("la", "x"), ("lb",), ("lc", "x")]
    assert [(st.cohort, hm(st.start), [sl.target for sl in st.slots]) for st in p.itineraries["x"]] == [
        ("a", "09:00", ["A1"]), ("c", "09:40", ["C1"])]
    assert p.waiting_before == p.waiting_after == 30
    assert not p.reordered
    assert p.privileged == frozenset({"boss"})


def test_a_member_is_in_the_room_only_for_their_own_slots() -> None:
    directory = Directory.of("v1", [AgencyInfo("pol", (), "v1"),
                                    AgencyInfo("dwp", ("benefits",), "v1", category="national-regional")],
                             [MemberInfo("la", "pol", ("a",)), MemberInfo("sam", "dwp", (), spoc=True)])
    targets = tuple(target(f"A{i}", cohort="a", lead="la") for i in range(1, 5)) + (
        TargetInfo("A5", "a", "la", ("benefits",), 3),)
    p = plan(day_input(directory=directory, targets=targets, cohorts=(CohortInfo("a"),)))
    (section,) = p.sections
    assert [sl.target for sl in section.slots] == ["A1", "A2", "A3", "A4", "A5"]
    assert [(hm(st.start), hm(st.end)) for st in p.itineraries["sam"]] == [("09:40", "09:50")]
    assert section.slots[-1].relevance.why["sam"] == ("flag:benefits (A5)",)
    assert (p.member_minutes_slots, p.member_minutes_sections) == (50 + 10, 50 + 50)
    assert (p.pairs_invited, p.pairs_possible) == (6, 10)


def test_cohort_without_active_targets_or_inactive_is_skipped() -> None:
    cohorts = (CohortInfo("a", order=2), CohortInfo("b", order=1, active=False), CohortInfo("c", order=3),
               CohortInfo("d", order=0))
    targets = (target("A1", cohort="a"), target("B1", cohort="b"),
               TargetInfo("C1", "c", "lc", (), 2, active=False))
    assert [s.cohort for s in plan(day_input(cohorts=cohorts, targets=targets)).sections] == ["a"]


def test_a_break_falls_between_slots_in_a_plan() -> None:
    p = plan(day_input(breaks=(Break("09:20", 15),)))
    assert [[(sl.target, hm(sl.start)) for sl in s.slots] for s in p.sections] == [
        [("A1", "09:00")], [("B1", "09:35"), ("B2", "09:45")], [("C1", "10:00")]]
    assert p.waiting_before == 50  # x waits from 09:10 to 10:00, break included
    assert not any("b: a break falls" in n for n in p.notes)
    q = plan(day_input(breaks=(Break("09:25", 10),)))
    assert [(sl.target, hm(sl.start)) for sl in q.sections[1].slots] == [("B1", "09:15"), ("B2", "09:35")]
    assert "b: a break falls between 09:25 and 09:35" in q.notes


@pytest.mark.parametrize(("day", "utc"), [
    pytest.param(date(2026, 7, 2), datetime(2026, 7, 2, 8, 30, tzinfo=UTC), id="BST"),
    pytest.param(date(2026, 12, 3), datetime(2026, 12, 3, 9, 30, tzinfo=UTC), id="GMT"),
    pytest.param(date(2026, 3, 30), datetime(2026, 3, 30, 8, 30, tzinfo=UTC), id="day-after-clocks-go-forward"),
    pytest.param(date(2026, 10, 26), datetime(2026, 10, 26, 9, 30, tzinfo=UTC), id="day-after-clocks-go-back"),
])
def test_day_start_is_london_local_time(day: date, utc: datetime) -> None:
    p = plan(day_input(day, day_start="09:30"))
    first = p.sections[0].start
    assert first.tzinfo is not None
    assert hm(first) == "09:30"
    assert first.astimezone(UTC) == utc
    assert p.sections[-1].end.astimezone(UTC) == utc.replace(minute=20, hour=utc.hour + 1)


def test_reordering_removes_waiting_for_the_multi_section_member() -> None:
    p = plan(day_input(reorder=True))
    assert [s.cohort for s in p.sections] == ["a", "c", "b"]  # first best order; cohort order on ties
    assert (p.waiting_before, p.waiting_after) == (30, 5)  # only the changeover is left
    assert p.reordered
    assert [(st.cohort, hm(st.start), hm(st.end)) for st in p.itineraries["x"]] == [
        ("a", "09:00", "09:10"), ("c", "09:15", "09:25")]


def test_reordering_keeps_cohort_order_when_nothing_improves() -> None:
    targets = (target("A1", cohort="a", lead="la"), target("C1", cohort="c", lead="lc"))
    p = plan(day_input(reorder=True, targets=targets))
    assert [s.cohort for s in p.sections] == ["a", "c"]
    assert (p.waiting_before, p.waiting_after, p.reordered) == (5, 5, False)


def test_waiting_minutes_counts_people_and_gaps() -> None:
    spans = {0: [(0, 10)], 1: [(10, 20), (20, 30)], 2: [(30, 40)], 3: [(50, 60)]}
    attendance = {"p": [(0, 0), (2, 0)], "q": [(1, 0), (1, 1)], "r": [(0, 0), (1, 1), (3, 0)], "s": [(9, 0)]}
    assert waiting_minutes(spans, attendance) == 20 + 0 + (60 - 0 - 30)


def test_greedy_beyond_the_brute_force_limit() -> None:
    n = BRUTE_FORCE_LIMIT + 1
    durations = [[10]] * n
    attendance = {"p": [(0, 0), (n - 1, 0)], "q": [(0, 0), (n - 1, 0)], "r": [(3, 0)]}
    order = best_order(durations, 540, [], attendance, 0)
    assert sorted(order) == list(range(n))
    cost = waiting_minutes(dict(zip(order, layout([[10]] * n, 540, [], 0), strict=True)), attendance)
    assert cost == 0
    assert order[:2] == (0, n - 1) and list(order[2:]) == list(range(1, n - 1))
