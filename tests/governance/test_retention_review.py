"""Review dates drive DMs (the worker's `review` job) and `oneday retention plan` lists what is due with reasons.

Northtown sample: OCG-07 (lead tom.ashby) has review date 2027-01-07, OCG-01 2027-01-14; jo.bloggs is the only
coordinator.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot import db
from bot.jobs import review_job
from bot.scheduler import JOBS
from commands.governance import retention
from models import Member, OutboxMessage, Partnership, Target, TargetStatus
from models.retention import RetentionPolicy

REVIEW_DAY = datetime(2027, 1, 7, 10, 0, tzinfo=UTC)  # Thursday, in working hours: OCG-07's review date
ONEDAY = Path(sys.executable).parent / "oneday"


def _queued(factory: Any) -> list[tuple[str, str, list[str], str]]:
    with factory() as session:
        return [(r.destination_ref, r.idempotency_key, r.about, r.payload["message"]["title"])
                for r in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]


def test_review_date_dms_the_lead_and_the_coordinator_once(northtown_loaded) -> None:  # type: ignore[no-untyped-def]
    assert "review" in JOBS
    assert review_job(northtown_loaded, datetime(2027, 1, 6, 10, 0, tzinfo=UTC)) == 0  # the day before: nothing
    assert review_job(northtown_loaded, datetime(2027, 1, 7, 6, 0, tzinfo=UTC)) == 0  # before working hours
    queued = review_job(northtown_loaded, REVIEW_DAY)
    with northtown_loaded() as session:
        ocg07, ocg01 = (session.scalar(select(Target).where(Target.ref == ref)).id for ref in ("OCG-07", "OCG-01"))
        due = session.scalars(select(Target.ref).where(Target.review <= REVIEW_DAY.date())).all()
    assert queued == len(_queued(northtown_loaded)) == 2 * len(due)  # each: its lead and the coordinator
    assert sorted(q for q in _queued(northtown_loaded) if q[2] == ["OCG-07"]) == [
        ("jo.bloggs", f"review:{ocg07}:2027-01-07:jo.bloggs", ["OCG-07"], "Review due: OCG-07"),
        ("tom.ashby", f"review:{ocg07}:2027-01-07:tom.ashby", ["OCG-07"], "Review due: OCG-07")]
    assert not any(q[2] == ["OCG-01"] for q in _queued(northtown_loaded))  # due on 14 January
    assert review_job(northtown_loaded, REVIEW_DAY.replace(hour=11)) == 0  # once per target per review date
    assert review_job(northtown_loaded, datetime(2027, 1, 14, 10, 0, tzinfo=UTC)) > 0
    assert f"review:{ocg01}:2027-01-14:jo.bloggs" in [q[1] for q in _queued(northtown_loaded)]


def test_a_lead_not_entitled_is_told_something_waits_but_not_what(northtown_loaded) -> None:  # type: ignore[no-untyped-def]
    with northtown_loaded.begin() as session:
        tom = session.scalar(select(Member).where(Member.key == "tom.ashby"))
        tom.roles = [*tom.roles, "analyst"]  # an analyst never sees a target
    assert review_job(northtown_loaded, REVIEW_DAY) > 0
    with northtown_loaded() as session:
        ocg07 = session.scalar(select(Target).where(Target.ref == "OCG-07")).id
    [(who, key, about, title)] = [q for q in _queued(northtown_loaded) if q[1] == f"review:{ocg07}:2027-01-07:tom.ashby"]
    assert about == [] and "OCG-07" not in key and title == "A target you lead is due for review"
    with northtown_loaded() as session:
        row = session.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == key))
        assert "OCG-07" not in json.dumps(row.payload)


def test_the_plan_lists_reviews_erasures_and_spaces_with_reasons(northtown_loaded) -> None:  # type: ignore[no-untyped-def]
    with northtown_loaded.begin() as session:
        session.scalar(select(Target).where(Target.ref == "OCG-08")).status = TargetStatus.CLOSED
        session.scalar(select(Partnership)).retention = {"keep_months": 3}
    with northtown_loaded() as session:
        p = session.scalar(select(Partnership))
        early = retention.plan(session, p, datetime(2026, 10, 1, 10, 0, tzinfo=UTC))
        late = retention.plan(session, p, REVIEW_DAY)
    assert early["due"] == []  # before any review date; OCG-08 closed on load day 2026-09-01, kept 3 months
    kinds = {(d["kind"], d["subject"]) for d in late["due"]}
    assert ("review", "OCG-07") in kinds and ("review", "OCG-01") not in kinds
    [erase] = [d for d in late["due"] if d["kind"] == "erase"]
    assert erase["subject"] == "OCG-08" and erase["since"] == "2026-12-01"
    assert "closed; last activity 2026-09-01; kept 3 months" in erase["reason"]
    assert late["policy"] == {"keep_months": 3, "cohorts": {}, "archive_spaces": True}


def test_plan_and_apply_from_the_command_line(copy_database, northtown_template: Path) -> None:  # type: ignore[no-untyped-def]
    url = copy_database(northtown_template, "cli.db")
    engine = db.make_engine(url)
    with db.unit_of_work(db.session_factory(engine)) as session:
        session.scalar(select(Target).where(Target.ref == "OCG-08")).status = TargetStatus.CLOSED
        session.scalar(select(Partnership)).retention = {"keep_months": 3}
    engine.dispose()
    env = {k: v for k, v in os.environ.items() if "PROXY" not in k.upper() and not k.startswith("SLACK_")}
    env.update(DATABASE_URL=url, COLUMNS="200", NO_COLOR="1")

    def oneday(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(ONEDAY), "retention", *args], env=env, capture_output=True, text=True,
                              timeout=120)

    plan = oneday("plan", "--json", "--now", "2027-01-07T10:00:00+00:00")
    assert plan.returncode == 0, plan.stderr
    assert {(d["kind"], d["subject"]) for d in json.loads(plan.stdout)["due"]} >= {("review", "OCG-07"),
                                                                                 ("erase", "OCG-08")}
    dry = oneday("apply", "--dry-run", "--now", "2027-01-07T10:00:00+00:00")
    assert dry.returncode == 0 and "would erase OCG-08" in dry.stdout and "nothing changed" in dry.stdout
    refused = oneday("apply", "--as", "sam.patel", "--now", "2027-01-07T10:00:00+00:00")
    assert refused.returncode == 2 and "sam.patel is not a coordinator" in refused.stderr
    naive = oneday("plan", "--now", "2027-01-07T10:00")
    assert naive.returncode == 2 and "has no time zone offset" in naive.stderr
    done = oneday("apply", "--as", "jo.bloggs", "--now", "2027-01-07T10:00:00+00:00")
    assert done.returncode == 0, done.stderr
    assert "erased OCG-08" in done.stdout and "left for the next apply: 0" in done.stdout
    after = oneday("plan", "--json", "--now", "2027-01-07T10:00:00+00:00")
    assert ("erase", "OCG-08") not in {(d["kind"], d["subject"]) for d in json.loads(after.stdout)["due"]}


def test_the_partnership_file_states_retention_and_exports_it_back(northtown_loaded, northtown_text: str) -> None:  # type: ignore[no-untyped-def]
    from commands.core.errors import FileErrors
    from commands.partnership import file as partnership

    def load(text: str) -> list[str]:
        with db.unit_of_work(northtown_loaded) as session:
            return partnership.load(session, text, source="northtown.yaml", now=REVIEW_DAY)

    bad = northtown_text + "retention: {keep_months: 0, cohorts: {ocgg: 120, gangs: many}, keep: 1}\n"
    try:
        load(bad)
        raise AssertionError("a bad retention block loaded")
    except FileErrors as exc:
        errors = "\n".join(exc.errors)
    assert "retention.keep_months" in errors and "retention.keep: unknown field" in errors
    assert "retention.cohorts.ocgg: no cohort 'ocgg' (did you mean 'ocg'?)" in errors
    assert "retention.cohorts.gangs" in errors
    with northtown_loaded() as session:
        assert session.scalar(select(Partnership)).retention == {}  # nothing written

    changes = load(northtown_text + "retention: {keep_months: 84, cohorts: {ocg: 120}}\n")
    assert any(c.startswith("partnership northtown: retention.") for c in changes)
    with northtown_loaded() as session:
        p = session.scalar(select(Partnership))
        assert p.retention == {"keep_months": 84, "cohorts": {"ocg": 120}, "archive_spaces": True}
        exported = partnership.export(session, p)
    assert load(exported) == []  # the export loads back with no change
    assert RetentionPolicy.from_settings(p.retention).months_for("ocg") == 120
