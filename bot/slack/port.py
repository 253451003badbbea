"""The Slack side of the platform port: Web API calls, with failures turned into DeliveryError."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.port import DeliveryError
from bot.slack.blocks import render
from bot.slack.forms import render_form, render_modal
from commands.replies import Attachment, Form, Reply

log = logging.getLogger("oneday.slack")
T = TypeVar("T")
PERMANENT = {"channel_not_found", "not_in_channel", "is_archived", "user_not_found", "users_not_found",
             "cannot_dm_bot", "invalid_blocks", "msg_too_long", "no_text", "account_inactive",
             "user_disabled", "restricted_action", "not_authed", "invalid_auth", "missing_scope"}


def _call(fn: Callable[[], T]) -> T:
    try:
        return fn()
    except SlackApiError as exc:
        status = exc.response.status_code
        error = exc.response.get("error") if isinstance(exc.response.data, dict) else None
        if status == 429:
            retry = exc.response.headers.get("Retry-After") or exc.response.headers.get("retry-after") or "1"
            raise DeliveryError("rate limited", retry_after=float(retry)) from exc
        if status >= 500:
            raise DeliveryError(f"Slack answered {status}") from exc
        raise DeliveryError(f"Slack error {error}", permanent=error in PERMANENT) from exc
    except (URLError, OSError, TimeoutError) as exc:
        raise DeliveryError(f"network error: {type(exc).__name__}") from exc


def channel_name(name: str) -> str:
    """Slack channel names: lowercase, no spaces, at most 80 characters."""
    return re.sub(r"[^a-z0-9_-]+", "-", name.lower()).strip("-")[:80]


class SlackPort:
    platform = "slack"

    def __init__(self, client: WebClient) -> None:
        self.client = client

    def post(self, channel: str, message: Reply) -> str:
        text, blocks = render(message)
        resp = _call(lambda: self.client.chat_postMessage(channel=channel, text=text, blocks=blocks))
        return str(resp["ts"])

    def upload(self, channel: str, attachment: Attachment, message: Reply) -> str:
        text, _ = render(message)
        resp = _call(lambda: self.client.files_upload_v2(
            channel=channel, filename=attachment.filename, title=attachment.title,
            content=attachment.content.encode("utf-8"), initial_comment=text))
        files = resp.get("files") or [resp.get("file") or {}]
        return str(files[0].get("id", ""))

    def post_ephemeral(self, channel: str, user: str, message: Reply) -> None:
        text, blocks = render(message)
        _call(lambda: self.client.chat_postEphemeral(channel=channel, user=user, text=text, blocks=blocks))

    def open_dm(self, user: str) -> str:
        resp = _call(lambda: self.client.conversations_open(users=[user]))
        return str(resp["channel"]["id"])

    def email_of(self, user: str) -> str | None:
        try:
            resp = _call(lambda: self.client.users_info(user=user))
        except DeliveryError:
            log.warning("users.info failed for a user; treating as unknown")
            return None
        profile: dict[str, Any] = resp["user"].get("profile") or {}
        return profile.get("email")

    def user_for_email(self, email: str) -> str | None:
        try:
            resp = _call(lambda: self.client.users_lookupByEmail(email=email))
        except DeliveryError as exc:
            if exc.permanent:
                return None
            raise
        return str(resp["user"]["id"])

    def create_private_space(self, name: str, users: list[str]) -> str:
        resp = _call(lambda: self.client.conversations_create(name=channel_name(name), is_private=True))
        space = str(resp["channel"]["id"])
        if users:
            _call(lambda: self.client.conversations_invite(channel=space, users=users))
        return space

    def set_space_members(self, space: str, users: list[str]) -> None:
        resp = _call(lambda: self.client.conversations_members(channel=space, limit=1000))
        current = set(resp["members"])
        me = self.client.auth_test()["user_id"] if current else None
        add = sorted(set(users) - current)
        if add:
            _call(lambda: self.client.conversations_invite(channel=space, users=add))
        for user in sorted(current - set(users) - {me}):
            _call(lambda u=user: self.client.conversations_kick(channel=space, user=u))  # type: ignore[misc]

    def open_form(self, trigger: str, form: Form) -> None:
        _call(lambda: self.client.views_open(trigger_id=trigger, view=render_form(form)))

    def show_modal(self, trigger: str, content: Reply) -> None:
        _call(lambda: self.client.views_open(trigger_id=trigger, view=render_modal(content)))

    def update_modal(self, view_id: str, content: Reply) -> None:
        """Replace an open modal's content (a button pressed inside it, e.g. accepting a statement)."""
        _call(lambda: self.client.views_update(view_id=view_id, view=render_modal(content)))
