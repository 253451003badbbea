"""`oneday serve` and `oneday worker`: assemble the runtime from settings, for every configured platform
(bot/platforms.py); nothing here knows a particular platform."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot import db, metrics, platforms
from bot.asgi import EdgeApp, EdgeH11Protocol, Readiness
from bot.clock import Clock, system_clock
from bot.config import Settings
from bot.http import Route
from bot.outbox import Sender
from bot.platform import Inbound, Platform
from bot.redact import safe_url
from bot.runner import Runner

log = logging.getLogger("oneday.serve")

KEEP_ALIVE_SECONDS = 5  # an idle kept-alive connection is closed after this
GRACEFUL_SECONDS = 30  # on SIGTERM, in-flight requests get this long to finish
MAX_HEADER_BYTES = 16 * 1024  # request line and headers
MAX_CONNECTIONS = 256  # per worker; beyond it uvicorn answers 503


def sender_for(settings: Settings, chosen: list[Platform], engine: Engine, factory: sessionmaker[Session], *,
               clock: Clock = system_clock) -> Sender:
    """One sender for the outbox rows of every chosen platform, each through that platform's port."""
    ports = [p.outgoing_port(settings, engine, factory) for p in chosen]
    return Sender(factory, ports, clock=clock, lease_seconds=settings.outbox_lease_seconds)


def merged_routes(inbounds: list[Inbound]) -> dict[str, Route]:
    routes: dict[str, Route] = {}
    for inbound in inbounds:
        for path, handler in inbound.routes.items():
            if path in routes:
                raise ValueError(f"two platforms serve {path}")
            routes[path] = handler
    return routes


def build_app(settings: Settings) -> EdgeApp:
    """The ASGI app of one serving process: every configured platform's routes, /healthz and /readyz. Its startup
    starts the outbox sender and the platforms' own connections (e.g. Slack's Socket Mode); its shutdown, after
    in-flight requests have finished, stops them."""
    engine = db.make_engine(settings.database_url)
    factory = db.session_factory(engine)
    chosen = platforms.configured(settings)
    sender = sender_for(settings, chosen, engine, factory)
    runner = Runner(factory=factory, names=settings.commands, partnership_key=settings.partnership,
                    on_queued=sender.wake)
    inbounds = [p.inbound(settings, engine=engine, runner=runner) for p in chosen]
    routes = merged_routes(inbounds)
    head = db.head_revision()

    def ready() -> Readiness:
        with engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
        ok = current == head
        return Readiness(ok, {"database": "reachable", "schema": "head" if ok else "behind",
                              "revision": current, "head": head})

    def start() -> None:
        sender.start()
        for inbound in inbounds:  # e.g. Slack's Socket Mode: connected before the server accepts
            inbound.start()
        log.info("serving %s", ", ".join([*routes, "/healthz", "/readyz"]))

    def stop() -> None:
        for inbound in inbounds:
            inbound.stop()
        sender.stop()
        engine.dispose()

    gauges = metrics.DatabaseCollector(factory, system_clock)
    return EdgeApp(routes, ready=ready, on_start=start, on_stop=stop, metrics=lambda: metrics.render([gauges]))


def create_app() -> EdgeApp:
    """The app factory each uvicorn worker process imports (`oneday serve --workers N`, N > 1): settings from
    the environment, which `serve` has made match its own."""
    from bot import config, logs

    logs.configure()
    settings = config.check_keys(config.from_env())
    db.use_keys(settings)
    return build_app(settings)


def serve(settings: Settings, host: str, port: int, workers: int = 1) -> None:
    """Serve on uvicorn until SIGTERM (or Ctrl-C): stop accepting, finish in-flight requests (up to
    GRACEFUL_SECONDS), stop the sender and connections, return (exit status 0).

    With workers > 1 each worker process builds its own app from `create_app`, so each has its own outbox
    sender (rows are claimed with leases, so several senders share the outbox safely, as several
    `oneday worker`s do) and, with Socket Mode, its own connection (Slack spreads events over them)."""
    if workers > 1:
        os.environ["DATABASE_URL"] = settings.database_url  # --database-url and --partnership reach the workers
        if settings.partnership:
            os.environ["ONEDAY_PARTNERSHIP"] = settings.partnership
        # Each worker counts into this run's directory; a scrape of any worker adds every worker's counts up.
        chosen = bool(os.environ.get(metrics.MULTIPROC_ENV))
        counts = metrics.multiprocess_dir()
        os.environ[metrics.MULTIPROC_ENV] = str(counts)
        try:
            run_app("bot.serve:create_app", host, port, workers=workers)
        finally:
            metrics.remove_multiprocess_dir(counts, chosen=chosen)
    else:
        run_app(build_app(settings), host, port)


def run_app(app: EdgeApp | str, host: str, port: int, *, workers: int = 1) -> None:
    """Serve `app` (or, for workers > 1, the import string of an app factory) on uvicorn with the edge's limits
    until SIGTERM or Ctrl-C; returns after a graceful stop. The benchmark's bare bolt app runs here too."""
    import uvicorn

    options: dict[str, Any] = dict(
        host=host, port=port, log_config=None, access_log=False, server_header=False, http=EdgeH11Protocol,
        timeout_keep_alive=KEEP_ALIVE_SECONDS, timeout_graceful_shutdown=GRACEFUL_SECONDS,
        h11_max_incomplete_event_size=MAX_HEADER_BYTES, limit_concurrency=MAX_CONNECTIONS, lifespan="on",
    )
    # uvicorn re-raises the SIGTERM it handled once it has shut down: a handler of ours makes that a no-op, so
    # the process exits 0 after a graceful stop instead of dying of the signal.
    signal.signal(signal.SIGTERM, lambda *_: None)
    if isinstance(app, str):
        uvicorn.run(app, factory=True, workers=workers, **options)
        return
    server = uvicorn.Server(uvicorn.Config(app, **options))
    server.run()
    if not server.started:
        raise SystemExit(3)


