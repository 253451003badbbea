"""Installing into Slack workspaces: OAuth through `oneday serve` (a subprocess) against the fake Slack, the
installation stored by slack_sdk's SQLAlchemy store in our database, and workspaces linked to partnerships.
"""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from fake_slack import TEAM_ID, FakeSlack
from moments import FILE_LOADED
from slack_requests import clear_proxy_env, send_command
from sqlalchemy import select, text
from test_serve_e2e import free_port

from bot import db
from bot.config import Settings
from bot.port import DeliveryError
from bot.runner import Request, Runner
from bot.slack.install import outgoing_client
from bot.slack.manifest import bot_scopes
from bot.slack.port import SlackPort
from bot.slack.settings import SlackSettings
from commands.core import workspaces
from commands.core.errors import Refused
from commands.core.replies import Reply
from commands.partnership import file as partnership
from models import AuditEvent, Partnership

SECRET = "install-signing-secret"
CLIENT_ID, CLIENT_SECRET = "1111.2222", "oauth-client-secret"
ONEDAY = Path(sys.executable).parent / "oneday"
SOUTHTOWN = """
partnership: {key: southtown, name: Southtown CSP, timezone: Europe/London, isp_version: "2026-1"}
agencies:
  - {key: police, name: Southtown Police, category: statutory, flags: [drugs], isp_signed: "2026-1", core: true}
members:
  - {key: al.south, name: Al South, email: al@south.example, agency: police, roles: [coordinator], slack: U0SOUTH}
cohorts:
  - {key: ocg, name: Organised crime groups, agencies: [police], minutes_per_target: 10,
     handling: OFFICIAL-SENSITIVE, personal_data: true}
targets: []
meeting: {channel: C0SOUTH, day_start: "09:30"}
"""


def get(url: str, cookie: str | None = None) -> tuple[int, str, dict[str, str]]:
    req = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(req, timeout=10) as r:
            return r.status, r.read().decode(), {k.lower(): v for k, v in r.headers.items()}
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(), {k.lower(): v for k, v in e.headers.items()}


def _healthy(base: str) -> bool:
    try:
        return get(f"{base}/healthz")[0] == 200
    except urllib.error.URLError:
        return False


@pytest.fixture
def two_partnerships(copy_database, northtown_template: Path) -> str:  # type: ignore[no-untyped-def]
    url = copy_database(northtown_template, "install.db")  # Northtown loaded
    engine = db.make_engine(url)
    with db.unit_of_work(db.session_factory(engine)) as session:
        partnership.load(session, SOUTHTOWN, source="southtown.yaml", now=FILE_LOADED)
    engine.dispose()
    return url


