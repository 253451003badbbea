"""The platform port: what the core asks of a chat platform. Slack implements it in bot/slack/port.py;
a Teams adapter implements the same in bot/teams/ and nothing else changes. `SentLookup` is what a platform
that can look up what it sent adds (declared as its LOOKS_UP_SENT capability); `SentEraser` what a platform that
can take back what it sent adds (its ERASES_SENT capability: retention deletes messages and archives spaces).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Protocol, runtime_checkable

from commands.core.replies import Attachment, Form, Reply


class DeliveryError(Exception):
    """A send failed. `retry_after` (seconds) when the platform asked us to slow down; `permanent` when
    retrying cannot help (unknown channel, user gone); `uncertain` when no answer came (network error, timeout,
    server error), so the platform may have accepted the message anyway."""

    def __init__(self, message: str, *, retry_after: float | None = None, permanent: bool = False,
                 uncertain: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.permanent = permanent
        self.uncertain = uncertain


class ChatPort(Protocol):
    platform: str

    def post(self, channel: str, message: Reply, dedupe_key: str | None = None, *,
             dedupe_id: int | None = None) -> str:
        """Post to a channel (or an opened DM channel); return the platform's message ref. `dedupe_key` (and
        `dedupe_id`) travel invisibly with the message so `already_sent` can find it again."""

    def upload(self, channel: str, attachment: Attachment, message: Reply) -> str:
        """Share a file in a channel with the message as its comment; return a ref for the share."""

    def post_ephemeral(self, channel: str, user: str, message: Reply) -> None: ...

    def open_dm(self, user: str) -> str:
        """The DM channel with one user."""

    def email_of(self, user: str) -> str | None: ...

    def user_for_email(self, email: str) -> str | None: ...

    def create_private_space(self, name: str, users: list[str]) -> str:
        """Create a private channel, invite exactly `users`; return its ref."""

    def set_space_members(self, space: str, users: list[str]) -> None:
        """Add and remove members so the space holds exactly `users` (and the bot)."""

    def open_form(self, trigger: str, form: Form) -> None: ...

    def show_modal(self, trigger: str, content: Reply) -> None:
        """Show content privately to the one person who pressed a button (never stored in a channel)."""

    def update_modal(self, view_id: str, content: Reply) -> None:
        """Replace the content of a modal the person has open (a button inside it was pressed)."""


@runtime_checkable
class SentLookup(Protocol):
    """A port of a platform that declares LOOKS_UP_SENT (bot/platform.py): it can find a message it posted by
    the dedupe key that travelled with it. The outbox asks before re-sending a post that may have landed."""

    def already_sent(self, channel: str, dedupe_key: str, within: timedelta, *, dedupe_id: int | None = None,
                     attachment: Attachment | None = None) -> str | None:
        """The ref of a message posted to `channel` in the last `within` with this dedupe key (or, for an
        attachment, the ref of the same file shared there), or None when it never arrived.

        A duration, not an instant: the sender's clock may run "as of" another day (a replayed job, a demo),
        while the platform stamps history with its own; an age means the same on both."""


@runtime_checkable
class SentEraser(Protocol):
    """A port of a platform that declares ERASES_SENT (bot/platform.py): retention (bot/cli_retention.py) takes
    an erased target's messages out of chat history and archives section spaces whose pack has closed.

    Both are idempotent: something already gone counts as done (True), so a run that stopped half way can be
    run again. A failure the platform may recover from raises DeliveryError."""

    def delete_sent(self, channel: str, ref: str, *, file: bool = False) -> bool:
        """Delete a message the bot posted (`ref` as `post` returned it) or, with `file`, a file it shared
        (`ref` as `upload` returned it). False when the platform refuses for good (not the bot's, not allowed)."""

    def archive_space(self, space: str) -> bool:
        """Archive a space the bot created: members keep nothing new, the space stops being a live place.
        False when the platform refuses for good."""


@runtime_checkable
class PerPartnership(Protocol):
    """A port that speaks for several workspaces (Slack OAuth installs: one bot token per workspace). The outbox
    asks it for the port of each row's partnership, so a row of workspace A is never sent with B's token."""

    def for_partnership(self, partnership_id: int) -> ChatPort:
        """The port that sends as the partnership's own installation (self when there is only one)."""
