"""`oneday db upgrade` from several replicas at once on one PostgreSQL database: they take turns on an
advisory lock (migrations/lock.py migration_lock), the first creates the schema, the others find head and do nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

from bot import db
from migrations.lock import MIGRATION_LOCK_KEY

ONEDAY = Path(sys.executable).parent / "oneday"
REPLICAS = 3


def _advisory_waiters(conn: sa.Connection) -> int:
    """Sessions waiting for the migration lock (bigint key: high half in classid, low half in objid)."""
    key = MIGRATION_LOCK_KEY & 0xFFFFFFFFFFFFFFFF
    return conn.execute(sa.text(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
        "AND classid::bigint = :hi AND objid::bigint = :lo AND objsubid = 1"),
        {"hi": key >> 32, "lo": key & 0xFFFFFFFF}).scalar_one()


@pytest.mark.postgres
def test_three_upgrades_at_once_on_an_empty_database_all_succeed(pg_url: str) -> None:
    env = {k: v for k, v in os.environ.items() if "PROXY" not in k.upper()}
    env["DATABASE_URL"] = pg_url
    engine = db.make_engine(pg_url)
    holder = engine.connect()
    try:
        # Hold the lock ourselves so that all three are started and waiting before any of them may begin:
        # the race happens on every run, not only when the scheduler happens to interleave them.
        holder.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
        holder.commit()
        procs = [subprocess.Popen([str(ONEDAY), "db", "upgrade"], env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(REPLICAS)]
        with engine.connect() as watcher:
            deadline = time.monotonic() + 60
            while _advisory_waiters(watcher) < REPLICAS:
                exited = [p.args for p in procs if p.poll() is not None]
                assert not exited, "an upgrade finished while another session held the migration lock"
                assert time.monotonic() < deadline, "the upgrades never queued on the migration lock"
                watcher.rollback()
                time.sleep(0.05)
        assert db.current_revision(pg_url) is None  # nothing ran while the lock was held
        holder.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK_KEY})
        holder.commit()
        results = [p.communicate(timeout=120) for p in procs]
    finally:
        holder.close()
        engine.dispose()
    for proc, (_, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err
        assert "Traceback" not in err
    head = ScriptDirectory.from_config(db.alembic_config(pg_url)).get_current_head()
    assert db.current_revision(pg_url) == head
    assert all(f"database at revision {head}" in out for out, _ in results)
