"""Slack's settings, read from the environment by the Slack platform (bot/slack/platform.py) and kept in
`Settings.platforms["slack"]`. Checked at start-up like every other setting (bot/config.py); the repr masks
tokens and secrets.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields

from bot.config import ConfigError, Settings, http_url, seconds
from bot.redact import secret

# Slack gives up on a request after 3 s ("operation_timeout"). Past this budget the request is acknowledged
# empty and the answer follows through the request's response_url when it is ready (a slash command's or a
# button's: both have one; an event needs no answer). A form submission waits: its answer (errors, the next
# view) can only travel in the acknowledgement.
ACK_BUDGET = 2.0
ACK_BUDGET_ENV = "ONEDAY_ACK_BUDGET_S"  # seconds; the test suite raises it so a loaded machine changes no answer


def ack_budget_from_env(env: Mapping[str, str] | None = None) -> float:
    """ONEDAY_ACK_BUDGET_S, else ACK_BUDGET; a bad value is a ConfigError (checked at start-up with the rest of
    Slack's settings, so `oneday serve` refuses it in one line before serving)."""
    return seconds(os.environ if env is None else env, ACK_BUDGET_ENV, ACK_BUDGET)


SECRET_FIELDS = frozenset({"bot_token", "signing_secret", "app_token", "client_secret"})
SCOPE_NAME = re.compile(r"^[a-z][a-z0-9_.:-]*$")  # e.g. chat:write, users:read.email, commands


@dataclass(frozen=True, repr=False)
class SlackSettings:
    bot_token: str | None = None  # SLACK_BOT_TOKEN
    signing_secret: str | None = None  # SLACK_SIGNING_SECRET
    app_token: str | None = None  # SLACK_APP_TOKEN: Socket Mode
    api_url: str | None = None  # SLACK_API_URL
    client_id: str | None = None  # with the secret: multi-workspace OAuth install (bot/slack/install.py)
    client_secret: str | None = None
    scopes: tuple[str, ...] | None = None  # SLACK_SCOPES; default: the manifest's bot scopes
    ack_budget: float = ACK_BUDGET  # ONEDAY_ACK_BUDGET_S (bot/slack/http.py)

    @property
    def oauth(self) -> bool:
        """Multi-workspace: each workspace installs the app through /slack/install (no SLACK_BOT_TOKEN)."""
        return bool(self.client_id and self.client_secret)

    def __repr__(self) -> str:
        shown = [f"{f.name}={secret(getattr(self, f.name)) if f.name in SECRET_FIELDS else getattr(self, f.name)!r}"
                 for f in fields(self)]
        return f"SlackSettings({', '.join(shown)})"


def scopes(env: Mapping[str, str]) -> tuple[str, ...] | None:
    raw = env.get("SLACK_SCOPES") or ""
    names = tuple(s.strip() for s in raw.split(",") if s.strip())
    if any(not SCOPE_NAME.match(s) for s in names):
        raise ConfigError("SLACK_SCOPES", raw, "must be Slack scope names separated by commas",
                          "SLACK_SCOPES=commands,chat:write,users:read")
    return names or None


def from_env(env: Mapping[str, str]) -> SlackSettings:
    return SlackSettings(
        bot_token=env.get("SLACK_BOT_TOKEN") or None,
        signing_secret=env.get("SLACK_SIGNING_SECRET") or None,
        app_token=env.get("SLACK_APP_TOKEN") or None,
        api_url=http_url(env, "SLACK_API_URL", "https://slack.com/api/"),
        client_id=env.get("SLACK_CLIENT_ID") or None,
        client_secret=env.get("SLACK_CLIENT_SECRET") or None,
        scopes=scopes(env),
        ack_budget=ack_budget_from_env(env),
    )


def slack_settings(settings: Settings) -> SlackSettings:
    """The Slack part of `settings` (all unset when the settings were made without it)."""
    found = settings.platforms.get("slack")
    return found if isinstance(found, SlackSettings) else SlackSettings()
