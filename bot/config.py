"""Configuration from the environment, read once at the edge (CLI, serve, worker) and passed down.

Every value that is parsed is checked here, at start-up, not where it is first used: a bad value is a
`ConfigError` naming the variable, the value and a correct example, which the CLI prints as one line
(bot/cli.py) instead of a traceback minutes later in a worker thread. The repr of `Settings` masks tokens,
secrets and the database password: settings end up in logs and tracebacks.

Data keys (encryption at rest, models/sealed.py): ONEDAY_DATA_KEY (base64; several comma-separated while a
rotation runs, the first seals) or ONEDAY_DATA_KEY_FILE (one base64 key a line, the first seals). With neither,
a SQLite database gets a key file beside it (`oneday.db.key`, 0600, created on first use: the demo and a trial
need no setting); any other database refuses to start (check_keys), because a key made up on one replica would be unknown to
the others and lost with its container.

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
from models.sealed import decode_key, key_id

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
    data_keys: tuple[bytes, ...] = ()  # from ONEDAY_DATA_KEY; the first seals
    data_key_file: Path | None = None  # ONEDAY_DATA_KEY_FILE

    def __repr__(self) -> str:
        shown = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "database_url":
                value = safe_url(value)
            if f.name == "data_keys":  # their ids, never the keys
                value = tuple(f"key {key_id(k)}" for k in value)
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


KEY_EXAMPLE = "ONEDAY_DATA_KEY_FILE=/etc/oneday/data.key (make one with: oneday keys generate -o data.key)"


def data_keys(env: Mapping[str, str]) -> tuple[bytes, ...]:
    raw = env.get("ONEDAY_DATA_KEY")
    if not raw:
        return ()
    keys = []
    for n, part in enumerate(raw.split(","), start=1):
        try:
            keys.append(decode_key(part))
        except ValueError as exc:
            # The value is a secret: never echo it, only where it went wrong.
            raise ConfigError("ONEDAY_DATA_KEY", f"<key {n}: {exc}>", "must be base64 of 32 random bytes (several "
                              "comma-separated while rotating, the new one first)",
                              "ONEDAY_DATA_KEY=$(oneday keys generate)") from None
    return tuple(keys)


def read_key_file(path: Path, name: str = "ONEDAY_DATA_KEY_FILE") -> tuple[bytes, ...]:
    """The keys of a key file: one base64 key a line (the first seals), blank lines and `#` comments ignored."""
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(name, str(path), f"must name a readable key file ({_reason(exc)})", KEY_EXAMPLE) from None
    keys = []
    for n, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            keys.append(decode_key(line))
        except ValueError as exc:
            raise ConfigError(name, str(path), f"must hold one base64 key of 32 bytes a line (line {n}: {exc})",
                              KEY_EXAMPLE) from None
    if not keys:
        raise ConfigError(name, str(path), "must hold at least one key", KEY_EXAMPLE)
    return tuple(keys)


def default_key_file(url: str) -> Path | None:
    """Where a SQLite database without a configured key keeps its own: beside it (`oneday.db` ->
    `oneday.db.key`). None for SQLite in memory (a key for the process's life) and for other databases."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database + ".key")


def check_keys(settings: Settings) -> Settings:
    """Refuse a shared database without a configured key (see the module's docstring). Checked by every command
    that opens the database (bot/cli.py `require_keys`), not by `from_env`: `oneday db upgrade --sql` writes SQL
    for a DBA and needs no key."""
    if settings.data_keys or settings.data_key_file or make_url(settings.database_url).get_backend_name() == "sqlite":
        return settings
    raise ConfigError("ONEDAY_DATA_KEY", "", "or ONEDAY_DATA_KEY_FILE must be set when the database is not SQLite "
                      f"(target details are encrypted at rest; database: {safe_url(settings.database_url)})",
                      KEY_EXAMPLE)


def from_env(env: Mapping[str, str] | None = None) -> Settings:
    """Settings from the environment; raises ConfigError on the first value that cannot be used."""
    from bot.platforms import PLATFORMS  # they import this module for ConfigError

    env = os.environ if env is None else env
    keys = data_keys(env)
    key_file = Path(env["ONEDAY_DATA_KEY_FILE"]) if env.get("ONEDAY_DATA_KEY_FILE") else None
    if keys and key_file:
        raise ConfigError("ONEDAY_DATA_KEY_FILE", str(key_file), "must not be set together with ONEDAY_DATA_KEY "
                          "(one source of keys)", KEY_EXAMPLE)
    if key_file:
        read_key_file(key_file)  # checked now, read again at first use (a rotation rewrites it)
    return Settings(
        database_url=database_url(env.get("DATABASE_URL") or sqlite_url(DEFAULT_DB)),
        partnership=env.get("ONEDAY_PARTNERSHIP") or None,
        commands=command_names(env),
        outbox_lease_seconds=seconds(env, "ONEDAY_OUTBOX_LEASE_SECONDS", 60.0),
        job_interval_seconds=seconds(env, "ONEDAY_JOB_INTERVAL_SECONDS", 60.0),
        platforms={p.name: p.settings_from_env(env) for p in PLATFORMS},
        data_keys=keys,
        data_key_file=key_file,
    )
