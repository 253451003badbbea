"""Slash-command ack latency through the full HTTP stack.

Signed HTTP POST over loopback -> bot/asgi.py on uvicorn -> bolt signature check -> listener -> ack -> HTTP reply.

Subjects, all served in this process by the same uvicorn edge, each on its own free port:

* ``oneday``: `build_app` with a real `Runner` on a SQLite file (migrated, bot/sample/northtown.yaml loaded)
  answering ``/oneday whoami`` for U0TOM: identity lookup, reply rendered to blocks, sent in the ack.
* ``bare_pbr`` (baseline A): a bare ``slack_bolt.App(process_before_response=True)`` whose listener only
  calls ``ack()``: the floor for this server + bolt, with the same ack mode Oneday uses.
* ``bare_default`` (baseline B): the same bare app with bolt's defaults (``process_before_response=False``:
  the listener runs on bolt's executor and the request thread polls for the ack every 10 ms).

The load generator runs in a separate process (``python -m benchmarks.ack --client``, driven over
stdin/stdout with JSON lines) so that client threads do not compete with the server for this process's GIL.
Each worker thread opens one keep-alive connection before the clock starts and reuses it for all its requests;
every subject is driven the same way.  Latency is measured by the client, from just before the request is
written to after the body is read; signing the request is done before the clock starts.
"""

from __future__ import annotations

import http.client
import json
import math
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
NORTHTOWN = ROOT / "bot" / "sample" / "northtown.yaml"

SECRET = "bench-signing-secret-" + "0" * 16
TOKEN = "xoxb-bench-token"
USER = "U0TOM"  # tom.ashby in bot/sample/northtown.yaml
COMMAND, TEXT = "/oneday", "whoami"
ONEDAY_EXPECT = "Tom Ashby"  # the rendered whoami reply names the member


def _tests_on_path() -> None:
    if str(TESTS) not in sys.path:
        sys.path.insert(0, str(TESTS))


# --------------------------------------------------------------------------------------------- results
@dataclass
class Run:
    subject: str
    concurrency: int
    requests: int
    p50_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float
    throughput_rps: float
    wall_s: float
    errors: int
    first_error: str | None = None
    connect_retries: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list (q in 0..1)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[rank - 1]


def summarize(subject: str, concurrency: int, raw: dict[str, Any]) -> Run:
    lat = sorted(raw["latencies"])
    n = len(lat)
    return Run(subject=subject, concurrency=concurrency, requests=n,
               p50_ms=round(percentile(lat, 0.50) * 1000, 3), p99_ms=round(percentile(lat, 0.99) * 1000, 3),
               mean_ms=round(sum(lat) / n * 1000, 3) if n else float("nan"),
               max_ms=round(lat[-1] * 1000, 3) if n else float("nan"),
               throughput_rps=round(n / raw["wall"], 1) if raw["wall"] else float("nan"),
               wall_s=round(raw["wall"], 3), errors=raw["errors"], first_error=raw["first_error"],
               connect_retries=raw.get("connect_retries", 0))


# --------------------------------------------------------------------------------------------- client side
def _command_body(user_id: str, text: str, command: str) -> str:
    """The form Slack posts for a slash command (same fields as tests/slack_requests.send_command)."""
    from slack_requests import (
        APP_ID,
        CHANNEL_ID,
        CHANNEL_NAME,
        DEAD_RESPONSE_URL,
        TEAM_DOMAIN,
        TEAM_ID,
        USER_NAME,
        new_trigger_id,
    )

    return urlencode({"token": "legacy-verification-token", "team_id": TEAM_ID, "team_domain": TEAM_DOMAIN,
                      "channel_id": CHANNEL_ID, "channel_name": CHANNEL_NAME, "user_id": user_id,
                      "user_name": USER_NAME, "command": command, "text": text, "api_app_id": APP_ID,
                      "is_enterprise_install": "false", "response_url": DEAD_RESPONSE_URL,
                      "trigger_id": new_trigger_id()})


def _button_body(user_id: str, action_id: str, value: str) -> str:
    """The form Slack posts for a button press (tests/slack_requests.block_actions_payload, fresh trigger id)."""
    from slack_requests import block_actions_payload

    return urlencode({"payload": json.dumps(block_actions_payload(action_id, value, user_id=user_id))})


