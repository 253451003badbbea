"""A plain wheel works: built the way `pip install .` builds it, unpacked, and run with no source tree in sight.

The editable install the tests run under reads everything from the repository, so it hides files the package
leaves out (the sample partnership `oneday demo` loads, the migrations and their template). This builds the real
wheel from a copy of the tree, unpacks it (a wheel is a zip) and runs `oneday demo --quiet` from it, in an empty
directory, with only the unpacked wheel and the third-party dependencies on the path.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

from paths import REPO

REPO = REPO
# Left out of the copy that is built: environments, caches, build output and local databases.
NOT_SOURCE = (".git", ".venv", ".venv-lock", "venv", ".tox", ".nox", "build", "dist", "*.egg-info", "__pycache__",
              ".pytest_cache", ".hypothesis", ".ruff_cache", "*.db", "*.db-journal")
# Imports the packages, says where each came from (on stderr), then runs the console script's entry point.
RUN = ("import json, sys, bot, commands, models, migrations\n"
       "print('MODULES ' + json.dumps([m.__file__ for m in (bot, commands, models, migrations)]), file=sys.stderr)\n"
       "from bot.cli import main\n"
       "main()\n")


def build_wheel(tmp_path: Path) -> Path:
    """The project's wheel, built by pip from a copy of the tree (so build/ and *.egg-info never land in it)."""
    src, dist = tmp_path / "src", tmp_path / "dist"
    shutil.copytree(REPO, src, ignore=shutil.ignore_patterns(*NOT_SOURCE))
    # setuptools comes from the lock (make test installs it), so the build needs no package index.
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                           "-w", str(dist), str(src)], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    assert done.returncode == 0, done.stdout + done.stderr
    (wheel,) = dist.glob("oneday-*.whl")
    return wheel


def test_the_demo_runs_from_the_unpacked_wheel_alone(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        assert {"bot/sample/northtown.yaml", "migrations/script.py.mako", "migrations/env.py"} <= names
        assert any(n.startswith("migrations/versions/") and n.endswith(".py") for n in names)
        assert not any(n.startswith(("tests/", "examples/", "benchmarks/")) for n in names)
        site = tmp_path / "site"
        zf.extractall(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    # -S: no site module, so no .pth file runs (the editable install's finder would put the repository back);
    # the dependencies come from this environment's site-packages, named explicitly after the wheel.
    deps = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "SLACK_", "ONEDAY_"))}
    env.update(PYTHONPATH=os.pathsep.join([str(site), *deps]), COLUMNS="200", NO_COLOR="1",
               DATABASE_URL=f"sqlite:///{elsewhere / 'untouched.db'}")
    done = subprocess.run([sys.executable, "-S", "-c", RUN, "demo", "--quiet"], cwd=elsewhere, env=env,
                          capture_output=True, text=True, timeout=300)

    modules = next((json.loads(line[8:]) for line in done.stderr.splitlines() if line.startswith("MODULES ")), [])
    assert modules and all(Path(m).resolve().is_relative_to(site.resolve()) for m in modules), done.stderr
    assert done.returncode == 0, done.stdout + done.stderr
    assert "loaded northtown.yaml: 220 changes" in done.stdout
    assert "demo finished in" in done.stdout.splitlines()[-1]
    assert list(elsewhere.iterdir()) == []  # nothing written where it was run