@pytest.fixture
def served(tmp_path: Path, two_partnerships: str) -> Iterator[tuple[str, FakeSlack, dict[str, str]]]:
    """`oneday serve` in OAuth mode (no SLACK_BOT_TOKEN), the Web API being the fake Slack."""
    clear_proxy_env()
    with FakeSlack() as fake:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if "PROXY" not in k.upper() and not k.startswith(("SLACK_",
                                                                                                     "ONEDAY_"))}
        env.update(DATABASE_URL=two_partnerships, SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=fake.base_url,
                   SLACK_CLIENT_ID=CLIENT_ID, SLACK_CLIENT_SECRET=CLIENT_SECRET)
        log = (tmp_path / "serve.log").open("w")
        proc = subprocess.Popen([str(ONEDAY), "serve", "--port", str(port)], env=env, stdout=log,
                                stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 20
            while not _healthy(base):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("oneday serve did not start:\n" + (tmp_path / "serve.log").read_text())
                time.sleep(0.1)
            yield base, fake, env
        finally:
            proc.terminate()
            proc.wait(timeout=10)
            log.close()


def install(base: str, fake: FakeSlack) -> str:
    """An admin opens /slack/install, approves on slack.com, and is redirected back; returns the bot token."""
    status, page, headers = get(f"{base}/slack/install")
    assert status == 200
    link = html.unescape(re.search(r'href="(https://slack\.com/oauth/v2/authorize[^"]+)"', page).group(1))
    query = parse_qs(urlsplit(link).query)
    state = query["state"][0]
    assert query["client_id"] == [CLIENT_ID]
    assert query["scope"][0].split(",") == bot_scopes()
    assert state in headers["set-cookie"]  # the state is also bound to this browser

    code = fake.approve_install(CLIENT_ID, CLIENT_SECRET, scopes=tuple(bot_scopes()))
    cookie = headers["set-cookie"].split(";")[0]
    status, page, _ = get(f"{base}/slack/oauth_redirect?code={code}&state={state}", cookie=cookie)
    assert status == 200, page
    (exchange,) = fake.calls_to("oauth.v2.access")
    assert exchange.args["code"] == code and exchange.args["client_id"] == CLIENT_ID
    # The same state cannot be used twice.
    assert get(f"{base}/slack/oauth_redirect?code={code}&state={state}", cookie=cookie)[0] != 200
    return exchange.response["access_token"]


def test_oauth_install_stores_the_installation_and_commands_use_its_token_and_partnership(
        served: tuple[str, FakeSlack, dict[str, str]], two_partnerships: str) -> None:
    base, fake, env = served
    token = install(base, fake)
    engine = db.make_engine(two_partnerships)
    with engine.connect() as conn:
        rows = conn.execute(text("select team_id, bot_token, bot_scopes from slack_installations")).all()
    assert [(r.team_id, r.bot_token) for r in rows] == [(TEAM_ID, token)]
    assert rows[0].bot_scopes.split(",") == bot_scopes()

    # Installed but not linked, with two partnerships in the database: nothing runs.
    status, body, _ = send_command(f"{base}/slack/events", SECRET, "/oneday", "whoami", user_id="U0SAM",
                                   team_id=TEAM_ID)
    assert status == 200 and "Sam Patel" not in body and "several partnerships" in body

    linked = subprocess.run([str(ONEDAY), "slack", "link-workspace", TEAM_ID, "--partnership", "northtown"],
                            env=env, capture_output=True, text=True, timeout=60)
    assert linked.returncode == 0 and f"slack workspace {TEAM_ID} linked to northtown" in linked.stdout

    fake.clear()
    status, body, _ = send_command(f"{base}/slack/events", SECRET, "/oneday", "whoami", user_id="U0SAM",
                                   team_id=TEAM_ID)
    assert status == 200 and "Sam Patel" in json.loads(body)["blocks"].__repr__()
    assert fake.calls, "bolt authorises the request with the installation's token"
    assert {c.token for c in fake.calls} == {token}

    # Work outside a request (the outbox sender, jobs) uses the configured partnership's installation.
    fake.clear()
    settings = Settings(database_url=two_partnerships, partnership="northtown", platforms={"slack": SlackSettings(
                        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, api_url=fake.base_url)})
    client = outgoing_client(settings, engine, db.session_factory(engine))
    SlackPort(client).post("C0MEET", Reply(lines=("hello",)))
    assert [c.token for c in fake.calls_to("chat.postMessage")] == [token]
    unsure = Settings(**{**settings.__dict__, "partnership": None})  # two partnerships: never guess
    with pytest.raises(DeliveryError) as raised:
        SlackPort(outgoing_client(unsure, engine, db.session_factory(engine))).post("C0MEET", Reply(lines=("x",)))
    assert raised.value.retry_after and not raised.value.permanent  # stays queued until configured
    fake.assert_no_rejections()

    # A workspace with no installation gets nothing from Oneday.
    status, body, _ = send_command(f"{base}/slack/events", SECRET, "/oneday", "whoami", user_id="U0SAM",
                                   team_id="T0OTHER")
    assert "Sam Patel" not in body
    engine.dispose()


def test_requests_run_in_the_linked_partnership_and_unlinked_workspaces_are_refused(two_partnerships: str) -> None:
    engine = db.make_engine(two_partnerships)
    factory = db.session_factory(engine)
    with db.unit_of_work(factory) as session:
        north = session.scalar(select(Partnership).where(Partnership.key == "northtown"))
        south = session.scalar(select(Partnership).where(Partnership.key == "southtown"))
        link = partial(workspaces.link, session, platform="slack", now=FILE_LOADED)
        assert link(north, workspace_id="T0NORTH").endswith("linked to northtown")
        link(south, workspace_id="T0SOUTH")
        assert "already linked" in link(north, workspace_id="T0NORTH")
    with db.unit_of_work(factory) as session:
        find = workspaces.partnership_for
        assert find(session, platform="slack", workspace_id="T0NORTH", fallback_key=None).key == "northtown"
        assert find(session, platform="slack", workspace_id="T0SOUTH", fallback_key="northtown").key == "southtown"
        with pytest.raises(Refused, match="not linked to a partnership"):
            find(session, platform="slack", workspace_id="T0STRANGER", fallback_key="northtown")
        assert find(session, platform="teams", workspace_id="tenant-1", fallback_key="southtown").key == "southtown"
        assert any("linked to partnership" in e.what for e in session.scalars(select(AuditEvent)))

    runner = Runner(factory=factory, names={"oneday": "/oneday", "agenda": "/agenda", "action": "/action",
                                            "outcome": "/outcome", "actions": "/actions"})
    south_answer = runner.run(Request("slack", "T0SOUTH", "U0SOUTH", "oneday", "whoami"), lambda _: None)
    assert "Al South" in repr(south_answer.reply)
    north_user_in_south = runner.run(Request("slack", "T0SOUTH", "U0SAM", "oneday", "whoami"), lambda _: None)
    assert "Sam Patel" not in repr(north_user_in_south.reply) and "not a member of Southtown" in repr(
        north_user_in_south.reply)
    stranger = runner.run(Request("slack", "T0STRANGER", "U0SAM", "oneday", "whoami"), lambda _: None)
    assert "not linked to a partnership" in repr(stranger.reply)
    engine.dispose()