def run_load(url: str, secret: str, *, requests: int, concurrency: int, warmup: int, expect: str | None,
             user_id: str = USER, text: str = TEXT, command: str = COMMAND, texts: list[str] | None = None,
             button: str | None = None, values: list[str] | None = None) -> dict[str, Any]:
    """Drive `requests` signed commands with `concurrency` keep-alive connections; per-request latencies.

    `texts` (cycled, warm-up included) gives each request its own command text; `button` with `values` sends
    button presses (block_actions) instead of a command."""
    import itertools

    from slack_requests import sign

    counter = itertools.count()  # next() on it is atomic under the GIL: each request takes its own index

    def body_of() -> str:
        i = next(counter)
        if button is not None:
            return _button_body(user_id, button, (values or [""])[i % len(values or [""])])
        return _command_body(user_id, texts[i % len(texts)] if texts else text, command)

    parts = urlsplit(url)
    share = [requests // concurrency + (1 if i < requests % concurrency else 0) for i in range(concurrency)]
    warm = [warmup // concurrency + (1 if i < warmup % concurrency else 0) for i in range(concurrency)]
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    errors: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(concurrency + 1)
    done = threading.Barrier(concurrency + 1)

    def connect() -> http.client.HTTPConnection:
        conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
        conn.connect()
        return conn

    def one(conn: http.client.HTTPConnection) -> tuple[float, str | None]:
        body = body_of().encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(secret, body)}
        started = time.perf_counter()
        conn.request("POST", parts.path, body, headers)
        resp = conn.getresponse()
        data = resp.read()
        elapsed = time.perf_counter() - started
        if resp.status != 200:
            return elapsed, f"HTTP {resp.status}: {data[:200]!r}"
        if expect is not None and expect.encode() not in data:
            return elapsed, f"unexpected body: {data[:200]!r}"
        return elapsed, None

    def fail(exc: BaseException, phase: str) -> None:
        with lock:
            errors.append(f"{phase}: {type(exc).__name__}: {exc}")

    retries = 0

    def opened() -> http.client.HTTPConnection:
        """A connection the server has accepted and answered once; setup resets are retried, not counted."""
        nonlocal retries
        for attempt in range(3):
            conn = connect()
            try:
                _, err = one(conn)
                if err:
                    raise RuntimeError(err)
                return conn
            except (OSError, http.client.HTTPException):
                conn.close()
                retries += 1
                if attempt == 2:
                    raise
                time.sleep(0.05)
        raise AssertionError("unreachable")

    # Open the connections one at a time before any load: a burst of new connections against the server's listen
    # backlog is not what is measured here.
    conns: list[http.client.HTTPConnection | None] = []
    for _ in range(concurrency):
        try:
            conns.append(opened())
        except Exception as exc:
            fail(exc, "connect")
            conns.append(None)

    def worker(i: int) -> None:
        conn = conns[i]
        try:  # warm up before the clock starts
            for _ in range(warm[i]):
                if conn is None:
                    conn = connect()
                one(conn)
        except Exception as exc:
            fail(exc, "warm-up")
            if conn is not None:
                conn.close()
            conn = None
        barrier.wait()
        mine = latencies[i]
        try:
            for _ in range(share[i]):
                if conn is None:
                    conn = connect()
                try:
                    elapsed, err = one(conn)
                    mine.append(elapsed)
                except (OSError, http.client.HTTPException) as exc:
                    fail(exc, f"request {len(mine) + 1} of {share[i]}")
                    conn.close()
                    conn = None
                    continue
                if err:
                    with lock:
                        errors.append(err)
        except Exception as exc:
            fail(exc, "reconnect")
        finally:
            if conn is not None:
                conn.close()
            done.wait()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(concurrency)]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    done.wait()
    wall = time.perf_counter() - started
    for t in threads:
        t.join(5)
    return {"latencies": [x for per in latencies for x in per], "wall": wall, "errors": len(errors),
            "first_error": errors[0] if errors else None, "connect_retries": retries}


def client_main() -> None:
    """`python -m benchmarks.ack --client`: one JSON job per stdin line, one JSON result per stdout line."""
    _tests_on_path()
    for line in sys.stdin:
        if not line.strip():
            continue
        job = json.loads(line)
        try:
            result = run_load(**job)
        except Exception as exc:  # report, never hang the parent
            result = {"latencies": [], "wall": 0.0, "errors": 1, "first_error": f"client: {exc!r}", "connect_retries": 0}
        sys.stdout.write(json.dumps(result) + "\n")
        sys.stdout.flush()


class LoadClient:
    """The load-generator process; `run(...)` sends it one job and waits for the latencies."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "benchmarks.ack", "--client"], cwd=ROOT,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=dict(os.environ))

    def run(self, url: str, *, requests: int, concurrency: int, warmup: int, expect: str | None,
            user_id: str = USER, **what: Any) -> dict[str, Any]:
        """`what`: run_load's command, text, texts, button and values."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        job = {"url": url, "secret": SECRET, "requests": requests, "concurrency": concurrency, "warmup": warmup,
               "expect": expect, "user_id": user_id, **what}
        self.proc.stdin.write(json.dumps(job) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"load client exited (code {self.proc.poll()})")
        return json.loads(line)

    def close(self) -> None:
        try:
            if self.proc.stdin:
                self.proc.stdin.close()
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        finally:
            if self.proc.stdout:
                self.proc.stdout.close()


