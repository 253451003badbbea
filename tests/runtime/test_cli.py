"""The real `oneday` console script, run as a subprocess against a throwaway SQLite database."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from alembic.script import ScriptDirectory
from paths import REPO

from bot import db

ONEDAY = Path(sys.executable).parent / "oneday"
REPO = REPO
NORTHTOWN = REPO / "bot" / "sample" / "northtown.yaml"


class Cli:
    def __init__(self, tmp_path: Path) -> None:
        self.cwd = tmp_path
        self.db_path = tmp_path / "cli.db"
        self.env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{self.db_path}",
            "COLUMNS": "300",  # rich wraps at the terminal width; keep each error on one line
            "NO_COLOR": "1",
        }
        self.env.pop("ONEDAY_PARTNERSHIP", None)

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(ONEDAY), *args], cwd=self.cwd, env=self.env, capture_output=True,
                              text=True, timeout=60)

    def count(self, table: str) -> int:
        with sqlite3.connect(self.db_path) as conn:
            return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608

    def dump(self) -> list[str]:
        with sqlite3.connect(self.db_path) as conn:
            return list(conn.iterdump())


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    assert ONEDAY.is_file(), f"console script not installed at {ONEDAY}"
    return Cli(tmp_path)


@pytest.fixture
def loaded_cli(cli: Cli, copy_database, northtown_template: Path) -> Cli:  # type: ignore[no-untyped-def]
    """The CLI on a database holding the sample (a copy of the session's; test_partnership_load_twice loads it
    through the CLI itself)."""
    copy_database(northtown_template, cli.db_path.name)
    return cli


def test_db_upgrade(cli: Cli) -> None:
    result = cli("db", "upgrade")
    assert result.returncode == 0, result.stderr
    head = ScriptDirectory.from_config(db.alembic_config("sqlite://")).get_current_head()
    assert result.stdout.strip() == f"database at revision {head}"
    assert cli.count("partnership") == 0
    current = cli("db", "current")
    assert current.returncode == 0 and current.stdout.strip() == head


def test_partnership_load_twice(cli: Cli) -> None:
    assert cli("db", "upgrade").returncode == 0
    first = cli("partnership", "load", str(NORTHTOWN))
    assert first.returncode == 0, first.stderr
    assert "partnership northtown: created" in first.stdout
    assert f"{NORTHTOWN}: 220 changes" in first.stdout
    assert cli.count("target") == 50

    second = cli("partnership", "load", str(NORTHTOWN))
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == f"{NORTHTOWN}: 0 changes"


def test_bad_file_exits_non_zero_and_prints_every_error(loaded_cli: Cli, tmp_path: Path) -> None:
    text = NORTHTOWN.read_text(encoding="utf-8")
    text = text.replace("agency: dwp,", "agency: dwpp,", 1)
    text = text.replace("{key: hmrc, name: HM Revenue and Customs, category: national-regional,",
                        "{key: hmrc, name: HM Revenue and Customs, category: statutary,", 1)
    text = text.replace("{ref: N-0412, kind: individual, cohort: gangs, lead: helen.ward",
                        "{ref: N-0412, kind: individual, cohort: gangs, lead: zed.unknown", 1)
    bad = tmp_path / "bad.yaml"
    bad.write_text(text, encoding="utf-8")
    before = loaded_cli.dump()

    result = loaded_cli("partnership", "load", str(bad))

    assert result.returncode == 1
    assert f"{bad}: 3 errors; nothing was written" in result.stderr
    doc = yaml.safe_load(NORTHTOWN.read_text(encoding="utf-8"))
    sam = next(i for i, m in enumerate(doc["members"]) if m["agency"] == "dwp")
    hmrc = next(i for i, a in enumerate(doc["agencies"]) if a["key"] == "hmrc")
    assert f"members[{sam}].agency: unknown agency 'dwpp' (did you mean 'dwp'?)" in result.stderr
    assert f"agencies[{hmrc}].category: 'statutary' is not one of" in result.stderr
    assert "targets[" in result.stderr and ".lead: unknown member 'zed.unknown'" in result.stderr
    assert "Traceback" not in result.stderr
    assert loaded_cli.dump() == before


def test_unreadable_file_is_a_clear_error(cli: Cli, tmp_path: Path) -> None:
    result = cli("partnership", "load", str(tmp_path / "missing.yaml"))
    assert result.returncode == 2
    assert "cannot read" in result.stderr and "missing.yaml" in result.stderr
    assert "Traceback" not in result.stderr


def test_export_loads_back(loaded_cli: Cli, tmp_path: Path) -> None:
    result = loaded_cli("partnership", "export")
    assert result.returncode == 0, result.stderr
    doc = yaml.safe_load(result.stdout)
    assert doc["partnership"]["key"] == "northtown"
    assert [len(doc[s]) for s in ("agencies", "members", "cohorts", "targets")] == [26, 40, 5, 50]

    exported = tmp_path / "exported.yaml"
    exported.write_text(result.stdout, encoding="utf-8")
    again = loaded_cli("partnership", "load", str(exported))
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == f"{exported}: 0 changes"

    to_file = tmp_path / "out.yaml"
    written = loaded_cli("partnership", "export", "-o", str(to_file))
    assert written.returncode == 0, written.stderr
    assert to_file.read_text(encoding="utf-8") == result.stdout


def test_export_of_an_empty_database_says_so(cli: Cli) -> None:
    assert cli("db", "upgrade").returncode == 0
    result = cli("partnership", "export")
    assert result.returncode == 2
    assert "holds no partnership" in result.stderr
    assert result.stdout == ""


def test_partnership_sample_writes_the_shipped_file_which_then_loads(cli: Cli) -> None:
    """The hint an empty database gives (`sample -o`, then `load`) works with no repository around: cwd is tmp."""
    printed = cli("partnership", "sample")
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout == NORTHTOWN.read_text(encoding="utf-8")

    written = cli("partnership", "sample", "-o", "northtown.yaml")
    assert written.returncode == 0, written.stderr
    assert (cli.cwd / "northtown.yaml").read_text(encoding="utf-8") == printed.stdout
    loaded = cli("partnership", "load", "northtown.yaml")
    assert loaded.returncode == 0, loaded.stderr
    assert "northtown.yaml: 220 changes" in loaded.stdout

    (cli.cwd / "northtown.yaml").write_text("# my edits\n", encoding="utf-8")
    again = cli("partnership", "sample", "-o", "northtown.yaml")
    assert again.returncode == 2 and "already exists" in again.stderr
    assert (cli.cwd / "northtown.yaml").read_text(encoding="utf-8") == "# my edits\n"  # never overwritten


def test_demo(demo_run) -> None:  # type: ignore[no-untyped-def]
    result, db_path = demo_run  # one `oneday demo` per session, shared with tests/runtime/test_demo.py
    assert result.returncode == 0, result.stderr
    assert "loaded northtown.yaml: 220 changes" in result.stdout
    assert "loaded it again: 0 changes" in result.stdout
    assert "targets: 50 active" in result.stdout
    assert not db_path.exists()  # the demo leaves DATABASE_URL alone


CSV_HEADER = "Reference,Kind,Offender group,Lead officer,Flags,Priority,Review date,Summary\n"


def test_targets_import_with_a_bad_row_writes_nothing(loaded_cli: Cli, tmp_path: Path) -> None:
    csv_file = tmp_path / "targets.csv"
    csv_file.write_text(CSV_HEADER
                        + "N-0901,individual,hcc,dee.okafor,drugs,2,2027-04-01,Good row\n"
                        + "N-0902,individual,hcc,nobody.here,drugs,2,2027-04-01,Bad lead\n",
                        encoding="utf-8")
    before = loaded_cli.dump()

    result = loaded_cli("targets", "import", str(csv_file))

    assert result.returncode == 1
    assert "targets.csv: 1 error; nothing was written" in result.stderr
    assert "row 3.lead: unknown member 'nobody.here'" in result.stderr
    assert loaded_cli.dump() == before
    assert loaded_cli.count("target") == 50

    partial = loaded_cli("targets", "import", "--partial", str(csv_file))
    assert partial.returncode == 0, partial.stderr
    assert "skipped row 3.lead: unknown member 'nobody.here'" in partial.stderr
    # One row written: the target created and its details added.
    assert f"{csv_file}: 2 rows, 2 changes, 1 rows skipped" in partial.stdout
    assert loaded_cli.count("target") == 51
    with sqlite3.connect(loaded_cli.db_path) as conn:
        refs = {r for (r,) in conn.execute("SELECT ref FROM target WHERE ref LIKE 'N-09%'")}
    assert refs == {"N-0901"}
