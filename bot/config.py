"""Configuration from the environment, read once at the edge (CLI, serve, worker) and passed down."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_DB = Path("oneday.db")

DEFAULT_COMMANDS = {
    "agenda": "/agenda",
    "action": "/action",
    "outcome": "/outcome",
    "actions": "/actions",
    "oneday": "/oneday",
}


@dataclass(frozen=True)
class Settings:
    database_url: str
    partnership: str | None = None
    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_api_url: str | None = None
    slack_client_id: str | None = None  # with the secret: multi-workspace OAuth install (bot/slack/install.py)
    slack_client_secret: str | None = None
    slack_scopes: tuple[str, ...] | None = None  # default: the manifest's bot scopes
    commands: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_COMMANDS))
    outbox_lease_seconds: float = 60.0
    job_interval_seconds: float = 60.0

    @property
    def slack_oauth(self) -> bool:
        """Multi-workspace: each workspace installs the app through /slack/install (no SLACK_BOT_TOKEN)."""
        return bool(self.slack_client_id and self.slack_client_secret)


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def from_env(env: os._Environ[str] | dict[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    commands = dict(DEFAULT_COMMANDS)
    for name in DEFAULT_COMMANDS:
        override = env.get(f"ONEDAY_COMMAND_{name.upper()}")
        if override:
            commands[name] = override if override.startswith("/") else f"/{override}"
    return Settings(
        database_url=env.get("DATABASE_URL") or sqlite_url(DEFAULT_DB),
        partnership=env.get("ONEDAY_PARTNERSHIP") or None,
        slack_bot_token=env.get("SLACK_BOT_TOKEN") or None,
        slack_signing_secret=env.get("SLACK_SIGNING_SECRET") or None,
        slack_app_token=env.get("SLACK_APP_TOKEN") or None,
        slack_api_url=env.get("SLACK_API_URL") or None,
        slack_client_id=env.get("SLACK_CLIENT_ID") or None,
        slack_client_secret=env.get("SLACK_CLIENT_SECRET") or None,
        slack_scopes=tuple(s.strip() for s in (env.get("SLACK_SCOPES") or "").split(",") if s.strip()) or None,
        commands=commands,
        outbox_lease_seconds=float(env.get("ONEDAY_OUTBOX_LEASE_SECONDS") or 60),
        job_interval_seconds=float(env.get("ONEDAY_JOB_INTERVAL_SECONDS") or 60),
    )
