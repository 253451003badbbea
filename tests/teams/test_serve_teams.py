"""The bar, end to end: `oneday serve` as a subprocess with Slack and Teams both configured against loopback
fakes. A signed Teams message gets its answer through the Bot Connector while Slack keeps answering; forged,
expired and wrong-audience tokens get 401 and nothing happens; a .env switching validation off stops start-up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_slack import FakeSlack
from fake_teams import FakeTeams, guid_for
from fake_teams_stack import give_teams_identities
from processes import free_port, wait_healthy
from slack_requests import clear_proxy_env, send_command
from sqlalchemy import func, select, text

from bot import db
from models import Action, AuditEvent, SeenEvent

SECRET = "test-signing-secret"
ONEDAY = Path(sys.executable).parent / "oneday"


def _env(url: str, slack: FakeSlack, teams: FakeTeams) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if "PROXY" not in k.upper() and not k.startswith("TEAMS_")}
    env.update(DATABASE_URL=url, SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET=SECRET,
               SLACK_API_URL=slack.base_url, **teams.env())
    env.pop("SLACK_APP_TOKEN", None)
    return env


@pytest.fixture
def served(tmp_path: Path, copy_database, northtown_template: Path  # type: ignore[no-untyped-def]
           ) -> Iterator[tuple[str, str, FakeSlack, FakeTeams]]:
    clear_proxy_env()
    url = copy_database(northtown_template, "serve.db")
    engine = db.make_engine(url)
    give_teams_identities(db.session_factory(engine), link_tenant=False)  # Slack stays the partnership's home
    engine.dispose()
    port = free_port()
    with FakeSlack() as slack, FakeTeams() as teams:
        log = (tmp_path / "serve.log").open("w")
        proc = subprocess.Popen([str(ONEDAY), "serve", "--port", str(port)], env=_env(url, slack, teams),
                                cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_healthy(base, proc, time.monotonic() + 30, (tmp_path / "serve.log").read_text)
            yield base, url, slack, teams
        finally:
            proc.kill()
            proc.wait(timeout=10)
            log.close()


def post(base: str, activity: dict[str, object], token: str | None) -> int:
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    req = urllib.request.Request(f"{base}/api/messages", data=json.dumps(activity).encode(), headers=headers,
                                 method="POST")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


def message(teams: FakeTeams, key: str, text_: str, n: int) -> dict[str, object]:
    aad = guid_for(key)
    return {"type": "message", "id": f"m{n}", "channelId": "msteams", "serviceUrl": teams.service_url,
            "text": text_, "from": {"id": f"29:{key}", "aadObjectId": aad}, "recipient": {"id": "28:oneday"},
            "conversation": {"id": teams.personal_of(aad), "conversationType": "personal",
                             "tenantId": "72f988bf-86f1-41af-91ab-2d7cd011db47"}}


def state(url: str) -> tuple[int, int, int, int]:
    engine = db.make_engine(url)
    try:
        with db.session_factory(engine)() as s:
            return (s.scalar(select(func.count()).select_from(AuditEvent)) or 0,
                    s.scalar(select(func.count()).select_from(SeenEvent)) or 0,
                    s.scalar(select(func.count()).select_from(Action)) or 0,
                    s.scalar(text("select count(*) from teams_conversations")) or 0)
    finally:
        engine.dispose()


def test_signed_teams_message_is_answered_beside_slack(served: tuple[str, str, FakeSlack, FakeTeams]) -> None:
    base, _, slack, teams = served
    assert teams.fetches["keys"] >= 1  # signing keys fetched at start-up, not on the event loop per request
    assert post(base, message(teams, "tom.ashby", "oneday whoami", 1), teams.token()) == 200
    [answer] = teams.activities
    assert answer.conversation == teams.personal_of(guid_for("tom.ashby"))
    assert "Tom Ashby (tom.ashby)" in answer.text
    status, body, _ = send_command(f"{base}/slack/events", SECRET, "/oneday", "whoami", user_id="U0TOM")
    assert status == 200 and "Tom Ashby (tom.ashby)" in body


def test_bad_tokens_get_401_and_no_work_is_done(served: tuple[str, str, FakeSlack, FakeTeams]) -> None:
    base, url, _, teams = served
    before = state(url)
    activity = message(teams, "tom.ashby", "action OCG-07 @sam.patel check benefits claim by Friday", 2)
    for token in (teams.token(forged=True), teams.token(expires_in=-3600),
                  teams.token(audience="11111111-1111-4111-8111-111111111111"), None):
        assert post(base, activity, token) == 401
    assert state(url) == before
    assert teams.activities == [] and teams.token_requests == []


def test_a_dotenv_that_turns_validation_off_stops_serve(tmp_path: Path, sqlite_db_url: str) -> None:
    clear_proxy_env()
    (tmp_path / ".env").write_text("DANGEROUSLY_ALLOW_UNAUTHENTICATED_REQUESTS=true\n")
    with FakeTeams() as teams:
        env = {k: v for k, v in os.environ.items() if "PROXY" not in k.upper() and not k.startswith("SLACK_")}
        env.update(DATABASE_URL=sqlite_db_url, **teams.env())
        done = subprocess.run([str(ONEDAY), "serve", "--port", str(free_port())], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "DANGEROUSLY_ALLOW_UNAUTHENTICATED_REQUESTS is set" in done.stdout + done.stderr


def test_teams_alone_serves_api_messages_and_no_slack_route(tmp_path: Path, copy_database,  # type: ignore[no-untyped-def]
                                                            northtown_template: Path) -> None:
    clear_proxy_env()
    url = copy_database(northtown_template, "alone.db")
    engine = db.make_engine(url)
    give_teams_identities(db.session_factory(engine))
    engine.dispose()
    port = free_port()
    with FakeTeams() as teams:
        env = {k: v for k, v in os.environ.items() if "PROXY" not in k.upper() and not k.startswith("SLACK_")}
        env.update(DATABASE_URL=url, **teams.env())
        log = (tmp_path / "alone.log").open("w")
        proc = subprocess.Popen([str(ONEDAY), "serve", "--port", str(port)], env=env, cwd=tmp_path, stdout=log,
                                stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_healthy(base, proc, time.monotonic() + 30, (tmp_path / "alone.log").read_text)
            assert post(base, message(teams, "tom.ashby", "oneday whoami", 9), teams.token()) == 200
            assert "Tom Ashby (tom.ashby)" in teams.activities[0].text
            req = urllib.request.Request(f"{base}/slack/events", data=b"{}", method="POST",
                                         headers={"Content-Type": "application/json"})
            with pytest.raises(urllib.error.HTTPError) as caught:
                urllib.request.urlopen(req, timeout=10)
            assert caught.value.code == 404
        finally:
            proc.kill()
            proc.wait(timeout=10)
            log.close()
