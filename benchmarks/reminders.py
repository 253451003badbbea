"""One reminder round over 20,000 and 200,000 stored actions with the same 500 due: SQLite and PostgreSQL.

The cost of a round must follow what is due, not what is stored. Each database is migrated, loaded with
bot/sample/northtown.yaml, and given N actions by bulk insert (``session.execute(insert(Action), rows)``):

* 500 open actions due in the round's window (from 20 days overdue to the query's horizon), owners and
  targets round-robin over northtown's active members and targets;
* of the rest, 8 in 10 closed (done, or 1 in 10 cancelled) with due dates spread over the past three years,
  and 2 in 10 open with due dates one month to three years ahead.

`now` is fixed at Tuesday 10 November 2026, 10:00 Europe/London (a working day, in working hours). One measured
run is ``commands.chasing.rounds.run_round(session, partnership, now)`` plus the flush of the reminder marks it adds,
in a transaction that is rolled back, so every repeat does the same work. Both sizes are built first, get one
unmeasured warm-up each, and are then measured in turns (20k, 200k, 20k, ...) so that load from elsewhere on the
machine falls on both alike. Figure: the median of the repeats. PostgreSQL is a private throwaway server
(tests/pgserver.py), ANALYZEd after the bulk insert (autovacuum would do the same soon after such an insert);
SQLite is left as deployed (no ANALYZE).

Each pair is then measured again with each candidate index, created (and dropped again) by the benchmark in
its own throwaway databases (the models and migrations are not changed), to show what an index would do:

* ``composite``: ``(partnership_id, status, due)``;
* ``partial``: ``(partnership_id, due) WHERE status = 'open'``.

Besides the round, the candidate-actions query alone (the SELECT `run_round` starts with, ids only) is timed,
and its plan is recorded (EXPLAIN QUERY PLAN on SQLite, EXPLAIN ANALYZE on PostgreSQL).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from benchmarks.ack import _tests_on_path
from benchmarks.plan import loaded_db

NOW = datetime(2026, 11, 10, 10, 0, tzinfo=ZoneInfo("Europe/London"))
DUE_IN_WINDOW = 500
# candidate indexes: name -> (index name, DDL)
INDEXES = {
    "composite": ("bench_ix_action_pid_status_due",
                  "CREATE INDEX bench_ix_action_pid_status_due ON action (partnership_id, status, due)"),
    "partial": ("bench_ix_action_open_due",
                "CREATE INDEX bench_ix_action_open_due ON action (partnership_id, due) WHERE status = 'open'"),
}
VARIANTS = ("plain", *INDEXES)


def add_actions(session: Any, total: int, due: int = DUE_IN_WINDOW, today: date | None = None) -> dict[str, int]:
    """Bulk-insert `total` actions, `due` of them open and due in the round's window; returns counts by kind."""
    from sqlalchemy import insert, select

    from models import Action, Member, Partnership, Target

    today = today or NOW.date()
    p = session.scalar(select(Partnership))
    members = list(session.scalars(select(Member.id).where(Member.partnership_id == p.id, Member.active.is_(True))
                                   .order_by(Member.id)))
    targets = list(session.scalars(select(Target.id).where(Target.partnership_id == p.id,
                                                           Target.status == "active").order_by(Target.id)))
    counts = {"due_in_window": 0, "closed_past": 0, "open_future": 0}
    rows: list[dict[str, Any]] = []

    def flush() -> None:
        if rows:
            session.execute(insert(Action), rows)
            rows.clear()

    for n in range(1, total + 1):
        i = n - 1
        if i < due:  # from 20 days overdue up to 9 days ahead (the query's horizon is 9 days ahead)
            when, status, kind = today + timedelta(days=(i % 30) - 20), "open", "due_in_window"
        elif i % 10 < 2:
            when, status, kind = today + timedelta(days=30 + i % 1066), "open", "open_future"
        else:
            when, status, kind = (today - timedelta(days=1 + i % 1095),
                                  "cancelled" if i % 10 == 9 else "done", "closed_past")
        counts[kind] += 1
        rows.append({"partnership_id": p.id, "number": n, "target_id": targets[i % len(targets)],
                     "owner_id": members[i % len(members)], "created_by_id": members[0],
                     "text": f"bench action {n}", "due": when, "status": status})
        if len(rows) >= 10_000:
            flush()
    flush()
    return counts


def candidates_query(partnership_id: int, today: date) -> Any:
    """The same selection `run_round` makes (commands/chasing/rounds.py), for EXPLAIN."""
    from sqlalchemy import select

    from models import Action
    from models.reminders import ReminderPolicy, working_days_after

    policy = ReminderPolicy()  # northtown's reminders are the defaults
    horizon = working_days_after(today, policy.first_working_days_before) + timedelta(days=7)
    return (select(Action.id).where(Action.partnership_id == partnership_id, Action.status == "open",
                                    Action.due.is_not(None), Action.due <= horizon)
            .order_by(Action.due, Action.number))


def explain(factory: Any) -> list[str]:
    from sqlalchemy import select

    from models import Partnership

    with factory() as session:
        pid = session.scalar(select(Partnership.id))
        conn = session.connection()
        sql = str(candidates_query(pid, NOW.date()).compile(dialect=conn.dialect,
                                                             compile_kwargs={"literal_binds": True}))
        if conn.dialect.name == "sqlite":
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql).all()
            return [str(r[-1]) for r in rows]
        rows = conn.exec_driver_sql("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) " + sql).all()
        return [str(r[0]) for r in rows]


