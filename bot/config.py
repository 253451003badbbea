"""Configuration from the environment, read once at the edge (CLI, serve, worker) and passed down.

Every value that is parsed is checked here, at start-up, not where it is first used: a bad value is a
`ConfigError` naming the variable, the value and a correct example, which the CLI prints as one line
(bot/cli.py) instead of a traceback minutes later in a worker thread. The repr of `Settings` masks tokens,
secrets and the database password: settings end up in logs and tracebacks.

Each chat platform reads its own variables (bot/platforms.py `settings_from_env`, e.g. bot/slack/settings.py)
into `Settings.platforms`, under its name; this module knows none of them.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url

from bot.redact import safe_url
from commands.core.names import DEFAULT_NAMES

DEFAULT_DB = Path("oneday.db")

DEFAULT_COMMANDS = DEFAULT_NAMES  # intent -> slash command name, unless ONEDAY_COMMAND_<INTENT> says otherwise
MAX_SHOWN = 80  # characters of a bad value echoed back
COMMAND_NAME = re.compile(r"^/[^\s/]{1,31}$")  # Slack: at most 32 characters, one word


class ConfigError(Exception):
    """A setting has a value Oneday cannot use. `str()` is the whole one-line explanation."""

    def __init__(self, variable: str, value: str, must: str, example: str) -> None:
        shown = value if len(value) <= MAX_SHOWN else value[:MAX_SHOWN] + "..."
        super().__init__(f"{variable} {must}, e.g. {example} (got {shown!r})")
        self.variable = variable


@dataclass(frozen=True, repr=False)
class Settings:
    database_url: str
    partnership: str | None = None
    commands: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_COMMANDS))
    outbox_lease_seconds: float = 60.0
    job_interval_seconds: float = 60.0
    # platform name -> that platform's own settings (each masks its secrets in its repr)
    platforms: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        shown = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "database_url":
                value = safe_url(value)
            shown.append(f"{f.name}={value!r}")
        return f"Settings({', '.join(shown)})"


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def database_url(value: str, name: str = "DATABASE_URL") -> str:
    """A SQLAlchemy URL whose dialect and driver are installed (`postgresql://` means psycopg2, which is not:
    Oneday ships psycopg 3, `postgresql+psycopg://`)."""
    try:
        url = make_url(value)
        url.get_dialect().import_dbapi()
    except Exception as exc:  # ArgumentError, NoSuchModuleError, ImportError: all mean "not a usable URL"
        raise ConfigError(name, safe_url(value), f"must be a database URL Oneday can open ({_reason(exc)})",
                          f"{name}=postgresql+psycopg://user:password@host/oneday") from None
    return value


def _reason(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text if len(text) <= 100 else text[:100] + "..."


def seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise ConfigError(name, raw, "must be a number of seconds greater than 0", f"{name}={default:g}")
    return value


def http_url(env: Mapping[str, str], name: str, example: str) -> str | None:
    raw = env.get(name)
    if not raw:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(name, raw, "must be an http(s) URL", f"{name}={example}")
    return raw


def command_names(env: Mapping[str, str]) -> dict[str, str]:
    commands = dict(DEFAULT_COMMANDS)
    for intent, default in DEFAULT_COMMANDS.items():
        name = f"ONEDAY_COMMAND_{intent.upper()}"
        raw = env.get(name)
        if not raw:
            continue
        command = raw if raw.startswith("/") else f"/{raw}"
        if not COMMAND_NAME.match(command):
            raise ConfigError(name, raw, "must be one slash command name of at most 32 characters",
                              f"{name}={default}")
        commands[intent] = command
    return commands


def from_env(env: Mapping[str, str] | None = None) -> Settings:
    """Settings from the environment; raises ConfigError on the first value that cannot be used."""
    from bot.platforms import PLATFORMS  # they import this module for ConfigError

    env = os.environ if env is None else env
    return Settings(
        database_url=database_url(env.get("DATABASE_URL") or sqlite_url(DEFAULT_DB)),
        partnership=env.get("ONEDAY_PARTNERSHIP") or None,
        commands=command_names(env),
        outbox_lease_seconds=seconds(env, "ONEDAY_OUTBOX_LEASE_SECONDS", 60.0),
        job_interval_seconds=seconds(env, "ONEDAY_JOB_INTERVAL_SECONDS", 60.0),
        platforms={p.name: p.settings_from_env(env) for p in PLATFORMS},
    )
