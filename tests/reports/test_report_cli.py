"""`oneday report`, the real console script as a subprocess, on the database of the meeting cycle
(tests/reports/conftest.py). November 2026 is over whenever this runs, so its figures do not depend on the day."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from report_support import leaks, pdf_text, secrets
from sqlalchemy import select

from commands.reports import render
from commands.reports.figures import compute
from models import Partnership

ONEDAY = Path(sys.executable).parent / "oneday"
EXAMPLE = "example: oneday report --from 2026-10-01 --to 2026-12-31 --format pdf -o figures.pdf"


def oneday(cwd: Path, url: str, *args: str) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "DATABASE_URL": url, "COLUMNS": "300", "NO_COLOR": "1"}
    env.pop("ONEDAY_PARTNERSHIP", None)
    return subprocess.run([str(ONEDAY), *args], cwd=cwd, env=env, capture_output=True, timeout=120)


def test_the_report_in_each_format_matches_the_figures(cycle, sqlite_db_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with cycle.factory() as session:
        p = session.scalars(select(Partnership)).one()
        expected = compute(session, p, date(2026, 11, 1), date(2026, 11, 30), now=cycle.clock())
    period = ("--from", "2026-11-01", "--to", "2026-11-30")
    done = oneday(tmp_path, sqlite_db_url, "report", *period, "--format", "csv")
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode() == render.csv_text(expected)
    rows = list(csv.DictReader(io.StringIO(done.stdout.decode())))
    by = {(r["table"], r["row"], r["measure"]): r["value"] for r in rows}
    assert by[("Actions by agency", "All agencies", "Raised")] == "2"
    assert by[("Actions by agency", "Department for Work and Pensions", "Completed")] == "1"
    assert by[("Actions by agency", "Northtown Council Housing Services", "Overdue")] == "1"
    assert by[("Outcomes by group", "disruption", "Outcomes")] == "1"

    forbidden = secrets(cycle)
    for kind, magic in (("html", b"<!DOCTYPE html>"), ("pdf", b"%PDF-"), ("png", b"\x89PNG")):
        out = tmp_path / f"figures.{kind}"
        done = oneday(tmp_path, sqlite_db_url, "report", *period, "--format", kind, "-o", out.name)
        assert done.returncode == 0, done.stderr
        assert f"wrote {out.name} ({kind}, 2026-11-01 to 2026-11-30)" in done.stderr.decode()
        data = out.read_bytes()
        assert data.startswith(magic)
        if kind != "png":
            text = pdf_text(data) if kind == "pdf" else data.decode()
            assert "Northtown Council Housing Services" in text and leaks(text, forbidden) == []

    again = oneday(tmp_path, sqlite_db_url, "report", *period, "--format", "pdf", "-o", "figures.pdf")
    assert again.returncode == 2 and b"figures.pdf already exists; not overwriting it" in again.stderr
    assert (tmp_path / "figures.pdf").read_bytes().startswith(b"%PDF-")


@pytest.mark.parametrize(("args", "wrong"), [
    (("--from", "2026-11-31", "--to", "2026-12-31"), "--from '2026-11-31' is not a date; write it as YYYY-MM-DD"),
    (("--from", "2026-11-01", "--to", "31/12/2026"), "--to '31/12/2026' is not a date; write it as YYYY-MM-DD"),
    (("--from", "2026-12-01", "--to", "2026-11-01"), "--from 2026-12-01 is after --to 2026-11-01; give the earlier "
                                                     "day first"),
    (("--from", "2026-11-01", "--to", "2026-11-30", "--format", "docx"),
     "unknown format 'docx'; choose one of html, pdf, csv, png"),
])
def test_bad_input_exits_2_with_what_was_wrong_and_an_example(tmp_path: Path, args: tuple[str, ...],
                                                              wrong: str) -> None:
    done = oneday(tmp_path, f"sqlite:///{tmp_path / 'none.db'}", "report", *args)
    err = done.stderr.decode()
    assert done.returncode == 2 and f"error: {wrong}" in err and EXAMPLE in err, err
    assert done.stdout == b"" and "Traceback" not in err
    assert not (tmp_path / "none.db").exists() or (tmp_path / "none.db").stat().st_size == 0


def test_an_empty_database_is_told_to_load_a_partnership(tmp_path: Path) -> None:
    done = oneday(tmp_path, f"sqlite:///{tmp_path / 'empty.db'}", "report", "--from", "2026-11-01", "--to", "2026-11-30")
    assert done.returncode == 2
    assert "the database is empty; create it and load a partnership first" in done.stderr.decode()
