"""Operating Oneday in production: the upgrade's SQL for a DBA (`oneday db upgrade --sql`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from alembic.script import ScriptDirectory

from bot import db

ONEDAY = Path(sys.executable).parent / "oneday"
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
