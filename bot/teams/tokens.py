"""The bot's outbound tokens: OAuth2 client credentials (`TEAMS_APP_ID`/`TEAMS_APP_PASSWORD`) at
`TEAMS_TOKEN_URL`, one per scope (Bot Connector, Graph), cached until shortly before they expire."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import httpx

from bot.port import DeliveryError
from bot.teams.settings import TeamsSettings

EARLY_SECONDS = 300  # renew this long before the token's stated expiry


class TokenSource:
    def __init__(self, settings: TeamsSettings, http: httpx.Client, *,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.settings, self.http, self.monotonic = settings, http, monotonic
        self._cache: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def token(self, scope: str) -> str:
        with self._lock:
            cached = self._cache.get(scope)
            if cached and cached[1] > self.monotonic():
                return cached[0]
        try:
            resp = self.http.post(self.settings.outbound_token_url, data={
                "grant_type": "client_credentials", "client_id": self.settings.app_id or "",
                "client_secret": self.settings.app_password or "", "scope": scope})
        except httpx.HTTPError as exc:
            raise DeliveryError(f"token endpoint unreachable: {type(exc).__name__}") from exc
        if resp.status_code != 200:  # not permanent: a wrong password is fixed by the operator, then messages go
            raise DeliveryError(f"token endpoint answered {resp.status_code}")
        data = resp.json()
        token, lifetime = str(data["access_token"]), float(data.get("expires_in", 3600))
        with self._lock:
            self._cache[scope] = (token, self.monotonic() + max(lifetime - EARLY_SECONDS, 30.0))
        return token

    def forget(self, scope: str) -> None:
        """The token was refused (401): the next call fetches a new one."""
        with self._lock:
            self._cache.pop(scope, None)
