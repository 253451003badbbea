"""`python -m benchmarks --only mix --workers 2` runs both subjects as servers of two uvicorn worker processes (the
floor through `bot.serve.run_app`, Oneday as `oneday serve --workers 2`), in a fresh process, with few requests:
every command is answered at both sizes, both servers stop with exit status 0 on SIGTERM, and none is left
running. No timing is asserted. (The suite's ONEDAY_ACK_BUDGET_S, tests/conftest.py, reaches the servers: a
loaded machine changes no answer.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from paths import REPO


def _servers_running() -> list[str]:
    """The benchmark's servers still alive: the bare floor, and `oneday serve` on a benchmark's database."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if "oneday serve" in cmd and b"oneday-bench-" not in (proc / "environ").read_bytes():
                continue
        except OSError:
            continue
        if "benchmarks.ack --bare" in cmd or "oneday serve" in cmd:
            found.append(cmd)
    return found


def test_the_mix_at_two_workers_serves_both_subjects_and_stops_them(tmp_path: Path) -> None:
    before = _servers_running()
    out = tmp_path / "mix.json"
    env = {k: v for k, v in os.environ.items() if "PROXY" not in k.upper()}
    done = subprocess.run([sys.executable, "-m", "benchmarks", "--only", "mix", "--workers", "2", "--mix-sequential",
                           "10", "--mix-concurrent", "32", "--concurrency", "4", "--warmup", "4", "--json", str(out)],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "2 uvicorn worker processes each" in done.stdout
    mix = json.loads(out.read_text())["mix"]
    assert mix["meta"]["workers"] == 2 and mix["meta"]["served"] == "separate processes"
    assert mix["server_exits"] == {"floor": 0, "oneday 1x": 0, "oneday 10x": 0}
    assert set(mix["floor"]) == set(mix["sizes"]) == {"1x", "10x"}
    for label in ("1x", "10x"):
        assert all(run["errors"] == 0 and run["requests"] > 0 for run in mix["floor"][label].values())
        commands = mix["sizes"][label]["commands"]
        assert len(commands) == 6
        for name, runs in commands.items():
            assert set(runs) == {"c1", "c4"}, name
            assert all(run["errors"] == 0 and run["requests"] > 0 for run in runs.values()), (name, runs)
    assert mix["fake_slack_rejected"] == 0
    assert mix["fake_slack_calls"].get("views.open", 0) > 0
    assert _servers_running() == before