def one_round(factory: Any) -> tuple[float, dict[str, int]]:
    from sqlalchemy import select

    from commands.chasing.rounds import run_round
    from models import Partnership

    with factory() as session:
        p = session.scalar(select(Partnership))
        started = time.perf_counter()
        report = run_round(session, p, NOW)
        marks = len(session.new)
        session.flush()  # the reminder marks are part of the round's work
        elapsed = time.perf_counter() - started
        session.rollback()
    return elapsed, {"owners_reminded": len(report.reminded),
                     "actions_reminded": sum(len(v) for v in report.reminded.values()),
                     "escalated": len(report.escalated), "notices": len(report.notices), "marks": marks}


def candidates_seconds(factory: Any) -> float:
    """Seconds of one run of the candidate-actions query alone (ids only)."""
    from sqlalchemy import select

    from models import Partnership

    with factory() as session:
        query = candidates_query(session.scalar(select(Partnership.id)), NOW.date())
        started = time.perf_counter()
        session.execute(query).all()
        return time.perf_counter() - started


def candidates_found(factory: Any) -> int:
    from sqlalchemy import select

    from models import Partnership

    with factory() as session:
        return len(session.execute(candidates_query(session.scalar(select(Partnership.id)), NOW.date())).all())


def measure_in_turns(factories: dict[int, Any], repeats: int) -> dict[int, dict[str, Any]]:
    """Rounds (then queries) on every database in turns, after one warm-up each; per-size figures."""
    last: dict[int, dict[str, int]] = {}
    rounds: dict[int, list[float]] = {s: [] for s in factories}
    queries: dict[int, list[float]] = {s: [] for s in factories}
    for factory in factories.values():
        one_round(factory)
        candidates_seconds(factory)
    for _ in range(repeats):
        for size, factory in factories.items():
            elapsed, last[size] = one_round(factory)
            rounds[size].append(elapsed)
    for _ in range(repeats):
        for size, factory in factories.items():
            queries[size].append(candidates_seconds(factory))
    out = {}
    for size, factory in factories.items():
        times = sorted(rounds[size])
        out[size] = {"repeats": repeats, "median_ms": round(statistics.median(times) * 1000, 2),
                     "min_ms": round(times[0] * 1000, 2), "max_ms": round(times[-1] * 1000, 2),
                     "query_ms": round(statistics.median(queries[size]) * 1000, 3),
                     "candidates": candidates_found(factory), **last[size]}
    return out


@contextmanager
def database(backend: str, name: str, workdir: Path, pg: Any) -> Iterator[str]:
    """A fresh empty database URL (SQLite file, or a database on the throwaway PostgreSQL)."""
    from bot.config import sqlite_url

    if backend == "sqlite":
        yield sqlite_url(workdir / f"{name}.db")
        return
    url = pg.create_database(name)
    try:
        yield url
    finally:
        pg.drop_database(name)


def run_benchmark(workdir: Path, *, sizes: tuple[int, ...] = (20_000, 200_000), repeats: int = 15,
                  backends: tuple[str, ...] = ("sqlite", "postgresql"),
                  progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    from sqlalchemy import text

    from bot import db

    say = progress or (lambda msg: None)
    started = time.perf_counter()
    results: dict[str, Any] = {"now": NOW.isoformat(), "due_in_window": DUE_IN_WINDOW, "backends": {}}
    with ExitStack() as stack:
        pg = None
        if "postgresql" in backends:
            _tests_on_path()
            from pgserver import ThrowawayPostgres

            say("reminders: starting a throwaway PostgreSQL")
            pg = stack.enter_context(ThrowawayPostgres())
            results["postgresql_startup_s"] = round(pg.startup_seconds or 0, 1)
        for backend in backends:
            out: dict[str, Any] = {**{v: {} for v in VARIANTS}, "explain": {}, "inserted": {}}
            with ExitStack() as dbs:
                factories: dict[int, Any] = {}
                for size in sizes:
                    url = dbs.enter_context(database(backend, f"bench_reminders_{size}", workdir, pg))
                    factory = factories[size] = dbs.enter_context(loaded_db(url))
                    t0 = time.perf_counter()
                    with db.unit_of_work(factory) as session:
                        counts = add_actions(session, size)
                    if backend == "postgresql":
                        with db.unit_of_work(factory) as session:
                            session.execute(text("ANALYZE"))
                    out["inserted"][str(size)] = {**counts, "insert_s": round(time.perf_counter() - t0, 1)}
                    say(f"reminders {backend}: {size:,} actions inserted in {time.perf_counter() - t0:.1f} s")
                for variant in VARIANTS:
                    index, ddl = INDEXES.get(variant, ("", ""))
                    if ddl:
                        for factory in factories.values():
                            with db.unit_of_work(factory) as session:
                                session.execute(text(ddl))
                                if backend == "postgresql":
                                    session.execute(text("ANALYZE action"))
                    say(f"reminders {backend}: {variant} indexes, {repeats} rounds per size in turns")
                    for size, m in measure_in_turns(factories, repeats).items():
                        out[variant][str(size)] = m
                        out["explain"][f"{size} {variant}"] = explain(factories[size])
                    if ddl:
                        for factory in factories.values():
                            with db.unit_of_work(factory) as session:
                                session.execute(text(f"DROP INDEX {index}"))
            for variant in VARIANTS:
                small, big = (out[variant][str(s)] for s in (sizes[0], sizes[-1]))
                out[variant]["ratio"] = round(big["median_ms"] / small["median_ms"], 2)
                out[variant]["query_ratio"] = round(big["query_ms"] / small["query_ms"], 2)
            results["backends"][backend] = out
    results["sizes"] = list(sizes)
    results["duration_s"] = round(time.perf_counter() - started, 1)
    return results
