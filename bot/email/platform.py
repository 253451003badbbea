"""Email as a platform of Oneday (bot/platforms.py): settings (SMTP_URL, SMTP_FROM), its outbound port, its
pacing; no routes, no tables, no CLI. It delivers only what is addressed to an email destination
(commands/agenda/reach.py): itineraries, without target references, for invitees no chat platform reaches.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from bot.email.settings import EmailSettings, email_settings, from_env
from bot.platform import Limit
from commands.agenda import reach
from commands.core.errors import OnedayError

if TYPE_CHECKING:
    import typer
    from sqlalchemy import Engine, MetaData
    from sqlalchemy.orm import Session, sessionmaker

    from bot.config import Settings
    from bot.http import Route
    from bot.port import ChatPort
    from bot.runner import Runner


class NoInbound:
    """Email receives nothing."""

    routes: Mapping[str, Route] = {}

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass


class EmailPlatform:
    name = "email"
    limits: tuple[Limit, ...] = (Limit(1, 1.0),)  # per address: one a second is plenty for itineraries
    capabilities: frozenset[str] = frozenset()  # SMTP cannot be asked what arrived: at least once

    def settings_from_env(self, env: Mapping[str, str]) -> EmailSettings:
        """Also tells commands/ whether this process can email (`reach.MAIL`), since commands read no
        configuration: the publish answer says when the unreachable invitees cannot be emailed."""
        settings = from_env(env)
        reach.MAIL.configured = settings.configured
        return settings

    def configured(self, settings: Settings) -> bool:
        return email_settings(settings).configured

    def problem(self, settings: Settings, *, serving: bool) -> OnedayError | None:
        """Email alone is not a way to run Oneday: with no chat platform configured, say what the first one
        needs (as `oneday serve` and `oneday worker` did before email was listed)."""
        from bot.platforms import PLATFORMS

        if not email_settings(settings).configured:
            return OnedayError("SMTP_URL is not set", example="SMTP_URL=smtp://mail.internal:25 oneday worker")
        chat = [p for p in PLATFORMS if p.name != self.name]
        if chat and not any(p.configured(settings) for p in chat):
            return chat[0].problem(settings, serving=serving)
        return None

    def register_tables(self, metadata: MetaData) -> None:
        pass

    def cli(self) -> typer.Typer | None:
        return None

    def outgoing_port(self, settings: Settings, engine: Engine, factory: sessionmaker[Session]) -> ChatPort:
        from bot.email.port import EmailPort

        return EmailPort(email_settings(settings))

    def inbound(self, settings: Settings, *, engine: Engine, runner: Runner) -> NoInbound:
        return NoInbound()

    def __repr__(self) -> str:
        return "EmailPlatform()"


EMAIL = EmailPlatform()
