"""The Teams side of the platform port (bot/port.py), for the outbox, jobs and inbound answers.

- A member is their Entra object id. Their DM is the bot's 1:1 chat with them: the conversation reference
  captured from their activities (bot/teams/references.py), or created through the Bot Connector when missing.
- A space is a Teams conversation id (a section's group chat made through Graph, or the meeting's channel); it is
  sent to through the service URL last seen for the tenant.
- Teams has no ephemeral messages and no modals outside an invoke: what the core shows one person privately goes
  to that person's 1:1 chat.
- Teams cannot be asked which messages it holds, so the platform does not declare LOOKS_UP_SENT: a post that
  may have landed is sent again (at least once; README, delivery guarantee).
- Retention (bot/port.py `SentEraser`, declared as ERASES_SENT in bot/teams/platform.py) deletes the bot's
  activities through the Bot Connector and, Teams having no archive for group chats, empties a section's chat of
  its members through Graph (`archive_space`). What a file share leaves behind that the bot cannot reach is said
  at `upload` and `delete_sent`.
"""

from __future__ import annotations

import logging

import httpx
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock
from bot.port import DeliveryError
from bot.teams import cards, files, forms
from bot.teams.connector import TIMEOUT, Connector
from bot.teams.graph import Graph
from bot.teams.references import References
from bot.teams.settings import TeamsSettings
from bot.teams.tokens import TokenSource
from commands.core.platforms import canonical
from commands.core.replies import Attachment, Form, Reply

log = logging.getLogger("oneday.teams")

# A file share is two activities (the message, then the consent card); its ref holds both ids, joined by this
# (Bot Connector activity ids hold no space). It must fit the outbox's sent_ref column.
REF_SEPARATOR = " "
REF_LENGTH = 64  # OutboxMessage.sent_ref


