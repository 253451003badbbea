"""Microsoft Teams as a platform of Oneday (bot/platforms.py): its settings, `POST /api/messages`, outbound
port, conversation-reference table, `oneday teams ...` and Teams' limits. Configured only when TEAMS_APP_ID is
set; Slack runs alone, Teams alone, or both in one `oneday serve`. The SDK (microsoft_teams) and httpx are
imported inside the methods that need them, so the CLI starts without them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from bot.platform import ERASES_SENT, TEAMS_LIMITS, Limit
from bot.teams.settings import UNSAFE_SWITCH, TeamsSettings, from_env, teams_settings
from commands.core.errors import OnedayError

if TYPE_CHECKING:
    import typer
    from sqlalchemy import Engine, MetaData
    from sqlalchemy.orm import Session, sessionmaker

    from bot.config import Settings
    from bot.port import ChatPort
    from bot.runner import Runner
    from bot.teams.inbound import TeamsInbound


class TeamsPlatform:
    name = "teams"
    limits: tuple[Limit, ...] = TEAMS_LIMITS
    # Teams cannot be asked what was sent (no LOOKS_UP_SENT); its port deletes what it sent and empties section
    # chats for retention (ERASES_SENT: bot/teams/port.py).
    capabilities: frozenset[str] = frozenset({ERASES_SENT})

    def settings_from_env(self, env: Mapping[str, str]) -> TeamsSettings:
        return from_env(env)

    def configured(self, settings: Settings) -> bool:
        return bool(teams_settings(settings).app_id)

    def problem(self, settings: Settings, *, serving: bool) -> OnedayError | None:
        import os

        s = teams_settings(settings)
        command = "serve" if serving else "worker"
        if s.app_id:
            import microsoft_teams.apps  # noqa: F401 - as every SDK user does: it loads a .env up the tree
        if s.unsafe_switch or os.environ.get(UNSAFE_SWITCH):
            return OnedayError(f"{UNSAFE_SWITCH} is set (in the environment or a .env file, which the Teams SDK "
                               "loads): Oneday always validates Teams requests; remove it",
                               example=f"unset {UNSAFE_SWITCH}; oneday {command}")
        if not s.app_id or not s.app_password:
            return OnedayError("TEAMS_APP_ID and TEAMS_APP_PASSWORD must both be set for Teams",
                               example=f"TEAMS_APP_ID=... TEAMS_APP_PASSWORD=... oneday {command}")
        return None

    def register_tables(self, metadata: MetaData) -> None:
        from bot.teams.tables import register_tables

        register_tables(metadata)

    def cli(self) -> typer.Typer:
        from bot.teams.cli import teams_app

        return teams_app

    def outgoing_port(self, settings: Settings, engine: Engine, factory: sessionmaker[Session]) -> ChatPort:
        from bot.clock import system_clock
        from bot.teams.port import build_port

        return build_port(teams_settings(settings), factory, system_clock)

    def inbound(self, settings: Settings, *, engine: Engine, runner: Runner) -> TeamsInbound:
        from bot.teams.inbound import TeamsInbound

        return TeamsInbound(teams_settings(settings), engine=engine, runner=runner)

    def __repr__(self) -> str:
        return "TeamsPlatform()"


TEAMS = TeamsPlatform()
