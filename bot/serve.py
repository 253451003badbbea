"""`oneday serve` and `oneday worker`: assemble the runtime from settings."""

from __future__ import annotations

import logging
import signal
import threading

from sqlalchemy import text

from bot import db
from bot.config import Settings
from bot.http import make_server
from bot.outbox import Sender
from bot.runner import Runner
from bot.slack import install
from bot.slack.app import build_app, make_client
from bot.slack.port import SlackPort

log = logging.getLogger("oneday.serve")


def serve(settings: Settings, host: str, port: int) -> None:
    engine = db.make_engine(settings.database_url)
    factory = db.session_factory(engine)
    oauth = None
    if settings.slack_oauth:  # multi-workspace: each request uses its workspace's installed bot token
        client = make_client(None, settings.slack_api_url)
        oauth = install.oauth_settings(settings, engine)
    else:
        client = make_client(settings.slack_bot_token, settings.slack_api_url)
    sender = Sender(factory, SlackPort(install.outgoing_client(settings, engine, factory)),
                    lease_seconds=settings.outbox_lease_seconds)
    runner = Runner(factory=factory, names=settings.commands, partnership_key=settings.partnership,
                    on_queued=sender.wake)
    app = build_app(runner=runner, client=client, signing_secret=settings.slack_signing_secret, oauth_settings=oauth)
    sender.start()

    def healthy() -> bool:
        with engine.connect() as conn:
            return conn.execute(text("select 1")).scalar() == 1

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    if settings.slack_app_token:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        handler = SocketModeHandler(app, settings.slack_app_token)
        handler.connect()
        oauth_paths = ("/slack/install", "/slack/oauth_redirect") if oauth else ()  # events come over the socket
        health = make_server(app, host, port, healthy=healthy, slack_paths=oauth_paths)
        threading.Thread(target=health.serve_forever, daemon=True).start()
        log.info("socket mode connected; health on http://%s:%s/healthz", host, health.server_port)
        _wait(stop)
        handler.close()
        health.shutdown()
    else:
        server = make_server(app, host, port, healthy=healthy)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        log.info("listening on http://%s:%s/slack/events", host, server.server_port)
        _wait(stop)
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
    client = install.outgoing_client(settings, engine, factory)
    sender = Sender(factory, SlackPort(client), lease_seconds=settings.outbox_lease_seconds)
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
