"""The Slack side of the platform port: Web API calls, with failures turned into DeliveryError."""

from __future__ import annotations

import copy
import json
import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.port import DeliveryError
from bot.slack.blocks import render
from bot.slack.forms import render_form, render_modal
from commands.core.replies import Attachment, Form, Reply

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
            raise DeliveryError(f"Slack answered {status}", uncertain=True) from exc
        raise DeliveryError(f"Slack error {error}", permanent=error in PERMANENT) from exc
    except (URLError, OSError, TimeoutError) as exc:
        raise DeliveryError(f"network error: {type(exc).__name__}", uncertain=True) from exc


def channel_name(name: str) -> str:
    """Slack channel names: lowercase, no spaces, at most 80 characters."""
    return re.sub(r"[^a-z0-9_-]+", "-", name.lower()).strip("-")[:80]


METADATA_EVENT = "oneday_outbox"  # the event_type of the metadata every outbox post carries
CLOCK_SKEW = 300.0  # seconds: look this far before `since`, in case our clock is ahead of Slack's
HISTORY_PAGES = 10  # pages of 200 messages scanned by already_sent before giving up


class SlackPort:
    platform = "slack"

    def __init__(self, client: WebClient, *, per_partnership: Callable[[int], WebClient] | None = None) -> None:
        """`per_partnership` (OAuth installs): the client of a partnership's own workspace; the outbox then sends
        each row through `for_partnership(row.partnership_id)`, never with another workspace's token."""
        self.client = client
        self._per_partnership = per_partnership
        # Sends go through a copy that never retries by itself: a connection reset after Slack accepted a
        # post would otherwise post it twice. The outbox retries instead, looking before it posts again.
        self.send_client = copy.copy(client)
        self.send_client.retry_handlers = []
        self._me: str | None = None

    def for_partnership(self, partnership_id: int) -> SlackPort:
        """The port that speaks as the partnership's installation (this one with a single bot token). A new one
        each time (the sender asks once per delivery step): its token is looked up at its first call, so a
        workspace re-linked or re-installed meanwhile is never spoken for with the token it had before."""
        if self._per_partnership is None:
            return self
        client = self._per_partnership(partnership_id)
        return self if client is self.client else SlackPort(client)

    def post(self, channel: str, message: Reply, dedupe_key: str | None = None, *,
             dedupe_id: int | None = None) -> str:
        text, blocks = render(message)
        extra: dict[str, Any] = {}
        if dedupe_key is not None:
            payload: dict[str, Any] = {"key": dedupe_key}
            if dedupe_id is not None:
                payload["id"] = dedupe_id
            extra["metadata"] = json.dumps({"event_type": METADATA_EVENT, "event_payload": payload})
        resp = _call(lambda: self.send_client.chat_postMessage(channel=channel, text=text, blocks=blocks, **extra))
        return str(resp["ts"])

    def already_sent(self, channel: str, dedupe_key: str, within: timedelta, *, dedupe_id: int | None = None,
                     attachment: Attachment | None = None) -> str | None:
        """Scan the channel's history of the last `within` (newest first) for the message: by its metadata, or
        for an attachment (files carry no metadata) by the shared file's name, title and size. Slack stamps
        history on its own clock, so the bound is taken from the wall clock here, at the edge."""
        since = datetime.now(UTC) - within
        oldest = f"{since.timestamp() - CLOCK_SKEW:.6f}"
        cursor: str | None = None
        for _ in range(HISTORY_PAGES):
            resp = _call(lambda c=cursor: self.client.conversations_history(  # type: ignore[misc]
                channel=channel, oldest=oldest, include_all_metadata=True, limit=200, cursor=c))
            for m in resp.get("messages") or []:
                ref = _match(m, dedupe_key, dedupe_id, attachment)
                if ref is not None:
                    return ref
            cursor = (resp.get("response_metadata") or {}).get("next_cursor") or None
            if not resp.get("has_more") or not cursor:
                return None
        log.warning("already_sent: more than %s messages since %s in one channel; assuming not sent",
                    HISTORY_PAGES * 200, since.isoformat())
        return None

    def upload(self, channel: str, attachment: Attachment, message: Reply) -> str:
        text, _ = render(message)
        resp = _call(lambda: self.send_client.files_upload_v2(
            channel=channel, filename=attachment.filename, title=attachment.title,
            content=attachment.data, initial_comment=text))
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

    def _bot_user(self) -> str:
        if self._me is None:
            self._me = str(_call(lambda: self.client.auth_test())["user_id"])
        return self._me

    def create_private_space(self, name: str, users: list[str]) -> str:
        """Create the channel; if its name is taken by a channel this bot created (an earlier attempt that
        crashed before recording it), take that one over and set its members."""
        slug = channel_name(name)
        try:
            resp = _call(lambda: self.send_client.conversations_create(name=slug, is_private=True))
        except DeliveryError as exc:
            if "name_taken" not in str(exc):
                raise
            space = self._own_channel_named(slug)
            if space is None:
                raise DeliveryError(f"channel name {slug} is taken by a channel Oneday did not create",
                                    permanent=True) from exc
            self.set_space_members(space, users)
            return space
        space = str(resp["channel"]["id"])
        if users:
            _call(lambda: self.client.conversations_invite(channel=space, users=users))
        return space

    def _own_channel_named(self, slug: str) -> str | None:
        me, cursor = self._bot_user(), None
        while True:
            resp = _call(lambda c=cursor: self.client.conversations_list(  # type: ignore[misc]
                types="private_channel", exclude_archived=True, limit=200, cursor=c))
            for c in resp.get("channels") or []:
                if c.get("name") == slug and c.get("creator") == me:
                    return str(c["id"])
            cursor = (resp.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return None

    def set_space_members(self, space: str, users: list[str]) -> None:
        resp = _call(lambda: self.client.conversations_members(channel=space, limit=1000))
        current = set(resp["members"])
        me = self._bot_user() if current else None
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

    # -- retention (bot/port.py SentEraser; declared as ERASES_SENT in bot/slack/platform.py) ---------------
    def delete_sent(self, channel: str, ref: str, *, file: bool = False) -> bool:
        """chat.delete for a post, files.delete for a shared file (which takes its share message with it)."""
        gone = {"message_not_found", "file_not_found", "file_deleted", "channel_not_found"}
        try:
            if file:
                _call(lambda: self.client.files_delete(file=ref))
            else:
                _call(lambda: self.client.chat_delete(channel=channel, ts=ref))
        except DeliveryError as exc:
            if _error(exc) in gone:
                return True
            if exc.permanent or _error(exc) in {"cant_delete_message", "cant_delete_file", "delete_not_allowed"}:
                log.warning("retention: Slack refused to delete %s: %s", "a file" if file else "a message", exc)
                return False
            raise
        return True

    def archive_space(self, space: str) -> bool:
        try:
            _call(lambda: self.client.conversations_archive(channel=space))
        except DeliveryError as exc:
            if _error(exc) == "already_archived":
                return True
            if exc.permanent or _error(exc) in {"cant_archive_general", "restricted_action"}:
                log.warning("retention: Slack refused to archive a section channel: %s", exc)
                return False
            raise
        return True


def _error(exc: DeliveryError) -> str:
    """Slack's error code of a DeliveryError raised by `_call` ("Slack error <code>"), else ''."""
    text = str(exc)
    return text.removeprefix("Slack error ") if text.startswith("Slack error ") else ""


def _match(m: dict[str, Any], key: str, dedupe_id: int | None, attachment: Attachment | None) -> str | None:
    """The ref the outbox records for message `m` if it is the one sought (ts for a post, file id for a file)."""
    if attachment is not None:
        size = len(attachment.data)
        for f in m.get("files") or []:
            if f.get("name") == attachment.filename and f.get("title") in (attachment.title, None) \
                    and f.get("size") in (size, None):
                return str(f.get("id", ""))
        return None
    meta = m.get("metadata") or {}
    payload = meta.get("event_payload") or {}
    if meta.get("event_type") == METADATA_EVENT and payload.get("key") == key \
            and (dedupe_id is None or payload.get("id") in (dedupe_id, str(dedupe_id))):
        return str(m["ts"])
    return None