# --------------------------------------------------------------------------------------------- server side
@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Serve `app` on the production edge (bot/asgi.py on uvicorn, as `oneday serve` runs it) on a free port, in
    a thread of this process; yields the events URL."""
    import socket

    import uvicorn

    from bot.asgi import EdgeApp, EdgeH11Protocol
    from bot.serve import KEEP_ALIVE_SECONDS
    from bot.slack.http import bolt_routes

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(EdgeApp(bolt_routes(app)), host="127.0.0.1", port=port, log_config=None,
                                           access_log=False, http=EdgeH11Protocol, lifespan="on",
                                           timeout_keep_alive=KEEP_ALIVE_SECONDS))
    thread = threading.Thread(target=server.run, name=f"bench-server-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the benchmark server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}/slack/events"
    finally:
        server.should_exit = True
        thread.join(5)


def bare_app(base_url: str, *, process_before_response: bool) -> Any:
    from slack_bolt import Ack, App
    from slack_sdk import WebClient

    app = App(process_before_response=process_before_response, client=WebClient(base_url=base_url, token=TOKEN),
              signing_secret=SECRET)

    @app.command(COMMAND)
    def _ack_only(ack: Ack) -> None:
        ack()

    return app


def bare_edge_app() -> Any:
    """App factory for `bot.serve.run_app("benchmarks.ack:bare_edge_app", ..., workers=N)`: the floor (a bare bolt
    app, process_before_response=True, on the edge) built in each uvicorn worker process from the environment
    (SLACK_API_URL: the fake Slack). Logs are configured as `oneday serve`'s are, so each worker's "Application
    startup complete" is written (the benchmark waits for one per worker)."""
    from bot import logs
    from bot.asgi import EdgeApp
    from bot.slack.http import bolt_routes

    logs.configure()
    app = bare_app(os.environ["SLACK_API_URL"], process_before_response=True)
    return EdgeApp(bolt_routes(app), on_stop=lambda: shutdown_app(app))


def bare_main(port: int, workers: int) -> None:
    """`python -m benchmarks.ack --bare PORT WORKERS`: serve `bare_edge_app` with `workers` uvicorn worker processes
    through `bot.serve.run_app` (the options `oneday serve --workers N` runs with) until SIGTERM."""
    from bot.serve import run_app

    run_app("benchmarks.ack:bare_edge_app", "127.0.0.1", port, workers=workers)


def shutdown_app(app: Any) -> None:
    """Stop bolt's listener executor (used by process_before_response=False) so no worker outlives the run."""
    executor = getattr(getattr(app, "_listener_runner", None), "listener_executor", None)
    if executor is not None and hasattr(executor, "shutdown"):
        executor.shutdown(wait=True)


def partnership_text(extra_members: int) -> str:
    """bot/sample/northtown.yaml with `extra_members` generated members appended to the members section."""
    text = NORTHTOWN.read_text()
    if not extra_members:
        return text
    agencies = ["police", "probation", "housing", "community-safety", "trading-standards", "dwp", "hmrc", "rsl"]
    cohorts = ["ocg", "county-lines", "gangs", "hcc", "ppo"]
    lines = [f"  - {{key: bench.m{i:04d}, name: Bench Member {i:04d}, email: bench.m{i:04d}@bench.example, "
             f"agency: {agencies[i % len(agencies)]}, roles: [partner], slack: UBENCH{i:04d}, "
             f"cohorts: [{cohorts[i % len(cohorts)]}]}}" for i in range(extra_members)]
    head, sep, tail = text.partition("\ntargets:")
    if not sep:
        raise RuntimeError(f"{NORTHTOWN}: no top-level 'targets:' section to insert members before")
    return head.rstrip("\n") + "\n" + "\n".join(lines) + "\n" + sep + tail


@contextmanager
def oneday_app(base_url: str, workdir: Path, *, extra_members: int = 0) -> Iterator[tuple[Any, int]]:
    """A migrated, loaded SQLite file DB and the real Oneday bolt app on it; yields (app, active members)."""
    from sqlalchemy import func, select

    from bot import db
    from bot.clock import system_clock
    from bot.config import DEFAULT_COMMANDS, sqlite_url
    from bot.runner import Runner
    from bot.slack.app import build_app, make_client
    from commands.partnership.file import load
    from models import Member

    path = workdir / f"oneday-{extra_members}.db"
    url = sqlite_url(path)
    db.upgrade(url)
    engine = db.make_engine(url)
    try:
        factory = db.session_factory(engine)
        with db.unit_of_work(factory) as session:
            load(session, partnership_text(extra_members), source=f"northtown+{extra_members}.yaml", actor="bench",
                 now=system_clock())
        with db.unit_of_work(factory) as session:
            members = session.scalar(select(func.count()).select_from(Member).where(Member.active.is_(True)))
        runner = Runner(factory=factory, names=dict(DEFAULT_COMMANDS))
        app = build_app(runner=runner, client=make_client(TOKEN, base_url), signing_secret=SECRET)
        yield app, int(members or 0)
    finally:
        engine.dispose()


