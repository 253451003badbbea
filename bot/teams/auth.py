"""Inbound authentication: every activity's bearer token is checked before anything else happens.

The Bot Framework signs the JWT it sends with each activity. The keys come from its OpenID metadata
(`TEAMS_OPENID_METADATA_URL` -> `jwks_uri`); the issuer must be `TEAMS_TOKEN_ISSUER`, the audience our app id, and
the token's `serviceurl` claim the activity's `serviceUrl` (so nobody can point our replies at a host of theirs),
and the signing key must endorse the activity's `channelId`: each key in the Bot Framework's JWKS lists, in
`endorsements`, the channels it may sign for, and an activity is authentic only when its channel is in its
signing key's list ("msteams" for Teams). A key with no endorsements, or an activity with no channelId, is
refused (Teams always sends "msteams"; the Bot Framework SDKs refuse a key without endorsements too).
The signature and claim checks are the Teams SDK's own `TokenValidator`, configured here explicitly: the SDK's
app-level switch that turns validation off (DANGEROUSLY_ALLOW_UNAUTHENTICATED_REQUESTS) is never consulted, and
its extra acceptance of Entra-issued "Agent 365" tokens is not wanted.

Fetching the metadata and keys is blocking network I/O: `prefetch` does it at start-up (ASGI lifespan, in the
edge's thread pool) and later fetches happen in the route's thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from typing import Any

import httpx
import jwt

from bot.teams.settings import UNSAFE_SWITCH, TeamsSettings

log = logging.getLogger("oneday.teams")

KEYS_CACHE_SECONDS = 3600  # the Bot Framework rotates keys rarely; an unknown kid refetches at once
FETCH_TIMEOUT = 10.0


class Unauthorized(Exception):
    """The request is not from the Bot Framework for this app: answer 401 and do nothing."""


def refuse_unsafe_switch() -> None:
    """Importing microsoft_teams.apps loads any `.env` up the tree into os.environ; the switch it may set turns
    the SDK's validation off. Oneday validates itself, but a deployment with that switch set is misconfigured:
    refuse to start rather than look safe."""
    if os.environ.get(UNSAFE_SWITCH):
        raise RuntimeError(f"{UNSAFE_SWITCH} is set (in the environment or a .env file): Oneday will not accept "
                           "unauthenticated Teams requests; remove it")


class EndorsedKeys(jwt.PyJWKClient):
    """The JWKS client that also keeps each key's `endorsements` from the same fetch (PyJWT drops fields it
    does not know). Cached and refreshed with the keys: an unknown kid refetches both."""

    def __init__(self, uri: str, **kwargs: Any) -> None:
        super().__init__(uri, **kwargs)
        self.endorsements: dict[str, frozenset[str] | None] = {}

    def fetch_data(self) -> Any:
        data = super().fetch_data()
        found: dict[str, frozenset[str] | None] = {}
        for key in (data.get("keys") if isinstance(data, dict) else None) or []:
            if isinstance(key, dict) and isinstance(key.get("kid"), str):
                listed = key.get("endorsements")
                found[key["kid"]] = (frozenset(e for e in listed if isinstance(e, str))
                                     if isinstance(listed, list) else None)
        self.endorsements = found
        return data

    def endorses(self, token: str, channel: str) -> bool:
        """Whether the key that signed `token` (already verified) endorses `channel`."""
        kid = jwt.get_unverified_header(token).get("kid")
        return channel in (self.endorsements.get(kid) or frozenset()) if isinstance(kid, str) else False


class InboundAuth:
    def __init__(self, settings: TeamsSettings, http: httpx.Client) -> None:
        if not settings.app_id:
            raise ValueError("TEAMS_APP_ID is required to validate inbound tokens")
        self.settings, self.http = settings, http
        self._validator: Any = None
        self._lock = threading.Lock()

    def prefetch(self) -> None:
        """Read the OpenID metadata and the signing keys now (start-up), not on the first request."""
        keys: EndorsedKeys = self._ensure()._jwks_client  # not named *_client: no Slack WebClient here
        keys.get_jwk_set(refresh=True)

    def _ensure(self) -> Any:
        with self._lock:
            if self._validator is None:
                from microsoft_teams.apps.auth.token_validator import JwtValidationOptions, TokenValidator

                refuse_unsafe_switch()  # the import above may have loaded a .env
                resp = self.http.get(self.settings.openid_metadata_url, timeout=FETCH_TIMEOUT)
                resp.raise_for_status()
                jwks_uri = resp.json()["jwks_uri"]
                validator = TokenValidator(JwtValidationOptions(
                    valid_issuers=[self.settings.token_issuer], valid_audiences=[self.settings.app_id or ""],
                    jwks_uri=jwks_uri))
                validator._jwks_client = EndorsedKeys(jwks_uri, lifespan=KEYS_CACHE_SECONDS,
                                                      timeout=int(FETCH_TIMEOUT))
                self._validator = validator
            return self._validator

    def validate(self, authorization: str | None, service_url: object, channel_id: object) -> dict[str, Any]:
        """The token's claims, or Unauthorized. `service_url` and `channel_id` are the activity's own (whatever
        its JSON held)."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("no bearer token")
        if not isinstance(service_url, str) or not service_url:
            raise Unauthorized("activity has no serviceUrl")
        if not isinstance(channel_id, str) or not channel_id:
            raise Unauthorized("activity has no channelId")
        try:
            validator = self._ensure()
        except (httpx.HTTPError, KeyError, ValueError) as exc:
            log.warning("teams: cannot read the OpenID metadata: %s", type(exc).__name__)
            raise Unauthorized("signing keys unavailable") from exc
        try:
            claims: dict[str, Any] = asyncio.run(validator.validate_token(token.strip(), service_url))
        except (jwt.PyJWTError, ValueError) as exc:
            raise Unauthorized(type(exc).__name__) from exc
        keys = validator._jwks_client  # our EndorsedKeys (not a Slack client: named so for tests/runtime/test_manifest)
        if not keys.endorses(token.strip(), channel_id):
            raise Unauthorized("signing key does not endorse the activity's channel")
        return claims
