"""`oneday teams manifest` (the app package), the Home card on demand, the card renderer's limits and escaping,
and Teams' settings (configured only with TEAMS_APP_ID; the password never shown)."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from fake_teams import APP_ID
from fake_teams_stack import TeamsStack

from bot import platforms
from bot.config import ConfigError, from_env
from bot.teams import cards
from commands.core.replies import Button, Item, Reply

ONEDAY = Path(sys.executable).parent / "oneday"


def test_manifest_package_has_the_bot_commands_and_icons(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEAMS_", "SLACK_"))}
    out = tmp_path / "oneday.zip"
    done = subprocess.run([str(ONEDAY), "teams", "manifest", "--app-id", APP_ID, "--host", "oneday.example.org",
                           "-o", str(out)], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(out) as z:
        assert sorted(z.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(z.read("manifest.json"))
        sizes = {name: struct.unpack(">II", z.read(name)[16:24]) for name in ("color.png", "outline.png")}
    assert sizes == {"color.png": (192, 192), "outline.png": (32, 32)}
    assert manifest["id"] == APP_ID and manifest["bots"][0]["botId"] == APP_ID
    assert set(manifest["bots"][0]["scopes"]) == {"personal", "team", "groupChat"}
    titles = [c["title"] for c in manifest["bots"][0]["commandLists"][0]["commands"]]
    assert titles[0] == "home"
    assert sorted(titles[1:]) == ["action", "actions", "agenda", "decision", "inform", "oneday", "outcome"]
    assert manifest["validDomains"] == ["oneday.example.org"]
    again = subprocess.run([str(ONEDAY), "teams", "manifest", "--app-id", APP_ID, "-o", str(out)], env=env,
                           cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert again.returncode == 1 and "never overwrites" in again.stderr


def test_home_card_on_demand(teams: TeamsStack) -> None:
    teams.post(teams.activity("tom.ashby", "action OCG-07 @sam.patel check benefits claim by Friday"))
    teams.post(teams.activity("sam.patel", "home"))
    home = teams.to("sam.patel")
    assert "#1" in home and "check benefits claim" in home
    assert '"verb": "action.done"' in home


def test_a_long_reply_is_cut_to_fit_and_says_how_much_was_left_out() -> None:
    reply = Reply(title="Your actions", items=tuple(Item(f"#{n} OCG-07: {'x' * 200}", (Button("Done", "action.done",
                                                                                              str(n)),))
                                                    for n in range(500)), more="see /actions")
    card = cards.render(reply)
    size = len(json.dumps(card).encode())
    assert size <= cards.MAX_CARD_BYTES
    last = card["body"][-1]["inlines"][0]["text"]
    assert last.startswith("and ") and last.endswith("more: see /actions")
    shown = sum(1 for el in card["body"] if el["type"] == "ActionSet")
    assert f"and {500 - shown} more" in last


def test_text_is_never_markdown_and_buttons_always_have_a_verb() -> None:
    card = cards.render(Reply(title="**t**", lines=("[x](https://evil.example)",), fields=(("a", "<at>b</at>"),),
                              buttons=(Button("Go", "x.go", "v"),), footer="f"))
    assert {el["type"] for el in card["body"]} == {"RichTextBlock"}
    assert card["actions"] == [{"type": "Action.Execute", "title": "Go", "verb": "x.go", "data": {"value": "v"}}]
    assert "[x](https://evil.example)" in json.dumps(card)  # literal, inside a TextRun


def test_teams_is_configured_only_with_an_app_id_and_masks_its_password() -> None:
    teams = platforms.get("teams")
    assert not teams.configured(from_env({}))
    s = from_env({"TEAMS_APP_ID": APP_ID, "TEAMS_APP_PASSWORD": "hunter2"})
    assert teams.configured(s) and teams.problem(s, serving=True) is None
    assert "hunter2" not in repr(s)
    assert teams.problem(from_env({"TEAMS_APP_ID": APP_ID}), serving=True) is not None  # no password
    with pytest.raises(ConfigError, match="TEAMS_TENANT_ID"):
        from_env({"TEAMS_TENANT_ID": "contoso"})
    with pytest.raises(ConfigError, match="GRAPH_API_URL"):
        from_env({"GRAPH_API_URL": "graph.example"})
