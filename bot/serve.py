"""`oneday serve` and `oneday worker`: assemble the runtime from settings, for every configured platform
(bot/platforms.py); nothing here knows a particular platform."""

from __future__ import annotations

import logging
import signal
import threading

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from bot import db, platforms
from bot.clock import Clock, system_clock
from bot.config import Settings
from bot.http import Route, make_server
from bot.outbox import Sender
from bot.platform import Inbound, Platform
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


def worker(settings: Settings) -> None:
    """Deliver the outbox and run the scheduled jobs until stopped (SIGTERM or Ctrl-C)."""
    from bot.scheduler import run_scheduled

    engine = db.make_engine(settings.database_url)
    factory = db.session_factory(engine)
    sender = sender_for(settings, platforms.configured(settings), engine, factory)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    sender.start()
    jobs = threading.Thread(target=run_scheduled, args=(factory, stop),
                            kwargs={"every": settings.job_interval_seconds, "names": settings.commands},
                            name="oneday-jobs", daemon=True)
    jobs.start()
    log.info("worker started: outbox, reminders, digest, publish-agenda")
    _wait(stop)
    stop.set()
    jobs.join(timeout=30)
    sender.stop()
    engine.dispose()
