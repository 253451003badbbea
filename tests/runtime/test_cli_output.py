"""The CLI piped or in a log (issue 18's bar): plain, unwrapped lines in the file's own words, whole table cells,
help with value names. Run as a real process with stdout a pipe, as `oneday ... | cat` would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from paths import REPO

ONEDAY = Path(sys.executable).parent / "oneday"
SAMPLE = REPO / "bot" / "sample" / "northtown.yaml"


def oneday(tmp_path: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'cli.db'}"
    result = subprocess.run([str(ONEDAY), *args], capture_output=True, text=True, env=env, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_partnership_load_piped_prints_short_lines_in_the_files_words(tmp_path: Path) -> None:
    lines = oneday(tmp_path, "partnership", "load", str(SAMPLE)).splitlines()
    assert len(lines) > 100
    assert max(len(line) for line in lines) < 125
    assert not [line for line in lines if "'" in line or "{'" in line or "['" in line or "None" in line]
    assert "  partnership northtown: meeting.channel: (none) -> C0MEET" in lines
    assert lines[-1].endswith("changes")


def test_summary_piped_keeps_every_cell_whole(tmp_path: Path) -> None:
    oneday(tmp_path, "partnership", "load", str(SAMPLE))
    summary = oneday(tmp_path, "partnership", "summary")
    assert "OFFICIAL-SENSITIVE" in summary and "…" not in summary
    assert "Prolific and priority offenders" in summary


def test_help_names_values_not_python_types(tmp_path: Path) -> None:
    text = oneday(tmp_path, "targets", "import", "--help")
    assert "--map HEADER=FIELD" in text
    assert "list[str]" not in text and "<bool>" not in text
    assert "--date YYYY-MM-DD" in oneday(tmp_path, "agenda", "plan", "--help")


def test_the_manifest_suggests_distinctive_names_while_the_generic_ones_are_used(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONEDAY_COMMAND_")}
    generic = subprocess.run([str(ONEDAY), "slack", "manifest"], capture_output=True, text=True, env=env,
                             timeout=120, check=False)
    assert generic.returncode == 0 and generic.stdout.startswith("display_information")
    assert "/agenda, /action, /outcome, /actions, /oneday, /decision, /inform are generic names" in generic.stderr
    assert "ONEDAY_COMMAND_AGENDA=/od-agenda" in generic.stderr
    renamed = {**env, **{f"ONEDAY_COMMAND_{i.upper()}": f"/od-{i}" for i in
                         ("agenda", "action", "outcome", "actions", "oneday", "decision", "inform")}}
    distinct = subprocess.run([str(ONEDAY), "slack", "manifest"], capture_output=True, text=True, env=renamed,
                              timeout=120, check=False)
    assert distinct.returncode == 0 and distinct.stderr == "" and "/od-agenda" in distinct.stdout
