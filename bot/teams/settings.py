"""Teams' settings, read from the environment by the Teams platform (bot/teams/platform.py) and kept in
`Settings.platforms["teams"]`. Every endpoint defaults to Microsoft's public cloud and can be pointed elsewhere
(a sovereign cloud, or loopback fakes in the tests). The repr masks the app password.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

from bot.config import ConfigError, Settings, http_url
from bot.redact import secret
from commands.core.platforms import GUID

PUBLIC_OPENID_METADATA_URL = "https://login.botframework.com/v1/.well-known/openidconfiguration"
PUBLIC_TOKEN_ISSUER = "https://api.botframework.com"
PUBLIC_GRAPH_API_URL = "https://graph.microsoft.com/v1.0"
BOT_SCOPE = "https://api.botframework.com/.default"
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
# The SDK's switch that turns inbound token validation off; Oneday refuses to start while it is set.
UNSAFE_SWITCH = "DANGEROUSLY_ALLOW_UNAUTHENTICATED_REQUESTS"


def token_url_for(tenant: str | None) -> str:
    """Microsoft's client-credentials endpoint: the tenant's own (single-tenant bot) or botframework.com's."""
    return f"https://login.microsoftonline.com/{tenant or 'botframework.com'}/oauth2/v2.0/token"


@dataclass(frozen=True, repr=False)
class TeamsSettings:
    app_id: str | None = None  # TEAMS_APP_ID: the bot's Microsoft app id; the audience of inbound tokens
    app_password: str | None = None  # TEAMS_APP_PASSWORD: the client secret for outbound tokens
    tenant_id: str | None = None  # TEAMS_TENANT_ID: the Entra tenant (a GUID)
    openid_metadata_url: str = PUBLIC_OPENID_METADATA_URL  # TEAMS_OPENID_METADATA_URL
    token_issuer: str = PUBLIC_TOKEN_ISSUER  # TEAMS_TOKEN_ISSUER
    token_url: str | None = None  # TEAMS_TOKEN_URL; default token_url_for(tenant_id)
    graph_api_url: str = PUBLIC_GRAPH_API_URL  # GRAPH_API_URL
    unsafe_switch: str | None = None  # the value of DANGEROUSLY_ALLOW_UNAUTHENTICATED_REQUESTS, if set

    @property
    def outbound_token_url(self) -> str:
        return self.token_url or token_url_for(self.tenant_id)

    def __repr__(self) -> str:
        shown = [f"{f.name}={(secret(getattr(self, f.name)) if f.name == 'app_password' else getattr(self, f.name))!r}"
                 for f in fields(self)]
        return f"TeamsSettings({', '.join(shown)})"


def from_env(env: Mapping[str, str]) -> TeamsSettings:
    tenant = env.get("TEAMS_TENANT_ID") or None
    if tenant and not GUID.fullmatch(tenant):
        raise ConfigError("TEAMS_TENANT_ID", tenant, "must be an Entra tenant id (a GUID)",
                          "TEAMS_TENANT_ID=72f988bf-86f1-41af-91ab-2d7cd011db47")
    return TeamsSettings(
        app_id=env.get("TEAMS_APP_ID") or None,
        app_password=env.get("TEAMS_APP_PASSWORD") or None,
        tenant_id=tenant.lower() if tenant else None,
        openid_metadata_url=http_url(env, "TEAMS_OPENID_METADATA_URL", PUBLIC_OPENID_METADATA_URL)
        or PUBLIC_OPENID_METADATA_URL,
        token_issuer=env.get("TEAMS_TOKEN_ISSUER") or PUBLIC_TOKEN_ISSUER,
        token_url=http_url(env, "TEAMS_TOKEN_URL", token_url_for(None)),
        graph_api_url=(http_url(env, "GRAPH_API_URL", PUBLIC_GRAPH_API_URL) or PUBLIC_GRAPH_API_URL).rstrip("/"),
        unsafe_switch=env.get(UNSAFE_SWITCH) or None,
    )


def teams_settings(settings: Settings) -> TeamsSettings:
    """The Teams part of `settings` (all unset when the settings were made without it)."""
    found = settings.platforms.get("teams")
    return found if isinstance(found, TeamsSettings) else TeamsSettings()
