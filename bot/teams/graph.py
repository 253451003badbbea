"""Microsoft Graph, for what the Bot Connector cannot do: group chats with exact members (a section's space),
emptying such a chat when retention closes it (`remove_everyone`), and users by email. Application
permissions: Chat.Create, ChatMember.ReadWrite.All, TeamsAppInstallation.ReadWriteSelfForChat.All, User.Read.All
(listed in the app package, bot/teams/manifest.py).
"""

from __future__ import annotations

import logging
from urllib.parse import quote

import httpx

from bot.port import DeliveryError
from bot.teams.connector import TIMEOUT, checked
from bot.teams.settings import GRAPH_SCOPE
from bot.teams.tokens import TokenSource

log = logging.getLogger("oneday.teams")
MEMBER_TYPE = "#microsoft.graph.aadUserConversationMember"


class Graph:
    def __init__(self, http: httpx.Client, tokens: TokenSource, base: str, app_id: str) -> None:
        self.http, self.tokens, self.base, self.app_id = http, tokens, base.rstrip("/"), app_id
        self._catalog_id: str | None = None

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens.token(GRAPH_SCOPE)}"}

    def _member(self, user: str) -> dict[str, object]:
        return {"@odata.type": MEMBER_TYPE, "roles": ["owner"],
                "user@odata.bind": f"{self.base}/users('{user}')"}

    def user(self, id_or_email: str) -> dict[str, str] | None:
        try:
            resp = self.http.get(f"{self.base}/users/{quote(id_or_email, safe='@')}",
                                 params={"$select": "id,mail,userPrincipalName"}, headers=self._headers(),
                                 timeout=TIMEOUT)
        except (httpx.HTTPError, DeliveryError) as exc:
            log.warning("graph: user lookup failed: %s", type(exc).__name__)
            return None
        if resp.status_code != 200:
            return None
        data = resp.json()
        return {k: str(v) for k, v in data.items() if isinstance(v, str)}

    def create_group_chat(self, topic: str, users: list[str]) -> str:
        """A group chat holding exactly `users` (Entra object ids), with Oneday installed in it; its id."""
        body = {"chatType": "group", "topic": topic[:250], "members": [self._member(u) for u in users]}
        resp = checked("graph create chat", lambda: self.http.post(
            f"{self.base}/chats", json=body, headers=self._headers(), timeout=TIMEOUT),
            tokens=self.tokens, scope=GRAPH_SCOPE)
        chat = str(resp.json()["id"])
        self.install_in(chat)
        return chat

    def install_in(self, chat: str) -> None:
        """Install Oneday in the chat, so the bot may post there (TeamsAppInstallation.ReadWriteSelfForChat)."""
        catalog = self.catalog_id()
        if catalog is None:
            log.warning("graph: Oneday is not in the organisation's app catalog; the bot cannot post in new chats")
            return
        checked("graph install app", lambda: self.http.post(
            f"{self.base}/chats/{quote(chat, safe='')}/installedApps",
            json={"teamsApp@odata.bind": f"{self.base}/appCatalogs/teamsApps/{catalog}"},
            headers=self._headers(), timeout=TIMEOUT), tokens=self.tokens, scope=GRAPH_SCOPE)

    def catalog_id(self) -> str | None:
        if self._catalog_id is None:
            resp = checked("graph app catalog", lambda: self.http.get(
                f"{self.base}/appCatalogs/teamsApps", params={"$filter": f"externalId eq '{self.app_id}'"},
                headers=self._headers(), timeout=TIMEOUT), tokens=self.tokens, scope=GRAPH_SCOPE)
            found = resp.json().get("value") or []
            self._catalog_id = str(found[0]["id"]) if found else None
        return self._catalog_id

    def members(self, chat: str) -> dict[str, str]:
        """Entra object id -> membership id, for the people in the chat."""
        resp = checked("graph chat members", lambda: self.http.get(
            f"{self.base}/chats/{quote(chat, safe='')}/members", headers=self._headers(), timeout=TIMEOUT),
            tokens=self.tokens, scope=GRAPH_SCOPE)
        return {str(m["userId"]).lower(): str(m["id"]) for m in resp.json().get("value") or [] if m.get("userId")}

    def add_member(self, chat: str, user: str) -> None:
        checked("graph add member", lambda: self.http.post(
            f"{self.base}/chats/{quote(chat, safe='')}/members", json=self._member(user), headers=self._headers(),
            timeout=TIMEOUT), tokens=self.tokens, scope=GRAPH_SCOPE)

    def remove_member(self, chat: str, membership: str) -> None:
        checked("graph remove member", lambda: self.http.delete(
            f"{self.base}/chats/{quote(chat, safe='')}/members/{quote(membership, safe='')}",
            headers=self._headers(), timeout=TIMEOUT), tokens=self.tokens, scope=GRAPH_SCOPE)

    def remove_everyone(self, chat: str) -> int:
        """Remove every member from a group chat (retention's stand-in for archiving: Graph has no archive for
        chats); how many were removed now. Idempotent: a chat Graph no longer has (404), or a membership already
        gone (404), counts as done. Oneday itself stays installed in the chat, so a later erasure can still
        delete the bot's messages there. A refusal (403: ChatMember.ReadWrite.All not granted) raises a permanent
        DeliveryError; throttling (429) and gateway trouble a retryable one."""
        base = f"{self.base}/chats/{quote(chat, safe='')}/members"
        resp = checked("graph chat members", lambda: self.http.get(base, headers=self._headers(), timeout=TIMEOUT),
                       tokens=self.tokens, scope=GRAPH_SCOPE, accept=(404,))
        if resp.status_code == 404:
            return 0
        memberships = sorted(str(m["id"]) for m in resp.json().get("value") or [] if m.get("id"))
        removed = 0
        for membership in memberships:
            gone = checked("graph remove member", lambda m=membership: self.http.delete(  # type: ignore[misc]
                f"{base}/{quote(m, safe='')}", headers=self._headers(), timeout=TIMEOUT),
                tokens=self.tokens, scope=GRAPH_SCOPE, accept=(404,))
            removed += gone.status_code != 404
        return removed