def _wait(stop: threading.Event) -> None:
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass


# Waiting for the database at start-up: 0.5 s, 1 s, 2 s, ... then every 30 s, until it answers or SIGTERM.
FIRST_RETRY_SECONDS = 0.5
MAX_RETRY_SECONDS = 30.0
# How often the worker proves it is alive (--health-file); a check should allow a few beats, e.g. 60 s.
HEARTBEAT_SECONDS = 15.0


def stop_on_sigterm() -> threading.Event:
    """An event SIGTERM sets: what `docker stop` and systemd send before they kill."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    return stop


def _reason(exc: DBAPIError) -> str:
    """The driver's first line (e.g. 'connection refused'): no statement, no parameters, no password."""
    orig = exc.orig if exc.orig is not None else exc
    first = (str(orig).strip().splitlines() or [""])[0]
    return f"{type(orig).__name__}: {first[:200]}"


def wait_for_database(url: str, stop: threading.Event, *, first: float = FIRST_RETRY_SECONDS,
                      cap: float = MAX_RETRY_SECONDS) -> bool:
    """Block until the database at `url` answers (True), or `stop` is set first (False). Each failed attempt is
    logged (one JSON line: attempt, retry_in, reason) and followed by a wait that doubles up to `cap`."""
    connect_args = {"connect_timeout": 10} if db.dialect_of(url) == "postgresql" else {}
    engine = db.make_engine(url, connect_args=connect_args) if connect_args else db.make_engine(url)
    delay, attempt = first, 0
    try:
        while not stop.is_set():
            attempt += 1
            try:
                with engine.connect() as conn:
                    conn.execute(text("select 1"))
            except DBAPIError as exc:
                log.warning("database not reachable (attempt %d); trying again in %.1f s", attempt, delay,
                            extra={"fields": {"attempt": attempt, "retry_in": delay, "database": safe_url(url),
                                              "reason": _reason(exc)}})
                if stop.wait(delay):
                    break
                delay = min(delay * 2, cap)
                continue
            if attempt > 1:
                log.info("database reachable after %d attempts", attempt, extra={"fields": {"attempt": attempt}})
            return True
    except KeyboardInterrupt:
        pass
    finally:
        engine.dispose()
    log.info("stopped while waiting for the database")
    return False


def heartbeat(path: Path, engine: Engine, alive: list[Callable[[], bool]], clock: Clock) -> bool:
    """Write the time (from `clock`) to `path`, refreshing its modification time, if the worker's threads are all
    alive and the database answers; otherwise log why and leave the file to grow stale."""
    if not all(check() for check in alive):
        log.error("heartbeat skipped: a worker thread has stopped")
        return False
    try:
        with engine.connect() as conn:
            conn.execute(text("select 1"))
    except SQLAlchemyError as exc:
        reason = _reason(exc) if isinstance(exc, DBAPIError) else type(exc).__name__
        log.warning("heartbeat skipped: database not reachable", extra={"fields": {"reason": reason}})
        return False
    try:
        path.write_text(clock().isoformat() + "\n", encoding="utf-8")
    except OSError as exc:
        log.error("heartbeat: cannot write %s: %s", path, exc.strerror or exc)
        return False
    return True


def worker(settings: Settings, *, stop: threading.Event | None = None, health_file: Path | None = None,
           clock: Clock = system_clock, metrics_at: tuple[str, int] | None = None) -> None:
    """Deliver the outbox and run the scheduled jobs until stopped (SIGTERM or Ctrl-C); with `health_file`,
    refresh that file every HEARTBEAT_SECONDS while all is well (see heartbeat); with `metrics_at` (host, port),
    serve this process's Prometheus metrics there (bot/metrics.py)."""
    from bot.scheduler import run_scheduled

    engine = db.make_engine(settings.database_url)
    factory = db.session_factory(engine)
    sender = sender_for(settings, platforms.configured(settings), engine, factory, clock=clock)
    if stop is None:
        stop = stop_on_sigterm()
    if metrics_at is not None:
        metrics.serve_worker_metrics(metrics_at[1], metrics_at[0], factory, clock)
    sender.start()
    jobs = threading.Thread(target=run_scheduled, args=(factory, stop),
                            kwargs={"every": settings.job_interval_seconds, "names": settings.commands,
                                    "clock": clock},
                            name="oneday-jobs", daemon=True)
    jobs.start()
    log.info("worker started: outbox, reminders, digest, publish-agenda")
    if health_file is None:
        _wait(stop)
    else:
        log.info("heartbeat every %.0f s to %s", HEARTBEAT_SECONDS, health_file)
        _beat(stop, lambda: heartbeat(health_file, engine, [jobs.is_alive, lambda: sender.running], clock))
    stop.set()
    jobs.join(timeout=30)
    sender.stop()
    engine.dispose()


def _beat(stop: threading.Event, beat: Callable[[], object], every: float = HEARTBEAT_SECONDS) -> None:
    """`beat()` now and every `every` seconds until `stop` (short waits, so SIGTERM and Ctrl-C are prompt)."""
    try:
        while not stop.is_set():
            beat()
            due = time.monotonic() + every
            while not stop.wait(min(0.5, max(due - time.monotonic(), 0))) and time.monotonic() < due:
                pass
    except KeyboardInterrupt:
        pass
