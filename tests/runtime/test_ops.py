"""Operating Oneday in production: the upgrade's SQL for a DBA (`oneday db upgrade --sql`), a worker that waits for
its database and reports a heartbeat, and the container files (Dockerfile, compose.yaml)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from alembic.script import ScriptDirectory
from paths import REPO

from bot import db

ONEDAY = Path(sys.executable).parent / "oneday"
DOCKERFILE = (REPO / "Dockerfile").read_text()
HEAD = ScriptDirectory.from_config(db.alembic_config("sqlite://")).get_current_head()
STAMP_HEAD = f"version_num='{HEAD}' WHERE"  # the last UPDATE of the version table: to head


def _oneday(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("ONEDAY_", "SLACK_", "DATABASE_URL"))}
    return subprocess.run([str(ONEDAY), *args], capture_output=True, text=True, timeout=60, cwd=cwd,
                          env={**base, "COLUMNS": "200", **env})


def test_upgrade_sql_is_postgresql_from_an_empty_database_and_opens_no_database(tmp_path: Path) -> None:
    result = _oneday("db", "upgrade", "--sql", cwd=tmp_path)  # no DATABASE_URL: the default would be ./oneday.db
    assert result.returncode == 0, result.stderr
    sql = result.stdout
    assert sql.startswith("BEGIN;") and sql.rstrip().endswith("COMMIT;")
    assert "CREATE TABLE alembic_version" in sql
    assert "CREATE TABLE partnership (" in sql and "CREATE TABLE agency (" in sql
    assert "id SERIAL NOT NULL" in sql  # PostgreSQL's dialect
    assert "INSERT INTO alembic_version (version_num) VALUES ('0001')" in sql
    assert STAMP_HEAD in sql
    assert list(tmp_path.iterdir()) == []  # no oneday.db created


def test_upgrade_sql_uses_the_dialect_of_database_url_without_connecting(tmp_path: Path) -> None:
    # Nothing listens on port 9 of 127.0.0.1: a connection attempt would fail the command.
    result = _oneday("db", "upgrade", "--sql", cwd=tmp_path,
                     DATABASE_URL="postgresql+psycopg://oneday:secret@127.0.0.1:9/oneday")
    assert result.returncode == 0, result.stderr
    assert "CREATE TABLE partnership (" in result.stdout
    assert "secret" not in result.stdout + result.stderr


def test_upgrade_sql_from_a_revision(tmp_path: Path) -> None:
    result = _oneday("db", "upgrade", "--sql", "--from", "0011", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Running upgrade 0011 -> 0012" in result.stdout
    assert "CREATE TABLE partnership (" not in result.stdout and "CREATE TABLE alembic_version" not in result.stdout
    assert STAMP_HEAD in result.stdout


def test_upgrade_sql_for_sqlite_says_why_not_and_creates_nothing(tmp_path: Path) -> None:
    target = tmp_path / "must-not-exist" / "oneday.db"
    url = f"sqlite:///{target}"
    result = _oneday("db", "upgrade", "--sql", cwd=tmp_path, DATABASE_URL=url)
    assert result.returncode == 2
    assert "SQLite's migrations rebuild tables" in result.stderr and result.stdout == ""
    forced = _oneday("db", "upgrade", "--sql", "--dialect", "postgresql", cwd=tmp_path, DATABASE_URL=url)
    assert forced.returncode == 0 and "CREATE TABLE partnership (" in forced.stdout
    assert not target.parent.exists()


def test_upgrade_sql_options_need_sql_and_a_known_revision(tmp_path: Path) -> None:
    assert "only go with --sql" in _oneday("db", "upgrade", "--from", "0011", cwd=tmp_path).stderr
    unknown = _oneday("db", "upgrade", "--sql", "--from", "nope", cwd=tmp_path)
    assert unknown.returncode == 2 and "nope" in unknown.stderr and "Traceback" not in unknown.stderr
    assert list(tmp_path.iterdir()) == []


# -- the worker: waits for its database, then proves it is alive ---------------------------------------------------

WORKER_ENV = {"SLACK_BOT_TOKEN": "xoxb-ops-test", "SLACK_API_URL": "http://127.0.0.1:9/api/",
              "ONEDAY_JOB_INTERVAL_SECONDS": "1"}
GENEROUS = 60.0  # seconds: a safety net for a loaded machine, not a speed claim


def _start_worker(tmp_path: Path, url: str, *args: str) -> tuple[subprocess.Popen[bytes], Path]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("ONEDAY_", "SLACK_", "DATABASE_URL"))}
    log = tmp_path / "worker.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen([str(ONEDAY), "worker", *args], cwd=tmp_path, stdout=sink, stderr=subprocess.STDOUT,
                                env={**base, **WORKER_ENV, "DATABASE_URL": url})
    return proc, log


def _poll(what: Callable[[], bool], proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + GENEROUS
    while not what():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"worker (exit {proc.poll()}) never got there:\n{log.read_text()}")
        time.sleep(0.05)


def _records(log: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]


def _stop(proc: subprocess.Popen[bytes]) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=GENEROUS)
    finally:
        if proc.poll() is None:
            proc.kill()


def test_the_worker_waits_for_a_database_that_is_not_there_yet_then_works(tmp_path: Path) -> None:
    later = tmp_path / "later"  # SQLite cannot open a file in a folder that does not exist yet: the database is "down"
    proc, log = _start_worker(tmp_path, f"sqlite:///{later / 'oneday.db'}", "--health-file", "worker.health")
    try:
        _poll(lambda: any(r.get("attempt") for r in _records(log)), proc, log)
        assert not (tmp_path / "worker.health").exists()
        later.mkdir()  # the database comes up
        _poll(lambda: (tmp_path / "worker.health").exists(), proc, log)
    finally:
        code = _stop(proc)
    assert code == 0, log.read_text()
    records = _records(log)
    waits = [r for r in records if r.get("attempt") and r["level"] == "WARNING"]
    assert waits and all(r["reason"] == "OperationalError: unable to open database file" for r in waits)
    assert [r["retry_in"] for r in waits] == sorted(r["retry_in"] for r in waits)  # backing off, never faster
    assert any(r["msg"] == "worker started: outbox, reminders, digest, publish-agenda" for r in records)
    assert db.current_revision(f"sqlite:///{later / 'oneday.db'}") == HEAD
    datetime.fromisoformat((tmp_path / "worker.health").read_text().strip())  # the heartbeat's time


def test_sigterm_stops_a_worker_still_waiting_for_its_database(tmp_path: Path) -> None:
    proc, log = _start_worker(tmp_path, f"sqlite:///{tmp_path / 'never' / 'oneday.db'}")
    try:
        _poll(lambda: any(r.get("attempt") for r in _records(log)), proc, log)
    finally:
        code = _stop(proc)
    assert code == 0, log.read_text()
    assert _records(log)[-1]["msg"] == "stopped while waiting for the database"
    assert not (tmp_path / "never").exists()


# -- the container files: read, not built (no Docker here) ----------------------------------------------------------

def _compose() -> dict[str, Any]:
    return yaml.safe_load((REPO / "compose.yaml").read_text())  # type: ignore[no-any-return]


def test_compose_runs_migrate_once_before_serve_and_worker() -> None:
    services = _compose()["services"]
    assert set(services) == {"db", "migrate", "serve", "worker"}
    assert services["db"]["image"] == "postgres:15" and "healthcheck" in services["db"]
    assert services["migrate"]["command"] == ["oneday", "db", "upgrade"]
    assert services["migrate"]["restart"] == "no"
    assert services["migrate"]["depends_on"] == {"db": {"condition": "service_healthy"}}
    for name in ("serve", "worker"):
        assert services[name]["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
        assert services[name]["healthcheck"]["test"][0] == "CMD"
        assert services[name]["environment"]["DATABASE_URL"].startswith("postgresql+psycopg://oneday:")
    assert services["serve"]["command"][:2] == ["oneday", "serve"] and "/healthz" in str(services["serve"]["healthcheck"])
    worker = services["worker"]["command"]
    assert worker[:2] == ["oneday", "worker"] and worker[worker.index("--health-file") + 1] in str(
        services["worker"]["healthcheck"]["test"])


def test_no_service_runs_as_root() -> None:
    for name, service in _compose()["services"].items():
        user = str(service.get("user", "")).split(":")[0]
        assert user not in {"root", "0"}, name
        assert user or service.get("build") == ".", f"{name}: neither its own user nor the Dockerfile's"
    users = [line.split()[1] for line in DOCKERFILE.splitlines() if line.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in {"root", "0"}


def test_the_dockerfile_installs_the_hash_checked_lock_then_the_package_alone() -> None:
    lines = [line for line in DOCKERFILE.splitlines() if line and not line.startswith("#")]
    assert lines[0] == "FROM python:3.11-slim"
    runs = [line for line in lines if line.startswith("RUN pip install")]
    assert "--require-hashes" in runs[0] and "-r requirements-lock.txt" in runs[0]
    assert "--no-deps" in runs[1] and "requirements" not in runs[1]
    assert lines.index(runs[1]) < max(i for i, line in enumerate(lines) if line.startswith("USER "))
    assert lines[-1] == 'CMD ["oneday", "serve", "--host", "0.0.0.0", "--port", "3000"]'
    # Everything the package needs at run time is copied in (its packages, as pyproject.toml finds them).
    for package in ("bot", "commands", "models", "migrations"):
        assert f"COPY {package} ./{package}" in lines
