"""The Slack app manifest: scopes are exactly what the code's Web API calls need, and it follows configuration."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import slack_reference as ref
import yaml
from paths import REPO

from bot.config import DEFAULT_COMMANDS, from_env
from bot.slack.manifest import BOT_EVENTS, OAUTH_EVENTS, OTHER_SCOPES, SCOPES_BY_METHOD, bot_scopes, manifest

BOT = REPO / "bot"
ONEDAY = Path(sys.executable).parent / "oneday"
# slack_sdk helpers that call several Web API methods.
COMPOSITE = {"files_upload_v2": ("files.getUploadURLExternal", "files.completeUploadExternal")}
# A scope needed beyond what the method reference lists: users.info returns profile.email only with it.
EXTRA = {("users.info", "users:read.email")}


def _is_client(node: ast.expr) -> bool:
    """`client`, `self.client`, `self.send_client`, `port.client`: a slack_sdk WebClient by naming convention."""
    name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""
    return name == "client" or name.endswith("_client")


def methods_called() -> dict[str, set[str]]:
    """Slack Web API method -> the files under bot/ that call it (bot/fakeslack is a Slack, not a caller)."""
    found: dict[str, set[str]] = {}
    for path in sorted(BOT.rglob("*.py")):
        if "fakeslack" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and _is_client(node.func.value)) or node.func.attr.startswith("_"):
                continue
            attr = node.func.attr
            if attr == "api_call":
                names = (node.args[0].value,) if node.args and isinstance(node.args[0], ast.Constant) else ()
            else:
                names = COMPOSITE.get(attr, (attr.replace("_", "."),))
            for name in names:
                found.setdefault(name, set()).add(str(path.relative_to(BOT.parent)))
    return found


def test_the_code_calls_the_methods_the_scope_table_names() -> None:
    called = methods_called()
    assert {"chat.postMessage", "views.publish", "conversations.create"} <= called.keys()  # the scan works
    assert all(ref.exists(m) for m in called), [m for m in called if not ref.exists(m)]
    missing = called.keys() - SCOPES_BY_METHOD.keys()
    assert not missing, f"add these to bot/slack/manifest.py SCOPES_BY_METHOD: { {m: called[m] for m in missing} }"
    stale = SCOPES_BY_METHOD.keys() - called.keys()
    assert not stale, f"no code calls these any more; drop them (and their scopes): {sorted(stale)}"


def test_each_scope_is_one_slack_accepts_for_its_method() -> None:
    for method, (scopes, why) in SCOPES_BY_METHOD.items():
        spec = ref.methods()[method]
        accepted = set((spec.get("scope") or {}).get("bot") or [])
        assert why, method
        if not accepted:
            assert scopes == (), f"{method} needs no scope"
            continue
        assert scopes, f"{method} needs one of {sorted(accepted)}"
        for scope in scopes:
            assert scope in accepted or (method, scope) in EXTRA, f"{method}: {scope} not in {sorted(accepted)}"


def test_the_manifest_asks_for_exactly_those_scopes() -> None:
    needed = {s for scopes, _ in SCOPES_BY_METHOD.values() for s in scopes} | set(OTHER_SCOPES)
    data = manifest(from_env({}))
    assert data["oauth_config"]["scopes"]["bot"] == sorted(needed) == bot_scopes()
    assert "user" not in data["oauth_config"]["scopes"]  # no user tokens, ever
    for broad in ("channels:read", "chat:write.public", "users:write", "admin", "channels:join"):
        assert broad not in needed


def test_the_manifest_follows_configuration() -> None:
    data = manifest(from_env({"ONEDAY_COMMAND_AGENDA": "meeting", "ONEDAY_COMMAND_ACTION": "/task"}),
                    url="https://oneday.example.org/")
    commands = data["features"]["slash_commands"]
    names = [c["command"] for c in commands]
    assert names == ["/meeting", "/task",
                     *[DEFAULT_COMMANDS[k] for k in ("outcome", "actions", "oneday", "decision", "inform")]]
    assert all(c["should_escape"] is True and c["url"] == "https://oneday.example.org/slack/events" and
               c["description"] and c["usage_hint"] for c in commands)
    assert data["features"]["app_home"]["home_tab_enabled"] and data["features"]["app_home"]["messages_tab_enabled"]
    settings = data["settings"]
    assert settings["event_subscriptions"] == {"request_url": "https://oneday.example.org/slack/events",
                                               "bot_events": list(BOT_EVENTS)}
    assert settings["interactivity"] == {"is_enabled": True, "request_url": "https://oneday.example.org/slack/events"}
    assert settings["socket_mode_enabled"] is False
    assert "redirect_urls" not in data["oauth_config"]

    socket = manifest(from_env({"SLACK_APP_TOKEN": "xapp-1-A-1-x", "SLACK_CLIENT_ID": "1.2",
                                "SLACK_CLIENT_SECRET": "s"}), url="https://oneday.example.org")
    assert socket["settings"]["socket_mode_enabled"] is True
    assert "request_url" not in socket["settings"]["event_subscriptions"]
    assert "request_url" not in socket["settings"]["interactivity"]
    assert all("url" not in c for c in socket["features"]["slash_commands"])
    assert socket["oauth_config"]["redirect_urls"] == ["https://oneday.example.org/slack/oauth_redirect"]
    assert socket["settings"]["event_subscriptions"]["bot_events"] == [*BOT_EVENTS, *OAUTH_EVENTS]


def test_oneday_slack_manifest_prints_yaml_and_json() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "ONEDAY_"))}
    env["ONEDAY_COMMAND_OUTCOME"] = "/result"

    def run(*args: str) -> str:
        done = subprocess.run([str(ONEDAY), "slack", "manifest", *args], env=env, capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout

    as_yaml = yaml.safe_load(run("--url", "https://oneday.example.org"))
    as_json = json.loads(run("--url", "https://oneday.example.org", "--format", "json"))
    assert as_yaml == as_json
    assert "/result" in [c["command"] for c in as_json["features"]["slash_commands"]]
    assert as_json["oauth_config"]["scopes"]["bot"] == bot_scopes()
    bad = subprocess.run([str(ONEDAY), "slack", "manifest", "--format", "xml"], env=env, capture_output=True,
                         text=True, timeout=60)
    assert bad.returncode == 2 and "yaml or json" in bad.stderr
