"""`make bench` itself runs: the agenda scenario end to end in a fresh process, with no data key in its environment
(as on a developer's machine). It once failed at its first migration when target details became sealed, and no test
noticed: the suite sets a key for every process it starts. No timing is asserted; only that it runs and reports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from paths import REPO


def test_the_agenda_benchmark_runs_without_a_data_key_and_reports_both_sizes(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONEDAY_DATA_KEY")}
    out = tmp_path / "plan.json"
    done = subprocess.run([sys.executable, "-m", "benchmarks", "--only", "plan", "--json", str(out)], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Agenda plan + render" in done.stdout
    results = json.loads(out.read_text())
    assert set(results["plan"]["sizes"]) == {"600", "6000"}
    assert results["plan"]["ratio"] > 0
