"""Slack as a platform of Oneday (bot/platforms.py): its settings, routes, Socket Mode connection, outbound
port, installation tables, `oneday slack ...` and its limits. Imported whenever bot.platforms is, so slack_bolt
and slack_sdk are imported inside the methods that need them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

from bot.platform import ERASES_SENT, LOOKS_UP_SENT, Limit
from bot.slack.settings import SlackSettings, from_env, slack_settings
from commands.core.errors import OnedayError

if TYPE_CHECKING:
    import typer
    from slack_bolt import App
    from slack_bolt.adapter.socket_mode import SocketModeHandler
    from sqlalchemy import Engine, MetaData
    from sqlalchemy.orm import Session, sessionmaker

    from bot.config import Settings
    from bot.http import Route
    from bot.port import ChatPort
    from bot.runner import Runner

log = logging.getLogger("oneday.slack")


class SlackInbound:
    """HTTP: /slack/events (and the OAuth pages) into bolt. Socket Mode (SLACK_APP_TOKEN): events come over
    the socket, and only the OAuth pages, if any, are served over HTTP."""

    def __init__(self, settings: Settings, *, engine: Engine, runner: Runner) -> None:
        from bot.slack import install
        from bot.slack.app import build_app, make_client
        from bot.slack.http import INSTALL_PATH, REDIRECT_PATH, bolt_routes

        s = slack_settings(settings)
        oauth = install.oauth_settings(settings, engine) if s.oauth else None
        # multi-workspace: no token here, each request uses its workspace's installed bot token
        client = make_client(None if s.oauth else s.bot_token, s.api_url)
        self.app: App = build_app(runner=runner, client=client, signing_secret=s.signing_secret, oauth_settings=oauth)
        self.app_token = s.app_token
        self.routes: Mapping[str, Route]
        if self.app_token:
            self.routes = bolt_routes(self.app, (INSTALL_PATH, REDIRECT_PATH), ack_budget=s.ack_budget) if oauth else {}
        else:
            self.routes = bolt_routes(self.app, ack_budget=s.ack_budget)
        self._socket: SocketModeHandler | None = None

    def start(self) -> None:
        if self.app_token:
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            self._socket = SocketModeHandler(self.app, self.app_token)
            self._socket.connect()
            log.info("slack: socket mode connected")

    def stop(self) -> None:
        if self._socket is not None:
            self._socket.close()


class SlackPlatform:
    name = "slack"
    limits: tuple[Limit, ...] = (Limit(1, 1.0),)  # about one message a second per channel
    # conversations.history finds a post by its metadata; chat.delete, files.delete, conversations.archive erase
    capabilities = frozenset({LOOKS_UP_SENT, ERASES_SENT})

    def settings_from_env(self, env: Mapping[str, str]) -> SlackSettings:
        return from_env(env)

    def configured(self, settings: Settings) -> bool:
        s = slack_settings(settings)
        return bool(s.bot_token or s.oauth)

    def problem(self, settings: Settings, *, serving: bool) -> OnedayError | None:
        s = slack_settings(settings)
        command = "serve" if serving else "worker"
        if serving and not s.app_token and not s.signing_secret:
            return OnedayError("SLACK_SIGNING_SECRET is not set: Oneday will not accept unsigned requests",
                               example="SLACK_SIGNING_SECRET=... SLACK_BOT_TOKEN=xoxb-... oneday serve")
        if not s.bot_token and not s.oauth:
            return OnedayError("SLACK_BOT_TOKEN is not set (or, for OAuth installs, SLACK_CLIENT_ID and "
                               "SLACK_CLIENT_SECRET)", example=f"SLACK_BOT_TOKEN=xoxb-... oneday {command}")
        return None

    def register_tables(self, metadata: MetaData) -> None:
        from bot.slack.install_tables import register_installation_tables

        register_installation_tables(metadata)

    def cli(self) -> typer.Typer:
        from bot.cli_slack import slack_app

        return slack_app

    def outgoing_port(self, settings: Settings, engine: Engine, factory: sessionmaker[Session]) -> ChatPort:
        from bot.slack.install import outgoing_client, partnership_clients
        from bot.slack.port import SlackPort

        client = outgoing_client(settings, engine, factory)
        return SlackPort(client, per_partnership=partnership_clients(settings, engine, factory, client))

    def inbound(self, settings: Settings, *, engine: Engine, runner: Runner) -> SlackInbound:
        return SlackInbound(settings, engine=engine, runner=runner)

    def __repr__(self) -> str:
        return "SlackPlatform()"


SLACK = SlackPlatform()
