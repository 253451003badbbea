"""Resident memory of `oneday serve`, idle and after 10,000 commands, against a bare bolt app process.

Subjects, each a separate process started by the benchmark, on its own free port of 127.0.0.1, with bolt's
``auth.test`` going to `tests/fake_slack.FakeSlack` in the benchmark process:

* ``oneday``: ``oneday serve --port P`` (the installed console script) with ``DATABASE_URL`` a SQLite file
  (migrated, bot/sample/northtown.yaml loaded), ``SLACK_BOT_TOKEN``, ``SLACK_SIGNING_SECRET`` and
  ``SLACK_API_URL`` = the fake: the production process, outbox thread included.
* ``bare``: ``python -m benchmarks.memory --bare-app PORT``: a ``slack_bolt.App(process_before_response=True)``
  whose ``/oneday`` listener only calls ``ack()``, served by the same uvicorn edge (``bot.serve.run_app``).

RSS is ``VmRSS`` from ``/proc/<pid>/status``: once the process answers ``/healthz`` and has been idle 1 s, then
after every 2,000 of 10,000 signed ``/oneday whoami`` commands (U0TOM), sent by the separate load-generator
process of benchmarks/ack.py over 4 keep-alive connections (1 s idle before each reading). Peak is ``VmHWM``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from benchmarks.ack import (
    ONEDAY_EXPECT,
    ROOT,
    SECRET,
    TOKEN,
    LoadClient,
    _tests_on_path,
)

ONEDAY = Path(sys.executable).parent / "oneday"
SUBJECTS = {"oneday": "oneday serve", "bare": "bare bolt app (pbr=True)"}


def status_kb(pid: int, field: str) -> int:
    """A `VmRSS`-style field of /proc/<pid>/status, in kB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/{pid}/status has no {field}")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def process(cmd: list[str], env: dict[str, str], port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Start `cmd`, wait until http://127.0.0.1:port/healthz answers 200; always stopped on exit."""
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                        if r.status == 200:
                            break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"{cmd[0]} did not start:\n{log.read_text()[-2000:]}") from None
                    time.sleep(0.1)
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


def measure(proc: subprocess.Popen[bytes], client: LoadClient, url: str, *, commands: int, step: int,
            concurrency: int, expect: str | None, say: Callable[[str], None], label: str) -> dict[str, Any]:
    time.sleep(1.0)
    idle = status_kb(proc.pid, "VmRSS")
    samples = [{"commands": 0, "rss_kb": idle}]
    errors, first_error, wall = 0, None, 0.0
    for done in range(step, commands + 1, step):
        raw = client.run(url, requests=step, concurrency=concurrency, warmup=0, expect=expect)
        errors += raw["errors"]
        first_error = first_error or raw["first_error"]
        wall += raw["wall"]
        time.sleep(1.0)
        samples.append({"commands": done, "rss_kb": status_kb(proc.pid, "VmRSS")})
        say(f"memory {label}: {done:,} commands, RSS {samples[-1]['rss_kb'] / 1024:.1f} MiB")
    after = samples[-1]["rss_kb"]
    return {"idle_kb": idle, "after_kb": after, "growth_kb": after - idle, "peak_kb": status_kb(proc.pid, "VmHWM"),
            "samples": samples, "commands": commands, "errors": errors, "first_error": first_error,
            "throughput_rps": round(commands / wall, 1) if wall else 0.0}


def run_benchmark(workdir: Path, *, commands: int = 10_000, step: int = 2_000, concurrency: int = 4,
                  progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    _tests_on_path()
    from fake_slack import FakeSlack

    from benchmarks.plan import loaded_db
    from bot.config import sqlite_url

    say = progress or (lambda msg: None)
    started = time.perf_counter()
    results: dict[str, Any] = {"commands": commands, "concurrency": concurrency, "subjects": {}}
    base_env = {k: v for k, v in os.environ.items() if "PROXY" not in k.upper()}
    base_env.pop("SLACK_APP_TOKEN", None)
    with ExitStack() as stack:
        fake = stack.enter_context(FakeSlack())
        client = LoadClient()
        stack.callback(client.close)
        url = sqlite_url(workdir / "serve.db")
        with loaded_db(url):
            pass
        env = {**base_env, "DATABASE_URL": url, "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET,
               "SLACK_API_URL": fake.base_url}
        subjects = {
            "oneday": ([str(ONEDAY), "serve", "--workers", "1", "--port"], ONEDAY_EXPECT),
            "bare": ([sys.executable, "-m", "benchmarks.memory", "--bare-app"], None),
        }
        for name, (cmd, expect) in subjects.items():
            port = free_port()
            say(f"memory: starting {SUBJECTS[name]} on port {port}")
            with process([*cmd, str(port)], env, port, workdir / f"{name}.log") as proc:
                results["subjects"][name] = measure(
                    proc, client, f"http://127.0.0.1:{port}/slack/events", commands=commands, step=step,
                    concurrency=concurrency, expect=expect, say=say, label=name)
                results["subjects"][name]["pid"] = proc.pid
        results["fake_slack_rejected"] = len(fake.rejected)
    one, bare = results["subjects"]["oneday"], results["subjects"]["bare"]
    results["ratio_idle"] = round(one["idle_kb"] / bare["idle_kb"], 2)
    results["ratio_after"] = round(one["after_kb"] / bare["after_kb"], 2)
    results["duration_s"] = round(time.perf_counter() - started, 1)
    return results


def bare_app_main(port: int) -> None:
    """`python -m benchmarks.memory --bare-app PORT`: serve the bare bolt app until terminated."""
    from benchmarks.ack import bare_app
    from bot.asgi import EdgeApp
    from bot.serve import run_app
    from bot.slack.http import bolt_routes

    app = bare_app(os.environ["SLACK_API_URL"], process_before_response=True)
    run_app(EdgeApp(bolt_routes(app)), "127.0.0.1", port)  # the server `oneday serve` runs on


if __name__ == "__main__" and sys.argv[1:2] == ["--bare-app"]:
    bare_app_main(int(sys.argv[2]))
