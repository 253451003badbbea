"""`oneday serve` and `oneday worker`: assemble the runtime from settings, for every configured platform
(bot/platforms.py); nothing here knows a particular platform."""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot import db, platforms
from bot.clock import Clock, system_clock
from bot.config import Settings
from bot.http import Route, make_server
from bot.outbox import Sender
from bot.platform import Inbound, Platform
from bot.redact import safe_url
from bot.runner import Runner

log = logging.getLogger("oneday.serve")


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


def serve(settings: Settings, host: str, port: int) -> None:
    engine = db.make_engine(settings.database_url)
    factory = db.session_factory(engine)
    chosen = platforms.configured(settings)
    sender = sender_for(settings, chosen, engine, factory)
    runner = Runner(factory=factory, names=settings.commands, partnership_key=settings.partnership,
                    on_queued=sender.wake)
    inbounds = [p.inbound(settings, engine=engine, runner=runner) for p in chosen]
    routes = merged_routes(inbounds)
    sender.start()

    def healthy() -> bool:
        with engine.connect() as conn:
            return conn.execute(text("select 1")).scalar() == 1

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    for inbound in inbounds:  # e.g. Slack's Socket Mode: connected before /healthz answers
        inbound.start()
    server = make_server(routes, host, port, healthy=healthy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    log.info("listening on http://%s:%s: %s", host, server.server_port, ", ".join([*routes, "/healthz"]))
    _wait(stop)
    for inbound in inbounds:
        inbound.stop()
    server.shutdown()
    sender.stop()
    engine.dispose()


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
           clock: Clock = system_clock) -> None:
    """Deliver the outbox and run the scheduled jobs until stopped (SIGTERM or Ctrl-C); with `health_file`,
    refresh that file every HEARTBEAT_SECONDS while all is well (see heartbeat)."""
    from bot.scheduler import run_scheduled

    engine = db.make_engine(settings.database_url)
    factory = db.session_factory(engine)
    sender = sender_for(settings, platforms.configured(settings), engine, factory, clock=clock)
    if stop is None:
        stop = stop_on_sigterm()
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
