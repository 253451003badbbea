"""`oneday audit ...` and `oneday subject ...` as the console script runs them: clear errors with an example,
files readable by their owner alone, and the kept head checked later."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ONEDAY = Path(sys.executable).parent / "oneday"


class Cli:
    def __init__(self, tmp_path: Path, url: str) -> None:
        self.cwd = tmp_path
        self.db_path = Path(url.removeprefix("sqlite:///"))
        self.env = {**os.environ, "DATABASE_URL": url, "COLUMNS": "300", "NO_COLOR": "1"}
        self.env.pop("ONEDAY_PARTNERSHIP", None)

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(ONEDAY), *args], cwd=self.cwd, env=self.env, capture_output=True, text=True,
                              timeout=60)

    def audit_rows(self) -> int:
        with sqlite3.connect(self.db_path) as conn:
            return conn.execute("SELECT count(*) FROM audit_event").fetchone()[0]


@pytest.fixture
def cli(tmp_path: Path, copy_database, northtown_template: Path) -> Cli:  # type: ignore[no-untyped-def]
    return Cli(tmp_path, copy_database(northtown_template, "cli.db"))


@pytest.mark.parametrize("args, message, example", [
    (["audit", "export"], "name the file to write with -o FILE", "oneday audit export --target OCG-07"),
    (["subject", "export", "OCG-07"], "name the file to write with -o FILE", "oneday subject export OCG-07 -o"),
    (["audit", "export", "-o", "x.csv", "--as", "jo.blogs"], "--as: no active member 'jo.blogs'", "--as jo.bloggs"),
    (["audit", "export", "-o", "x.csv", "--from", "1 Dec"], "--from: '1 Dec' is not a date", "--from 2026-12-01"),
    (["audit", "export", "-o", "x.csv", "--format", "xlsx"], "--format: 'xlsx' is not one of csv, json",
     "--format csv"),
    (["subject", "export", "OCG-99", "-o", "x.json"], "no target 'OCG-99'", "oneday subject export OCG-07"),
    (["subject", "search", "ab"], "search for at least 3 characters", "oneday subject search"),
    (["audit", "verify", "--head", "12:ab"], "not a chain head: '12:ab'", "oneday audit verify --head 1:42:"),
    (["audit", "verify", "--head", "9:1:" + "a" * 64], "partnership id 9 is not among those verified",
     "oneday audit verify --head"),
])
def test_bad_input_is_named_with_an_example_and_writes_nothing(cli: Cli, args: list[str], message: str,
                                                               example: str) -> None:
    before = cli.audit_rows()
    done = cli(*args)
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr and "example: " in done.stderr and example in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert cli.audit_rows() == before
    assert not (cli.cwd / "x.csv").exists() and not (cli.cwd / "x.json").exists()


def test_exports_are_0600_even_over_a_readable_file_and_head_is_checked_later(cli: Cli) -> None:
    head = cli("audit", "head")
    assert head.returncode == 0, head.stderr
    kept = head.stdout.split()[0]
    old = cli.cwd / "sar.json"
    old.write_text("stale", encoding="utf-8")
    old.chmod(0o644)
    done = cli("subject", "export", "OCG-07", "-o", "sar.json", "--as", "jo.bloggs")
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(old.stat().st_mode) == 0o600 and old.read_text(encoding="utf-8").startswith(
        '{\n  "marking": "OFFICIAL-SENSITIVE"')
    done = cli("audit", "verify", "--head", kept)  # the export was logged after the kept head: it extends it
    assert done.returncode == 0 and "northtown: OK" in done.stdout and "extends the kept head" in done.stdout
    with sqlite3.connect(cli.db_path) as conn:  # the last rows (the export's disclosure) removed
        conn.execute("DELETE FROM audit_event WHERE seq > ?", (int(kept.split(":")[1]) - 1,))
    assert cli("audit", "verify").returncode == 0  # the shorter log holds by itself...
    done = cli("audit", "verify", "--head", kept)  # ...not against the head kept elsewhere
    assert done.returncode == 1 and "rows deleted from the end" in done.stdout, done.stdout
