"""The Slack app manifest (`oneday slack manifest`): what to paste into api.slack.com/apps to create the app.

It follows the configuration: the slash command names (ONEDAY_COMMAND_*), Socket Mode when SLACK_APP_TOKEN is
set (no request URLs then), the OAuth redirect URL when SLACK_CLIENT_ID is set. The bot scopes are the
smallest set that covers every Web API method the code calls: `SCOPES_BY_METHOD` names, for each method, the
scope it needs and why (tests/runtime/test_manifest.py finds the calls in the code and checks the two agree, and that
each scope is one Slack's method reference accepts for that method).
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from bot.config import Settings
from bot.slack.settings import slack_settings
from commands.core.help import HELP, usage_line

# Web API method -> (bot scopes it needs, why Oneday calls it). Methods that need no scope map to ().
SCOPES_BY_METHOD: dict[str, tuple[tuple[str, ...], str]] = {
    "auth.test": ((), "learn the bot's own user id (so it never removes itself from a section channel)"),
    "chat.postMessage": (("chat:write",), "post the overview, section pointers, DMs (itineraries, reminders)"),
    "chat.postEphemeral": (("chat:write",), "answer a button pressed where no response URL is available"),
    "conversations.open": (("im:write",), "open the direct message with a member before DMing them"),
    "conversations.create": (("groups:write",), "create each section's private channel"),
    "conversations.invite": (("groups:write",), "invite exactly a section's members to its private channel"),
    "conversations.kick": (("groups:write",), "remove members who are no longer invited to a section"),
    "conversations.members": (("groups:read",), "read a section channel's members before setting them"),
    "conversations.list": (("groups:read",), "find a section channel Oneday created when a crash hid its id"),
    "conversations.history": (("channels:history", "groups:history", "im:history"),
                              "the outbox looks before re-sending a message that may have arrived: in the "
                              "meeting channel (public or private), section channels and DMs"),
    "users.info": (("users:read", "users:read.email"), "match a Slack user to a partnership member by email"),
    "users.lookupByEmail": (("users:read.email",), "find the Slack user of a member listed by work email"),
    "views.open": ((), "open forms and private modals (target details are shown only there)"),
    "views.update": ((), "replace a modal's content (the pack after the confidentiality statement)"),
    "views.publish": ((), "draw each member's App Home"),
    "files.getUploadURLExternal": (("files:write",), "upload the itinerary's .ics file (files_upload_v2)"),
    "files.completeUploadExternal": (("files:write",), "share the uploaded .ics in the member's DM"),
    "chat.delete": (("chat:write",), "retention: delete the bot's own messages about an erased target"),
    "files.delete": (("files:write",), "retention: delete an itinerary file that named an erased target"),
    "conversations.archive": (("groups:write",), "retention: archive a section channel once its pack has closed"),
}
# Scopes that are not about a Web API method.
OTHER_SCOPES: dict[str, str] = {"commands": "the slash commands"}
BOT_EVENTS = ("app_home_opened",)  # needs no scope
# OAuth mode: bolt deletes a workspace's stored installation when it uninstalls the app (no scope either).
OAUTH_EVENTS = ("app_uninstalled", "tokens_revoked")


def bot_scopes() -> list[str]:
    found = {s for scopes, _ in SCOPES_BY_METHOD.values() for s in scopes} | set(OTHER_SCOPES)
    return sorted(found)


def _usage_hint(intent: str, names: dict[str, str]) -> str:
    """The first example that has words after the command name."""
    for usage, _ in HELP[intent][1]:
        rest = usage_line(usage, names).removeprefix(names[intent]).strip()
        if rest:
            return rest
    return "help"


def manifest(settings: Settings, url: str = "https://example.org", name: str = "Oneday") -> dict[str, Any]:
    base = url.rstrip("/")
    events_url = f"{base}/slack/events"
    slack = slack_settings(settings)
    socket = bool(slack.app_token)
    commands = []
    for intent, command in settings.commands.items():
        entry: dict[str, Any] = {"command": command, "description": HELP[intent][0][:2000],
                                 "usage_hint": _usage_hint(intent, settings.commands)[:1000], "should_escape": True}
        if not socket:
            entry["url"] = events_url
        commands.append(entry)
    oauth: dict[str, Any] = {"scopes": {"bot": bot_scopes()}}
    if slack.client_id:
        oauth = {"redirect_urls": [f"{base}/slack/oauth_redirect"], **oauth}
    events: dict[str, Any] = {"bot_events": [*BOT_EVENTS, *(OAUTH_EVENTS if slack.client_id else ())]}
    interactivity: dict[str, Any] = {"is_enabled": True}
    if not socket:
        events = {"request_url": events_url, **events}
        interactivity["request_url"] = events_url
    return {
        "display_information": {
            "name": name,
            "description": "Runs the multi-agency 'one day, one conversation' meeting, need-to-know first.",
            "background_color": "#1d3557",
        },
        "features": {
            "app_home": {"home_tab_enabled": True, "messages_tab_enabled": True,
                         "messages_tab_read_only_enabled": True},
            "bot_user": {"display_name": name.lower(), "always_online": True},
            "slash_commands": commands,
        },
        "oauth_config": oauth,
        "settings": {
            "event_subscriptions": events,
            "interactivity": interactivity,
            "org_deploy_enabled": False,
            "socket_mode_enabled": socket,
            "token_rotation_enabled": False,
        },
    }


def dump(data: dict[str, Any], fmt: str = "yaml") -> str:
    if fmt == "json":
        return json.dumps(data, indent=2) + "\n"
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120)