def check(url: str, expect: str | None) -> None:
    """One request through tests/slack_requests.send_command before measuring: the subject answers correctly."""
    from slack_requests import send_command

    status, body, _ = send_command(url, SECRET, COMMAND, TEXT, user_id=USER)
    if status != 200 or (expect is not None and expect not in body):
        raise RuntimeError(f"{url}: smoke request answered {status}: {body[:300]!r}")


# --------------------------------------------------------------------------------------------- the benchmark
SUBJECTS = {
    "oneday": "Oneday whoami",
    "bare_pbr": "A: bare bolt, pbr=True",
    "bare_default": "B: bare bolt, defaults",
}


def run_benchmark(*, sequential: int = 500, concurrent: int = 2000, concurrency: int = 16, warmup: int = 50,
                  growth_members: int = 10, progress: Any = None) -> dict[str, Any]:
    """Run every scenario; returns a JSON-ready dict (meta, runs, growth)."""
    _tests_on_path()
    from fake_slack import FakeSlack

    say = progress or (lambda msg: None)
    results: dict[str, Any] = {"runs": {}, "growth": {}}
    started = time.perf_counter()
    with ExitStack() as stack:
        client = LoadClient()
        stack.callback(client.close)
        fake = stack.enter_context(FakeSlack())
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="oneday-bench-")))

        say("preparing Oneday (migrate + load northtown)")
        oneday, base_members = stack.enter_context(oneday_app(fake.base_url, workdir))
        apps = {"oneday": oneday,
                "bare_pbr": bare_app(fake.base_url, process_before_response=True),
                "bare_default": bare_app(fake.base_url, process_before_response=False)}
        for app in apps.values():
            stack.callback(shutdown_app, app)
        urls = {name: stack.enter_context(serve(app)) for name, app in apps.items()}
        expects = {"oneday": ONEDAY_EXPECT, "bare_pbr": None, "bare_default": None}
        for name, url in urls.items():
            check(url, expects[name])

        for conc, n in ((1, sequential), (concurrency, concurrent)):
            for name, url in urls.items():
                say(f"{SUBJECTS[name]}: concurrency {conc}, {n} requests")
                raw = client.run(url, requests=n, concurrency=conc, warmup=warmup, expect=expects[name])
                results["runs"].setdefault(name, {})[f"c{conc}"] = summarize(name, conc, raw).as_dict()

        extra = base_members * (growth_members - 1)
        say(f"preparing Oneday at {growth_members}x members ({extra} generated)")
        big, big_members = stack.enter_context(oneday_app(fake.base_url, workdir, extra_members=extra))
        stack.callback(shutdown_app, big)
        big_url = stack.enter_context(serve(big))
        check(big_url, ONEDAY_EXPECT)
        for label, url, members in (("1x", urls["oneday"], base_members),
                                    (f"{growth_members}x", big_url, big_members)):
            say(f"growth {label} ({members} members): concurrency 1, {sequential} requests")
            raw = client.run(url, requests=sequential, concurrency=1, warmup=warmup, expect=ONEDAY_EXPECT)
            results["growth"][label] = {"members": members, **summarize(f"oneday-{label}", 1, raw).as_dict()}
        one, many = results["growth"]["1x"], results["growth"][f"{growth_members}x"]
        results["growth"]["p50_ratio"] = round(many["p50_ms"] / one["p50_ms"], 3)
        unrejected = not fake.rejected
    results["meta"] = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "nproc": os.cpu_count(),
        "python": sys.version.split()[0],
        "slack_bolt": _version("slack_bolt"),
        "sqlalchemy": _version("sqlalchemy"),
        "sequential_requests": sequential, "concurrent_requests": concurrent, "concurrency": concurrency,
        "warmup": warmup, "keep_alive": True, "client": "separate process", "database": "SQLite file (WAL)",
        "fake_slack_rejections": 0 if unrejected else "some",
        "duration_s": round(time.perf_counter() - started, 1),
        "run_id": secrets.token_hex(4),
    }
    return results


def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "?"


if __name__ == "__main__" and sys.argv[1:] == ["--client"]:
    client_main()
elif __name__ == "__main__" and sys.argv[1:2] == ["--bare"]:
    bare_main(int(sys.argv[2]), int(sys.argv[3]))
