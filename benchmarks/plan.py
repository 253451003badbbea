"""Agenda plan + render at 600 and 6,000 targets: how the coordinator's preview grows with the partnership.

The partnership is bot/sample/northtown.yaml (agencies, members, cohorts, its targets) loaded into a SQLite file,
plus generated targets up to the size wanted: refs ``B-<COHORT>-00001``, spread round-robin over the five
cohorts, each copying flags, priority, kind and lead officer from one of that cohort's northtown targets; and one
open action per four targets (owners spread over the active members, due dates around the meeting day).
Generated rows are bulk-inserted (``session.execute(insert(Model), rows)``), not loaded through the file.

One measured iteration, in a fresh session each time (as a request gets):

* ``read``: ``models.planning.plan_input`` (every query `plan_day` makes);
* ``plan``: ``models.planning.plan`` (the pure planner);
* ``to_json``: ``commands.agenda.plan_json.to_json`` plus ``json.dumps`` (what ``agenda plan --json`` prints);
* ``preview``: ``commands.agenda.intents.preview`` (the ``/agenda plan`` reply) on the same DayPlan, and
* ``render``: ``bot.slack.blocks.render`` of that reply to Block Kit.

Both databases are built first, each gets one unmeasured warm-up, then the sizes are measured in turns (600,
6,000, 600, ...) so that load from elsewhere on the machine falls on both alike. The figure is the median of
the per-iteration totals (and of each part).
"""

from __future__ import annotations

import json
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

from benchmarks.ack import NORTHTOWN

MEETING_DAY = date(2026, 12, 8)  # a Tuesday
COORDINATOR = "jo.bloggs"
PARTS = ("read", "plan", "to_json", "preview", "render")


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


@contextmanager
def loaded_db(url: str) -> Iterator[Any]:
    """Migrate `url`, load northtown; yields the session factory (the engine is disposed at the end)."""
    from bot import db
    from bot.clock import system_clock
    from commands.partnership.file import load

    db.upgrade(url)
    engine = db.make_engine(url)
    try:
        factory = db.session_factory(engine)
        with db.unit_of_work(factory) as session:
            load(session, NORTHTOWN.read_text(), source="northtown.yaml", actor="bench", now=system_clock())
        yield factory
    finally:
        engine.dispose()


