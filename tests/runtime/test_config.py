"""Configuration: a bad value is one clear line (variable, value, a correct example) and exit status 2, for
every subcommand and for --help; secrets never appear in a repr or a printed URL."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, from_env
from bot.redact import safe_url
from bot.slack.settings import slack_settings
from models.sealed import key_id

ONEDAY = Path(sys.executable).parent / "oneday"


def _oneday(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("ONEDAY_", "SLACK_", "DATABASE_URL"))}
    return subprocess.run([str(ONEDAY), *args], capture_output=True, text=True, timeout=60,
                          env={**base, "COLUMNS": "80", **env})


BAD = [
    ("ONEDAY_OUTBOX_LEASE_SECONDS", "60s", "ONEDAY_OUTBOX_LEASE_SECONDS must be a number of seconds greater than 0, "
     "e.g. ONEDAY_OUTBOX_LEASE_SECONDS=60 (got '60s')"),
    ("ONEDAY_JOB_INTERVAL_SECONDS", "-5", "ONEDAY_JOB_INTERVAL_SECONDS must be a number of seconds greater than 0, "
     "e.g. ONEDAY_JOB_INTERVAL_SECONDS=60 (got '-5')"),
    ("ONEDAY_JOB_INTERVAL_SECONDS", "nan", "ONEDAY_JOB_INTERVAL_SECONDS must be a number of seconds greater than 0, "
     "e.g. ONEDAY_JOB_INTERVAL_SECONDS=60 (got 'nan')"),
    ("SLACK_API_URL", "slack.com/api", "SLACK_API_URL must be an http(s) URL, e.g. SLACK_API_URL=https://slack.com/api/ "
     "(got 'slack.com/api')"),
    ("ONEDAY_COMMAND_ACTION", "my action", "ONEDAY_COMMAND_ACTION must be one slash command name of at most 32 "
     "characters, e.g. ONEDAY_COMMAND_ACTION=/action (got 'my action')"),
    ("SLACK_SCOPES", "chat:write users:read", "SLACK_SCOPES must be Slack scope names separated by commas, "
     "e.g. SLACK_SCOPES=commands,chat:write,users:read (got 'chat:write users:read')"),
]


@pytest.mark.parametrize(("variable", "value", "line"), BAD, ids=[f"{v}={x}" for v, x, _ in BAD])
def test_a_bad_value_is_one_line_even_for_help(variable: str, value: str, line: str) -> None:
    result = _oneday("--help", **{variable: value})
    assert result.returncode == 2
    assert result.stderr.splitlines() == [f"error: {line}"]
    assert result.stdout == ""


@pytest.mark.parametrize("args", [
    ["db", "upgrade"], ["db", "current"], ["partnership", "summary"], ["agenda", "plan", "--date", "2030-12-10"],
    ["agenda", "--help"], ["serve"], ["worker"], ["jobs", "list"], ["slack", "manifest"], ["demo", "--quiet"],
    ["console", "--as", "sam.patel"],
], ids=" ".join)
def test_every_subcommand_reports_a_bad_value_the_same_way(args: list[str], tmp_path: Path) -> None:
    result = _oneday(*args, ONEDAY_OUTBOX_LEASE_SECONDS="60s", DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [f"error: {BAD[0][2]}"]
    assert not (tmp_path / "x.db").exists()  # stopped before anything was done


def test_a_database_url_oneday_cannot_open_is_named_without_its_password() -> None:
    result = _oneday("db", "current", DATABASE_URL="postgres://oneday:Pw-canary-2231@db.internal/oneday")
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith("error: DATABASE_URL must be a database URL Oneday can open (")
    assert "e.g. DATABASE_URL=postgresql+psycopg://user:password@host/oneday" in line
    assert line.endswith("(got 'postgres://oneday:***@db.internal/oneday')")
    assert "Pw-canary-2231" not in result.stderr + result.stdout and "Traceback" not in result.stderr


def test_a_bad_database_url_option_is_reported_like_the_variable() -> None:
    result = _oneday("--database-url", "nonsense", "db", "current")
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith("error: --database-url must be a database URL Oneday can open")
    assert line.endswith("(got 'nonsense')")


KEY = base64.b64encode(bytes(range(32))).decode()  # a data key (PostgreSQL needs one: bot/config.py check_keys)


def test_good_values_are_read() -> None:
    s = from_env({"ONEDAY_OUTBOX_LEASE_SECONDS": "90.5", "ONEDAY_JOB_INTERVAL_SECONDS": "", "SLACK_SCOPES":
                  "commands, chat:write", "ONEDAY_COMMAND_ACTION": "task", "SLACK_API_URL": "http://127.0.0.1:9/api/",
                  "DATABASE_URL": "postgresql+psycopg://u:p@h/db", "ONEDAY_DATA_KEY": KEY})
    assert (s.outbox_lease_seconds, s.job_interval_seconds) == (90.5, 60.0)
    slack = slack_settings(s)  # each platform reads its own variables (bot/slack/settings.py)
    assert slack.scopes == ("commands", "chat:write") and s.commands["action"] == "/task"
    assert slack.api_url == "http://127.0.0.1:9/api/" and s.database_url == "postgresql+psycopg://u:p@h/db"


def test_a_long_bad_value_is_shortened_in_the_message() -> None:
    with pytest.raises(ConfigError) as caught:
        from_env({"ONEDAY_OUTBOX_LEASE_SECONDS": "9" * 500 + "s"})
    assert len(str(caught.value)) < 300 and caught.value.variable == "ONEDAY_OUTBOX_LEASE_SECONDS"


def test_settings_repr_masks_tokens_secrets_and_the_database_password() -> None:
    values = {"SLACK_BOT_TOKEN": "xoxb-canary-bot-4471", "SLACK_SIGNING_SECRET": "canary-signing-9902",
              "SLACK_APP_TOKEN": "xapp-canary-app-3310", "SLACK_CLIENT_SECRET": "canary-client-5529",
              "SLACK_CLIENT_ID": "1234.5678", "DATABASE_URL": "postgresql+psycopg://oneday:canary-pw-8812@db/oneday",
              "ONEDAY_DATA_KEY": KEY}
    settings = from_env(values)
    shown = repr(settings) + str(settings) + f"{settings}"
    for name, value in values.items():
        if name != "SLACK_CLIENT_ID":
            assert value not in shown, name
    assert "canary-pw-8812" not in shown
    assert "bot_token='***'" in shown and "client_secret='***'" in shown and "signing_secret='***'" in shown
    assert "oneday:***@db/oneday" in shown and "client_id='1234.5678'" in shown  # not a secret
    assert f"data_keys=('key {key_id(base64.b64decode(KEY))}',)" in shown  # a data key by its id only
    assert "app_token=None" in repr(from_env({}))  # unset stays visibly unset
    assert slack_settings(settings).bot_token == "xoxb-canary-bot-4471"  # masked in the repr only


@pytest.mark.parametrize(("url", "shown"), [
    ("postgresql+psycopg://oneday:s3cret@db:5432/oneday?sslmode=require",
     "postgresql+psycopg://oneday:***@db:5432/oneday?sslmode=require"),
    ("postgresql+psycopg://oneday:p@ss/word@db/oneday", "postgresql+psycopg://oneday:***@db/oneday"),
    ("postgresql+psycopg://db/oneday?user=u&password=s3cret", "postgresql+psycopg://db/oneday?user=u&password=***"),
    ("oneday:s3cret@db/oneday", "oneday:***@db/oneday"),  # not even a URL: still masked
    ("postgresql+psycopg://oneday@db/oneday", "postgresql+psycopg://oneday@db/oneday"),
    ("sqlite:///:memory:", "sqlite:///:memory:"),
    ("sqlite:////srv/team@north/oneday.db", "sqlite:////srv/team@north/oneday.db"),
])
def test_safe_url_hides_only_the_password(url: str, shown: str) -> None:
    assert safe_url(url) == shown
