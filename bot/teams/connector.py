"""The Bot Connector REST API (send, reply, update, delete, create a 1:1 conversation), synchronously over httpx
with a timeout, every failure turned into a DeliveryError the outbox understands.

Teams answers 429 (throttled), 412 (precondition failed: a conversation busy with another write), 502 and 504
(gateway trouble) with "try again later", usually with Retry-After; those are retried after that many seconds.
A timeout or a 5xx means the message may have arrived anyway (`uncertain`): Teams cannot be asked what was sent,
so the outbox sends again and the message may arrive twice (README, delivery guarantee).
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import Any
from urllib.parse import quote

import httpx

from bot.port import DeliveryError
from bot.teams.settings import BOT_SCOPE
from bot.teams.tokens import TokenSource

log = logging.getLogger("oneday.teams")

TIMEOUT = httpx.Timeout(10.0, connect=5.0)
RETRIED = {429, 412, 502, 504}  # retried after Retry-After
DEFAULT_RETRY_AFTER = 1.0


def retry_after(resp: httpx.Response) -> float:
    raw = resp.headers.get("Retry-After")
    try:
        return max(float(raw), 0.0) if raw else DEFAULT_RETRY_AFTER
    except ValueError:
        return DEFAULT_RETRY_AFTER


def checked(what: str, call: Any, *, tokens: TokenSource | None = None, scope: str = BOT_SCOPE,
            accept: Collection[int] = ()) -> httpx.Response:
    """Run an httpx call; a failure becomes a DeliveryError (network errors and 5xx: uncertain). A status in
    `accept` is returned as an answer, not raised (404 to a DELETE: already gone)."""
    try:
        resp: httpx.Response = call()
    except httpx.TimeoutException as exc:
        raise DeliveryError(f"{what}: timed out", uncertain=True) from exc
    except httpx.HTTPError as exc:
        raise DeliveryError(f"{what}: network error {type(exc).__name__}", uncertain=True) from exc
    status = resp.status_code
    if status < 300 or status in accept:
        return resp
    if status in RETRIED:
        raise DeliveryError(f"{what}: answered {status}", retry_after=retry_after(resp),
                            uncertain=status in (502, 504))
    if status == 401 and tokens is not None:
        tokens.forget(scope)
        raise DeliveryError(f"{what}: token refused (401)")
    if status >= 500:
        raise DeliveryError(f"{what}: answered {status}", uncertain=True)
    raise DeliveryError(f"{what}: answered {status}", permanent=True)


def _base(service_url: str) -> str:
    return service_url if service_url.endswith("/") else service_url + "/"


class Connector:
    def __init__(self, http: httpx.Client, tokens: TokenSource, app_id: str) -> None:
        self.http, self.tokens, self.app_id = http, tokens, app_id

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens.token(BOT_SCOPE)}"}

    def send(self, service_url: str, conversation_id: str, activity: dict[str, Any],
             reply_to: str | None = None) -> str:
        """Post an activity to a conversation (a reply when `reply_to` is given); its id."""
        url = f"{_base(service_url)}v3/conversations/{quote(conversation_id, safe='')}/activities"
        if reply_to:
            url += f"/{quote(reply_to, safe='')}"
        resp = checked("send", lambda: self.http.post(url, json=activity, headers=self._headers(), timeout=TIMEOUT),
                       tokens=self.tokens)
        return str((resp.json() if resp.content else {}).get("id") or "")

    def update(self, service_url: str, conversation_id: str, activity_id: str, activity: dict[str, Any]) -> None:
        url = (f"{_base(service_url)}v3/conversations/{quote(conversation_id, safe='')}/activities/"
               f"{quote(activity_id, safe='')}")
        checked("update", lambda: self.http.put(url, json=activity, headers=self._headers(), timeout=TIMEOUT),
                tokens=self.tokens)

    def delete(self, service_url: str, conversation_id: str, activity_id: str) -> bool:
        """DELETE an activity the bot sent: True when deleted now, False when the connector no longer has it
        (404: deleted already, by an earlier run or by hand). 429/412/502/504 raise a DeliveryError with
        Retry-After, as for a send; 403 (not the bot's, or not allowed) raises a permanent one."""
        url = (f"{_base(service_url)}v3/conversations/{quote(conversation_id, safe='')}/activities/"
               f"{quote(activity_id, safe='')}")
        resp = checked("delete", lambda: self.http.delete(url, headers=self._headers(), timeout=TIMEOUT),
                       tokens=self.tokens, accept=(404,))
        return resp.status_code != 404

    def create_personal(self, service_url: str, tenant_id: str, user_id: str) -> str:
        """Open (or find: the Connector returns the existing one) the 1:1 chat of the bot with a user, by their
        Entra object id or 29:... id; its conversation id."""
        body = {"bot": {"id": f"28:{self.app_id}"}, "members": [{"id": user_id}], "isGroup": False,
                "tenantId": tenant_id, "channelData": {"tenant": {"id": tenant_id}}}
        url = f"{_base(service_url)}v3/conversations"
        resp = checked("create conversation",
                       lambda: self.http.post(url, json=body, headers=self._headers(), timeout=TIMEOUT),
                       tokens=self.tokens)
        conversation = str(resp.json().get("id") or "")
        if not conversation:
            raise DeliveryError("create conversation: no id in the answer")
        return conversation
