"""`oneday jobs list` and `oneday jobs run NAME --now ...` as an operator runs them (real subprocess)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

from fake_slack import FakeSlack
from slack_requests import clear_proxy_env
from sqlalchemy import select

from bot import db
from models import Action, Member, OutboxMessage, Target

ONEDAY = Path(sys.executable).parent / "oneday"


def env_for(url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if "PROXY" not in k.upper() and not k.startswith("SLACK_")}
    env.update(DATABASE_URL=url, **extra)
    return env


def test_jobs_list_names_every_job(tmp_path: Path) -> None:
    out = subprocess.run([str(ONEDAY), "jobs", "list"], env=env_for(f"sqlite:///{tmp_path / 'x.db'}"),
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    for name in ("reminders", "digest", "publish-agenda", "follow-partnership", "outbox"):
        assert name in out.stdout


def test_jobs_run_replays_a_window_and_delivers_before_exiting(copy_database, northtown_template: Path) -> None:  # type: ignore[no-untyped-def]
    clear_proxy_env()
    url = copy_database(northtown_template, "jobs.db")  # Northtown loaded
    engine = db.make_engine(url)
    factory = db.session_factory(engine)
    with db.unit_of_work(factory) as session:
        target = session.scalar(select(Target).where(Target.ref == "OCG-07"))
        sam = session.scalar(select(Member).where(Member.key == "sam.patel"))
        session.add(Action(partnership_id=target.partnership_id, number=1, target_id=target.id, owner_id=sam.id,
                           text="check claims", due=date(2026, 12, 4), status="open",
                           created_at=datetime(2026, 11, 1, tzinfo=UTC), updated_at=datetime(2026, 11, 1, tzinfo=UTC)))
    with FakeSlack() as fake:
        run = [str(ONEDAY), "jobs", "run", "reminders", "--now", "2026-12-08T09:30:00+00:00"]
        env = env_for(url, SLACK_BOT_TOKEN="xoxb-test", SLACK_API_URL=fake.base_url)
        first = subprocess.run(run, env=env, capture_output=True, text=True, timeout=120)
        assert first.returncode == 0, first.stderr
        assert "reminders: 1 reminder messages queued" in first.stdout
        assert "all queued messages delivered" in first.stdout
        assert len(fake.calls_to("chat.postMessage")) == 1
        again = subprocess.run(run, env=env, capture_output=True, text=True, timeout=120)
        assert "reminders: 0 reminder messages queued" in again.stdout
        assert len(fake.calls_to("chat.postMessage")) == 1
    with factory() as session:
        assert [r.status for r in session.scalars(select(OutboxMessage))] == ["sent"]
    engine.dispose()


def test_jobs_run_rejects_unknown_job_and_naive_time(tmp_path: Path) -> None:
    env = env_for(f"sqlite:///{tmp_path / 'x.db'}")
    bad = subprocess.run([str(ONEDAY), "jobs", "run", "remindres"], env=env, capture_output=True, text=True,
                         timeout=60)
    assert bad.returncode == 2 and "no job 'remindres'" in bad.stderr
    naive = subprocess.run([str(ONEDAY), "jobs", "run", "reminders", "--now", "2026-12-08T09:30"], env=env,
                           capture_output=True, text=True, timeout=60)
    assert naive.returncode == 2 and "has no time zone offset" in naive.stderr