class TeamsPort:
    platform = "teams"

    def __init__(self, connector: Connector, graph: Graph, references: References, tenant_id: str | None,
                 seal_key: str = "") -> None:
        self.connector, self.graph, self.refs, self.tenant_id = connector, graph, references, tenant_id
        self.seal_key = seal_key  # seals the files offered in consent cards (bot/teams/files.py)

    def _route(self, conversation: str) -> str:
        """The service URL to send to `conversation` through."""
        ref = self.refs.by_conversation(conversation)
        if ref is not None:
            return ref.service_url
        found = self.refs.tenant_service_url(self.tenant_id)
        if found is None:
            raise DeliveryError("no Teams service URL known yet: nobody in the tenant has used the app")
        return found[1]

    def send(self, conversation: str, activity: dict[str, object]) -> str:
        return self.connector.send(self._route(conversation), conversation, activity)

    def post(self, channel: str, message: Reply, dedupe_key: str | None = None, *,
             dedupe_id: int | None = None) -> str:
        activity = cards.message(message)
        if dedupe_key is not None:  # travels with the message; Teams cannot be searched by it
            activity["channelData"] = {"onedayKey": dedupe_key}
        return self.send(channel, activity)

    def upload(self, channel: str, attachment: Attachment, message: Reply) -> str:
        """The message, then a file consent card for the file (bot/teams/files.py): a bot can put a file in a
        person's OneDrive only once they accept it. The message stands on its own (the itinerary's times)."""
        ref = self.post(channel, message)
        consent = self.send(channel, {"type": "message",
                                      "attachments": [files.consent_card(attachment, self.seal_key)]})
        both = f"{ref}{REF_SEPARATOR}{consent}"
        if consent and len(both) <= REF_LENGTH:
            return both  # retention deletes both; the consent card carries the file's bytes in its context
        log.warning("teams: the consent card's id does not fit beside the message's; retention will delete the "
                    "message but cannot find the consent card")
        return ref

    def post_ephemeral(self, channel: str, user: str, message: Reply) -> None:
        """No ephemeral messages in Teams: to the person's 1:1 chat, never to `channel`."""
        self.send(self.open_dm(user), cards.message(message))

    def open_dm(self, user: str) -> str:
        aad = canonical(user)
        ref = self.refs.of(aad, self.tenant_id)
        if ref is not None and ref.conversation_id:
            return ref.conversation_id
        if ref is not None:
            tenant, service_url = ref.tenant_id, ref.service_url
        else:
            found = self.refs.tenant_service_url(self.tenant_id)
            if found is None:
                raise DeliveryError("no Teams service URL known yet: nobody in the tenant has used the app")
            tenant, service_url = found
            self.refs.remember(tenant=tenant, aad=aad, service_url=service_url)
        conversation = self.connector.create_personal(service_url, tenant, aad)
        self.refs.set_conversation(tenant, aad, conversation)
        return conversation

    def email_of(self, user: str) -> str | None:
        found = self.graph.user(canonical(user))
        return (found.get("mail") or found.get("userPrincipalName")) if found else None

    def user_for_email(self, email: str) -> str | None:
        found = self.graph.user(email)
        return canonical(found["id"]) if found and found.get("id") else None

    def create_private_space(self, name: str, users: list[str]) -> str:
        return self.graph.create_group_chat(name, sorted({canonical(u) for u in users}))

    def set_space_members(self, space: str, users: list[str]) -> None:
        wanted = {canonical(u) for u in users}
        present = self.graph.members(space)
        for user in sorted(wanted - set(present)):
            self.graph.add_member(space, user)
        for user in sorted(set(present) - wanted):
            self.graph.remove_member(space, present[user])

    def open_form(self, trigger: str, form: Form) -> None:
        """`trigger` is the person's Entra object id: a card in their 1:1 chat whose button opens the form in a
        dialog (a bot can open a dialog only in answer to a button)."""
        self.send(self.open_dm(trigger), cards.form_message(form, forms.seal(form, self.seal_key)))

    def show_modal(self, trigger: str, content: Reply) -> None:
        self.post_ephemeral("", trigger, content)

    def update_modal(self, view_id: str, content: Reply) -> None:
        raise DeliveryError("Teams replaces a card in the answer to its button, not afterwards", permanent=True)

    # -- retention (bot/port.py SentEraser; declared as ERASES_SENT in bot/teams/platform.py) ---------------
    def delete_sent(self, channel: str, ref: str, *, file: bool = False) -> bool:
        """DELETE each activity of `ref` through the Bot Connector: a post is one activity; a file share
        (`upload`) is the message and the consent card, whose context holds the file's bytes. A 404 is an
        activity already gone: done. A refusal for good (403: not the bot's, or the bot was removed from the
        conversation) is False; throttling and gateway trouble raise DeliveryError (retried after Retry-After).

        What a file share leaves that the bot cannot erase: once the person pressed Accept, the file is in their
        own OneDrive (an upload session Teams opened in their name; the bot holds no Graph permission on users'
        drives) and the file info card sent then was posted by the answer to the Accept, not by the outbox, so
        no row knows its id."""
        service_url = self._route(channel)
        refused = False
        for activity_id in [part for part in ref.split(REF_SEPARATOR) if part]:
            try:
                self.connector.delete(service_url, channel, activity_id)
            except DeliveryError as exc:
                if not exc.permanent:
                    raise
                log.warning("retention: Teams refused to delete %s: %s", "a file share" if file else "a message", exc)
                refused = True
        return not refused

    def archive_space(self, space: str) -> bool:
        """Teams cannot archive a group chat as Slack archives a channel (Graph has no such call, and deleting
        the chat needs Chat.ManageDeletion.All and destroys it for everyone). The equivalent that removes access:
        every member is removed through Graph (ChatMember.ReadWrite.All, already granted for keeping sections in
        step), so no one can post there or read anything new; the chat stops being a live place. Oneday stays
        installed in it, so a later erasure can still delete its messages there. What Teams keeps showing a
        removed member of the history before their removal is Teams' own rule, as an archived Slack channel
        stays readable. False when Graph refuses for good (403), with the reason logged."""
        try:
            removed = self.graph.remove_everyone(space)
        except DeliveryError as exc:
            if exc.permanent:
                log.warning("retention: Graph refused to remove the members of a section chat: %s", exc)
                return False
            raise
        log.info("retention: section chat emptied (%d members removed)", removed)
        return True


def build_port(settings: TeamsSettings, factory: sessionmaker[Session], clock: Clock,
               http: httpx.Client | None = None) -> TeamsPort:
    """A port with its own HTTP client (timeouts on every call), token source, connector and Graph client."""
    http = http or httpx.Client(timeout=TIMEOUT)
    tokens = TokenSource(settings, http)
    app_id = settings.app_id or ""
    return TeamsPort(Connector(http, tokens, app_id), Graph(http, tokens, settings.graph_api_url, app_id),
                     References(factory, clock), settings.tenant_id, settings.app_password or "")