def add_targets(session: Any, total: int) -> int:
    """Bulk-insert generated targets until the partnership has `total` active targets; returns how many."""
    from sqlalchemy import func, insert, select

    from models import Cohort, Partnership, Target

    p = session.scalar(select(Partnership))
    have = session.scalar(select(func.count()).select_from(Target)
                          .where(Target.partnership_id == p.id, Target.status == "active")) or 0
    cohorts = list(session.scalars(select(Cohort).where(Cohort.partnership_id == p.id, Cohort.active.is_(True))
                                   .order_by(Cohort.order, Cohort.key)))
    templates: dict[int, list[Target]] = defaultdict(list)
    for t in session.scalars(select(Target).where(Target.partnership_id == p.id).order_by(Target.id)):
        templates[t.cohort_id].append(t)
    rows = []
    for i in range(max(total - have, 0)):
        cohort = cohorts[i % len(cohorts)]
        tpl = templates[cohort.id][(i // len(cohorts)) % len(templates[cohort.id])]
        rows.append({"partnership_id": p.id, "ref": f"B-{cohort.key[:3].upper()}-{i + 1:05d}", "kind": tpl.kind,
                     "cohort_id": cohort.id, "lead_id": tpl.lead_id, "flags": list(tpl.flags),
                     "priority": tpl.priority, "status": "active", "review": tpl.review})
    for start in range(0, len(rows), 5000):
        session.execute(insert(Target), rows[start:start + 5000])
    return have + len(rows)


def add_open_actions(session: Any, every: int = 4) -> int:
    """One open action per `every` active targets, owners round-robin over active members; returns how many."""
    from sqlalchemy import func, insert, select

    from bot.clock import system_clock
    from models import Action, Member, Partnership, Target

    now = system_clock()
    p = session.scalar(select(Partnership))
    members = list(session.scalars(select(Member.id).where(Member.partnership_id == p.id, Member.active.is_(True))
                                   .order_by(Member.id)))
    targets = list(session.scalars(select(Target.id).where(Target.partnership_id == p.id,
                                                           Target.status == "active").order_by(Target.id)))
    number = (session.scalar(select(func.max(Action.number)).where(Action.partnership_id == p.id)) or 0) + 1
    rows = []
    for i, target_id in enumerate(targets[::every]):
        rows.append({"partnership_id": p.id, "number": number + i, "target_id": target_id,
                     "owner_id": members[i % len(members)], "created_by_id": members[0],
                     "text": f"bench action {number + i}", "due": MEETING_DAY + timedelta(days=(i % 29) - 14),
                     "status": "open", "created_at": now, "updated_at": now})
    if rows:
        session.execute(insert(Action), rows)
    return len(rows)


def one_iteration(factory: Any, day: date) -> tuple[dict[str, float], dict[str, Any]]:
    """Plan, serialise, build the preview and render it; returns per-part seconds and what was produced."""
    from sqlalchemy import select

    from bot.clock import system_clock
    from bot.slack.blocks import render
    from commands.agenda import intents as agenda
    from commands.agenda.plan_json import to_json
    from commands.core.context import Caller
    from models import Member, Partnership
    from models.planning import plan, plan_input

    times: dict[str, float] = {}
    with factory() as session:
        p = session.scalar(select(Partnership))
        me = session.scalar(select(Member).where(Member.partnership_id == p.id, Member.key == COORDINATOR))
        t0 = time.perf_counter()
        inp = plan_input(session, p, day)
        t1 = time.perf_counter()
        day_plan = plan(inp)
        t2 = time.perf_counter()
        text = json.dumps(to_json(day_plan))
        t3 = time.perf_counter()
        # the preview exactly as `/agenda plan` builds it, on the DayPlan already made (not planned twice)
        with mock.patch.object(agenda, "plan_day", lambda *_: day_plan):
            result = agenda.preview(Caller(session, p, me, system_clock()), day)
        t4 = time.perf_counter()
        fallback, blocks = render(result.reply)
        t5 = time.perf_counter()
        session.rollback()
    times = {"read": t1 - t0, "plan": t2 - t1, "to_json": t3 - t2, "preview": t4 - t3, "render": t5 - t4}
    made = {"sections": len(day_plan.sections), "targets": sum(len(s.targets) for s in day_plan.sections),
            "members": len(day_plan.itineraries), "json_bytes": len(text), "blocks": len(blocks),
            "preview_lines": len(result.reply.lines),
            "truncated": any("more not shown" in json.dumps(b) for b in blocks[-1:])}
    return times, made


def summarize(runs: list[tuple[dict[str, float], dict[str, Any]]]) -> dict[str, Any]:
    totals = [sum(t.values()) for t, _ in runs]
    out: dict[str, Any] = {"repeats": len(runs), "median_ms": round(median(totals) * 1000, 2),
                           "min_ms": round(min(totals) * 1000, 2), "max_ms": round(max(totals) * 1000, 2)}
    out["parts_ms"] = {k: round(median([t[k] for t, _ in runs]) * 1000, 2) for k in PARTS}
    out.update(runs[-1][1])
    return out


def run_benchmark(workdir: Path, *, sizes: tuple[int, ...] = (600, 6000), repeats: int = 7,
                  progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Build one database per size, then measure them in turns (so drifting machine load hits all alike)."""
    from bot import db
    from bot.config import sqlite_url

    say = progress or (lambda msg: None)
    started = time.perf_counter()
    results: dict[str, Any] = {"sizes": {}}
    factories: dict[int, Any] = {}
    built: dict[int, tuple[int, int]] = {}
    with ExitStack() as stack:
        for size in sizes:
            say(f"plan: building a partnership with {size:,} targets")
            factory = stack.enter_context(loaded_db(sqlite_url(workdir / f"plan-{size}.db")))
            with db.unit_of_work(factory) as session:
                built[size] = (add_targets(session, size), add_open_actions(session))
            factories[size] = factory
            one_iteration(factory, MEETING_DAY)  # warm-up: imports, statement caches
        say(f"plan: {repeats} measured runs per size, taken in turns")
        runs: dict[int, list[tuple[dict[str, float], dict[str, Any]]]] = {s: [] for s in sizes}
        for _ in range(repeats):
            for size in sizes:
                runs[size].append(one_iteration(factories[size], MEETING_DAY))
    for size in sizes:
        m = summarize(runs[size])
        targets, actions = built[size]
        m.update(active_targets=targets, open_actions=actions)
        m["per_target_us"] = round(m["median_ms"] * 1000 / targets, 2)
        results["sizes"][str(size)] = m
    small, big = (results["sizes"][str(s)] for s in (sizes[0], sizes[-1]))
    results["ratio"] = round(big["median_ms"] / small["median_ms"], 2)
    results["size_ratio"] = round(big["active_targets"] / small["active_targets"], 2)
    results["duration_s"] = round(time.perf_counter() - started, 1)
    return results
