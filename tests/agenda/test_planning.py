"""The planner's pure core: target order, layout around breaks, time zones, and reordering for fatigue."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.planning import (
    ACTIONS_SLOT_MINUTES,
    BRUTE_FORCE_LIMIT,
    Break,
    MeetingSettings,
    PlanInput,
    best_order,
    layout,
    order_targets,
    plan,
    section_minutes,
    waiting_minutes,
)
from models.relevance import ActionInfo, AgencyInfo, CohortInfo, Directory, MemberInfo, TargetInfo

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


def test_section_minutes_include_the_actions_slot() -> None:
    assert ACTIONS_SLOT_MINUTES == 5
    assert section_minutes(CohortInfo("a", minutes_per_target=7), 3) == 26


H = 60
LAYOUT_CASES = [
    pytest.param([30, 30], 9 * H, [], [(540, 570), (570, 600)], id="back-to-back"),
    pytest.param([60, 30], 9 * H, [(10 * H, 10 * H + 15)], [(540, 600), (615, 645)],
                 id="ends-exactly-at-break"),
    pytest.param([45, 30], 9 * H, [(600, 615)], [(540, 585), (615, 645)], id="would-straddle-starts-after"),
    pytest.param([30], 9 * H + 30, [(540, 560)], [(570, 600)], id="break-before-day-start-ignored"),
    pytest.param([30], 9 * H, [(540, 560)], [(560, 590)], id="day-starts-in-a-break"),
    pytest.param([100], 9 * H, [(600, 615), (660, 690)], [(690, 790)], id="too-long-for-two-windows"),
    pytest.param([20, 20], 9 * H, [(560, 570), (590, 600)], [(540, 560), (570, 590)], id="between-breaks"),
    pytest.param([20, 25], 9 * H, [(560, 570), (590, 600)], [(540, 560), (600, 625)], id="skips-a-short-window"),
]


@pytest.mark.parametrize(("durations", "start", "breaks", "expected"), LAYOUT_CASES)
def test_layout(durations: list[int], start: int, breaks: list[tuple[int, int]],
                expected: list[tuple[int, int]]) -> None:
    assert layout(durations, start, breaks) == expected


@given(
    durations=st.lists(st.integers(1, 200), min_size=1, max_size=8),
    start=st.integers(6 * H, 11 * H),
    breaks=st.lists(st.tuples(st.integers(6 * H, 18 * H), st.integers(1, 90)), max_size=4),
)
def test_no_section_ever_straddles_a_break(durations: list[int], start: int,
                                           breaks: list[tuple[int, int]]) -> None:
    spans = layout(durations, start, [(b, b + m) for b, m in sorted(breaks)])
    assert [e - s for s, e in spans] == durations
    assert spans[0][0] >= start
    for (_, end), (nxt, _) in zip(spans, spans[1:], strict=False):
        assert nxt >= end
    for s, e in spans:
        for b, m in breaks:
            assert e <= b or s >= b + m, f"section {s}-{e} overlaps break {b}-{b + m}"


# ------------------------------------------------------------------------------ whole-day plans

DIRECTORY = Directory.of(
    "v1",
    [AgencyInfo("pol", (), "v1")],
    [MemberInfo("la", "pol", ("a",)), MemberInfo("lb", "pol", ("b",)), MemberInfo("lc", "pol", ("c",)),
     MemberInfo("x", "pol", ("a", "c")), MemberInfo("boss", "pol", (), roles=("chair",))],
)


def day_input(day: date = DAY, *, reorder: bool = False, breaks: tuple[Break, ...] = (),
              cohorts: tuple[CohortInfo, ...] | None = None, targets: tuple[TargetInfo, ...] | None = None,
              day_start: str = "09:00") -> PlanInput:
    """Three sections a (15 min), b (25 min), c (15 min); x attends a and c, so waits through b."""
    cohorts = cohorts or (CohortInfo("a", order=1), CohortInfo("b", order=2), CohortInfo("c", order=3))
    targets = targets or (target("A1", cohort="a", lead="la"), target("B1", cohort="b", lead="lb"),
                          target("B2", cohort="b", lead="lb"), target("C1", cohort="c", lead="lc"))
    return PlanInput(day, MeetingSettings(day_start, breaks, reorder, "Europe/London"), DIRECTORY,
                     cohorts, targets, privileged=frozenset({"boss"}))


def hm(dt: datetime) -> str:
    return dt.strftime("%H:%M")


def test_sections_in_cohort_order_with_times_and_members() -> None:
    p = plan(day_input())
    assert [(s.cohort, hm(s.start), hm(s.end)) for s in p.sections] == [
        ("a", "09:00", "09:15"), ("b", "09:15", "09:40"), ("c", "09:40", "09:55")]
    assert [s.members for s in p.sections] == [("la", "x"), ("lb",), ("lc", "x")]
    assert [(st.cohort, hm(st.start)) for st in p.itineraries["x"]] == [("a", "09:00"), ("c", "09:40")]
    assert p.waiting_before == p.waiting_after == 25
    assert not p.reordered
    assert p.privileged == frozenset({"boss"})


def test_cohort_without_active_targets_or_inactive_is_skipped() -> None:
    cohorts = (CohortInfo("a", order=2), CohortInfo("b", order=1, active=False), CohortInfo("c", order=3),
               CohortInfo("d", order=0))
    targets = (target("A1", cohort="a"), target("B1", cohort="b"),
               TargetInfo("C1", "c", "lc", (), 2, active=False))
    assert [s.cohort for s in plan(day_input(cohorts=cohorts, targets=targets)).sections] == ["a"]


def test_break_is_not_straddled_in_a_plan() -> None:
    p = plan(day_input(breaks=(Break("09:30", 15),)))
    assert [(s.cohort, hm(s.start), hm(s.end)) for s in p.sections] == [
        ("a", "09:00", "09:15"), ("b", "09:45", "10:10"), ("c", "10:10", "10:25")]
    assert p.waiting_before == 55  # x waits from 09:15 to 10:10, break included
    assert any("b: starts at 09:45, after a break" in n for n in p.notes)


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
    assert p.sections[-1].end.astimezone(UTC) == utc.replace(minute=25, hour=utc.hour + 1)


def test_reordering_removes_waiting_for_the_multi_section_member() -> None:
    p = plan(day_input(reorder=True))
    assert [s.cohort for s in p.sections] == ["a", "c", "b"]  # first best order; cohort order on ties
    assert (p.waiting_before, p.waiting_after) == (25, 0)
    assert p.reordered
    assert [(st.cohort, hm(st.start), hm(st.end)) for st in p.itineraries["x"]] == [
        ("a", "09:00", "09:15"), ("c", "09:15", "09:30")]


def test_reordering_keeps_cohort_order_when_nothing_improves() -> None:
    # x attends a and c; with no b there is nothing to wait for, so the cohort order stays.
    targets = (target("A1", cohort="a", lead="la"), target("C1", cohort="c", lead="lc"))
    p = plan(day_input(reorder=True, targets=targets))
    assert [s.cohort for s in p.sections] == ["a", "c"]
    assert (p.waiting_before, p.waiting_after, p.reordered) == (0, 0, False)


def test_waiting_minutes_counts_people_and_gaps() -> None:
    spans = {0: (0, 10), 1: (10, 30), 2: (30, 40), 3: (50, 60)}
    attendance = {frozenset({0, 2}): 3, frozenset({1}): 5, frozenset({0, 1, 3}): 1}
    assert waiting_minutes(spans, attendance) == 3 * 20 + 0 + 1 * 20


def test_greedy_beyond_the_brute_force_limit() -> None:
    n = BRUTE_FORCE_LIMIT + 1
    durations = [10] * n
    attendance = {frozenset({0, n - 1}): 2, frozenset({3}): 1}
    order = best_order(durations, 540, [], attendance)
    assert sorted(order) == list(range(n))
    cost = waiting_minutes(dict(zip(order, layout([10] * n, 540, []), strict=True)), attendance)
    assert cost == 0
    assert order[:2] == (0, n - 1) and list(order[2:]) == list(range(1, n - 1))
